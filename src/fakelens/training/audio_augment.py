"""Augmentations of speech clips, applied to real and cloned clips alike.

The public clones were published as low-bit-rate MP3 while most real references were
WAV: a detector could learn "MP3 artefacts = fake". Every training clip, whatever its
label, is therefore re-encoded (MP3, Opus, AAC through PyAV), resampled, narrowed to the
telephone band, given noise and a random level, each with some probability, so a codec's
trace says nothing about the label.
"""

from __future__ import annotations

import io

import av
import numpy as np

SR = 16_000


def encode_decode(audio: np.ndarray, codec: str, bit_rate: int, rate: int = SR) -> np.ndarray:
    """``audio`` (float32 mono at ``rate``) through a lossy codec and back, at 16 kHz."""
    fmt, codec_name, enc_rate = {
        "mp3": ("mp3", "libmp3lame", rate if rate in (8000, 16000, 22050, 24000) else 16000),
        "opus": ("ogg", "libopus", 48000),
        "aac": ("adts", "aac", rate),
    }[codec]
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec_name, rate=enc_rate)
        stream.bit_rate = bit_rate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.clip(audio, -1, 1).astype(np.float32)[None],
                                           format="flt", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=enc_rate)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    pieces = []
    with av.open(buf, "r") as inp:
        back = av.AudioResampler(format="flt", layout="mono", rate=SR)
        for f in inp.decode(audio=0):
            pieces += [o.to_ndarray().reshape(-1) for o in back.resample(f)]
        pieces += [o.to_ndarray().reshape(-1) for o in back.resample(None)]
    return np.concatenate(pieces).astype(np.float32) if pieces else audio


def resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return audio
    frame = av.AudioFrame.from_ndarray(audio.astype(np.float32)[None], format="flt",
                                       layout="mono")
    frame.sample_rate = src
    r = av.AudioResampler(format="flt", layout="mono", rate=dst)
    out = [o.to_ndarray().reshape(-1) for o in r.resample(frame) + r.resample(None)]
    return np.concatenate(out).astype(np.float32)


def telephone(audio: np.ndarray) -> np.ndarray:
    """300-3,400 Hz at 8 kHz (a phone line), back at 16 kHz."""
    low = resample(audio, SR, 8000)
    spec = np.fft.rfft(low)
    freqs = np.fft.rfftfreq(low.size, 1 / 8000)
    spec[(freqs < 300) | (freqs > 3400)] = 0
    return resample(np.fft.irfft(spec, n=low.size).astype(np.float32), 8000, SR)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(audio.size).astype(np.float32)
    if rng.random() < 0.5:  # pink-ish: integrate white noise a little
        noise = np.convolve(noise, np.ones(4) / 2, mode="same").astype(np.float32)
    p_sig = float(np.mean(audio ** 2)) + 1e-10
    p_noise = float(np.mean(noise ** 2)) + 1e-10
    return audio + noise * np.sqrt(p_sig / p_noise / 10 ** (snr_db / 10))


def augment(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random degradation chain (the same distribution for every label)."""
    x = audio.astype(np.float32)
    if rng.random() < 0.3:
        rate = int(rng.choice([8000, 11025, 22050, 44100]))
        x = resample(resample(x, SR, rate), rate, SR)
    if rng.random() < 0.15:
        x = telephone(x)
    r = rng.random()
    if r < 0.35:
        x = encode_decode(x, "mp3", int(rng.choice([32000, 48000, 64000, 128000])))
    elif r < 0.55:
        x = encode_decode(x, "opus", int(rng.choice([12000, 16000, 24000, 32000])))
    elif r < 0.65:
        x = encode_decode(x, "aac", int(rng.choice([48000, 64000, 96000])))
    if rng.random() < 0.4:
        x = add_noise(x, float(rng.uniform(12, 40)), rng)
    gain_db = float(rng.uniform(-20, 0))
    peak = float(np.abs(x).max()) + 1e-9
    return (x / peak * 10 ** (gain_db / 20) * 0.89).astype(np.float32)
