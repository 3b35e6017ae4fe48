"""The voice check: decoding every format, speech detection, damaged audio, long files,
the shipped voice detector, and audio through ``fakelens.analyze``."""

from __future__ import annotations

import csv
import json
import tracemalloc
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import numpy as np
import pytest

import fakelens
from fakelens.audio.decode import SAMPLE_RATE, AudioReader, decode_audio
from fakelens.audio.features import N_MELS, fixed_length, log_mel
from fakelens.audio.model import AudioModelConfig, load_voice_detector
from fakelens.audio.vad import speech_segments
from fakelens.errors import CorruptMedia, EmptyMedia, MediaNotFound, UnsupportedMedia
from fakelens.models.store import file_sha256
from fakelens.types import AudioStatus, Verdict

VOICE_DIR = Path(str(resources.files("fakelens") / "weights" / "voice"))

# (file name, container format, codec, encoder sample rate): every format the issue names
FORMATS = [
    ("clip.wav", "wav", "pcm_s16le", 16000),
    ("clip.flac", "flac", "flac", 16000),
    ("clip.mp3", "mp3", "libmp3lame", 22050),
    ("clip.m4a", "ipod", "aac", 44100),
    ("clip.aac", "adts", "aac", 16000),
    ("clip.ogg", "ogg", "libopus", 48000),  # this FFmpeg build has no Vorbis encoder
    ("clip.opus", "ogg", "libopus", 48000),
    ("clip.webm", "webm", "libopus", 48000),
]


def write_audio(path: Path, audio: np.ndarray, *, fmt: str, codec: str, rate: int,
                src_rate: int = SAMPLE_RATE, channels: int = 1, chunk: int = 160_000) -> Path:
    """Encode float32 mono ``audio`` (at ``src_rate``) with PyAV, chunk by chunk."""
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        pts = 0
        for i in range(0, audio.size, chunk):
            part = np.clip(audio[i:i + chunk], -1, 1).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(part[None], format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = src_rate, pts, Fraction(1, src_rate)
            pts += part.size
            for f in resampler.resample(frame):
                out.mux(stream.encode(f))
        for f in resampler.resample(None):
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
    return path


def speechlike(seconds: float, seed: int, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Voiced syllables: a harmonic series with a wandering pitch and formant-like
    colouring, switched on and off at a syllable rate, with pauses between words."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 110 + 40 * rng.random() + 15 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k * (1.5 if 3 <= k <= 6 else 1.0) for k in range(1, 25))
    syllables = np.clip(np.sin(2 * np.pi * (3.5 + rng.random()) * t), 0, None) ** 2
    words = (np.sin(2 * np.pi * 0.4 * t + rng.random() * 6) > -0.5).astype(float)
    out = voice * syllables * words
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


@pytest.fixture(scope="module")
def flac_clip(samples) -> Path:
    return samples / "audio" / "pub_0000.flac"


# -- decoding ------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "fmt", "codec", "rate"), FORMATS)
def test_every_format_decodes_to_16k_mono_float(flac_clip, tmp_path, name, fmt, codec, rate):
    source = decode_audio(flac_clip)
    path = write_audio(tmp_path / name, source, fmt=fmt, codec=codec, rate=rate)
    audio = decode_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    # codecs add a priming delay and pad the last frame: at most about 0.1 s either way
    assert abs(audio.size - source.size) < 0.1 * SAMPLE_RATE, (audio.size, source.size)
    assert np.isfinite(audio).all() and 0.3 < np.abs(audio).max() <= 1.01
    assert speech_segments(audio), "the speech survives the codec"
    if codec in ("pcm_s16le", "flac"):
        np.testing.assert_allclose(audio[:source.size], source, atol=1e-3)


@pytest.mark.parametrize("channels", [1, 2])
def test_stereo_and_other_rates_are_mixed_down_and_resampled(tmp_path, channels):
    audio = speechlike(3.0, seed=channels, rate=44100)
    path = write_audio(tmp_path / "x.wav", audio, fmt="wav", codec="pcm_s16le", rate=44100,
                       src_rate=44100, channels=channels)
    out = decode_audio(path)
    assert abs(out.size - 3 * SAMPLE_RATE) <= 16


def test_a_videos_soundtrack_is_decoded(tmp_path):
    path = tmp_path / "talk.mp4"
    audio = speechlike(2.0, seed=3)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream("aac", rate=SAMPLE_RATE)
        a.layout = "mono"
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=SAMPLE_RATE)
        frame = av.AudioFrame.from_ndarray(audio[None], format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for f in resampler.resample(frame) + resampler.resample(None):
            out.mux(a.encode(f))
        out.mux(a.encode(None))
    decoded = decode_audio(path)
    assert abs(decoded.size - audio.size) < 0.15 * SAMPLE_RATE  # AAC priming
    assert speech_segments(decoded)


def test_long_file_is_streamed_in_bounded_memory(tmp_path):
    """Ten minutes (9.6 M samples, 38 MB as float32) never sit in memory at once."""
    rng = np.random.default_rng(0)
    minutes = 10
    path = tmp_path / "long.flac"
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        for i in range(minutes * 6):  # 10 s at a time
            part = (0.1 * rng.standard_normal(10 * SAMPLE_RATE)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray((part * 32767).astype(np.int16)[None],
                                               format="s16", layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, i * part.size
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    reader = AudioReader(path, chunk_seconds=30)
    tracemalloc.start()
    total, biggest = 0, 0
    try:
        for chunk in reader:
            total += chunk.size
            biggest = max(biggest, chunk.size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == minutes * 60 * SAMPLE_RATE
    assert biggest == 30 * SAMPLE_RATE
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB"
    assert reader.truncated_at is None


# -- damaged and unusable input --------------------------------------------------------


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MediaNotFound):
        decode_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyMedia):
        decode_audio(tmp_path / "empty.wav")


def test_not_audio_is_unsupported(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("these are not the sounds you are looking for\n" * 20)
    with pytest.raises(UnsupportedMedia, match="notes.mp3"):
        decode_audio(path)


def test_video_without_audio_track_is_unsupported(tmp_path):
    from synthetic_media import write_video

    path = write_video(tmp_path / "silent.mp4", [np.zeros((48, 64, 3), np.uint8)] * 5)
    with pytest.raises(UnsupportedMedia, match="no audio track"):
        decode_audio(path)


@pytest.mark.parametrize("keep", [0.02, 0.1])
def test_truncated_header_is_corrupt(tmp_path, keep):
    good = write_audio(tmp_path / "good.flac", speechlike(2.0, 1), fmt="flac", codec="flac",
                       rate=SAMPLE_RATE)
    data = good.read_bytes()
    bad = tmp_path / "bad.flac"
    bad.write_bytes(data[:max(8, int(len(data) * keep))] if keep < 0.05 else
                    data[:4] + bytes(len(data) // 10))
    with pytest.raises((CorruptMedia, UnsupportedMedia)) as exc:
        decode_audio(bad)
    assert "bad.flac" in str(exc.value)


@pytest.mark.parametrize("seed", range(4))
def test_cut_or_damaged_audio_never_crashes(tmp_path, seed):
    """Any cut or scribbled-over file either decodes (what could be read, flagged when
    cut short) or raises a ``MediaError``; nothing else escapes."""
    rng = np.random.default_rng(seed)
    fmt, codec, name = [("mp3", "libmp3lame", "a.mp3"), ("ogg", "libopus", "a.ogg"),
                        ("wav", "pcm_s16le", "a.wav"), ("flac", "flac", "a.flac")][seed]
    good = write_audio(tmp_path / name, speechlike(4.0, seed), fmt=fmt, codec=codec,
                       rate=48000 if codec == "libopus" else SAMPLE_RATE)
    data = bytearray(good.read_bytes())
    data = data[:int(len(data) * rng.uniform(0.3, 0.9))]
    for pos in rng.integers(len(data) // 4, len(data), 20):
        data[pos] = int(rng.integers(0, 256))
    bad = tmp_path / f"bad-{name}"
    bad.write_bytes(bytes(data))
    try:
        audio = decode_audio(bad)
    except (CorruptMedia, UnsupportedMedia):
        return
    assert audio.size < 4 * SAMPLE_RATE + 4000 and np.isfinite(audio).all()


# -- speech detection ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", [0.001, 0.05, 0.5])
def test_noise_and_silence_hold_no_speech(seed, level):
    rng = np.random.default_rng(seed)
    n = 5 * SAMPLE_RATE
    white = rng.standard_normal(n)
    brown = np.cumsum(rng.standard_normal(n))
    brown = np.convolve(brown - brown.mean(), np.ones(50) / 50, mode="same")
    brown = brown - np.convolve(brown, np.ones(2000) / 2000, mode="same")  # no drift
    t = np.arange(n) / SAMPLE_RATE
    hum = np.sin(2 * np.pi * (50 + 20 * seed) * t)
    for noise in (white, brown, hum):
        x = (level * noise / np.abs(noise).max()).astype(np.float32)
        assert speech_segments(x) == [], (seed, level)
    assert speech_segments(np.zeros(n, np.float32)) == []


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", [0.02, 0.8])
def test_speechlike_sound_is_found_at_any_level(seed, level):
    x = speechlike(4.0, seed) * (level / 0.5)
    x += (0.002 * level * np.random.default_rng(seed).standard_normal(x.size)).astype(
        np.float32)
    segments = speech_segments(x)
    assert segments and sum(s.duration_s for s in segments) > 1.0
    assert all(0 <= s.start_s < s.end_s <= 4.0 + 1e-6 for s in segments)


@pytest.mark.realdata
def test_every_public_clip_holds_speech(samples):
    rows = list(csv.DictReader((samples / "audio" / "labels.csv").open()))
    for row in rows[::7]:
        assert speech_segments(decode_audio(samples / "audio" / row["file"])), row["file"]


def test_features_have_the_models_shape():
    x = fixed_length(speechlike(1.3, 0), 2 * SAMPLE_RATE)
    assert x.size == 2 * SAMPLE_RATE
    feats = log_mel(x)
    assert feats.shape == (N_MELS, 198) and feats.dtype == np.float32
    assert np.allclose(feats.mean(axis=1), 0, atol=1e-3)


# -- the shipped detector --------------------------------------------------------------


def test_shipped_voice_weights_match_their_config():
    configs = sorted(VOICE_DIR.glob("*.json"))
    assert configs, "the voice-clone detector ships in fakelens/weights/voice"
    for path in configs:
        cfg = AudioModelConfig.load(path)
        assert file_sha256(VOICE_DIR / cfg.graph) == cfg.sha256
        assert (VOICE_DIR / cfg.graph).stat().st_size <= 10 * 1024 * 1024
        assert cfg.task == "voice-clone" and cfg.metrics


def test_detector_scores_any_window_length_the_same_on_any_thread_count():
    x = speechlike(5.0, 7)
    one = load_voice_detector(threads=1)
    two = load_voice_detector(threads=2)
    windows = [w for _, w in one.windows(x)]
    assert len(windows) == 4
    p1, p2 = one.probs(windows), two.probs(windows)
    assert np.all((p1 >= 0) & (p1 <= 1))
    np.testing.assert_allclose(p1, p2, atol=1e-5)


@pytest.mark.realdata
@pytest.mark.slow
def test_shipped_detector_ranks_heldout_clones_above_real_speech(samples):
    """The test role (speakers never heard, generators held out) as the model card
    measured it: AUC clearly above chance."""
    from fakelens.audio import analyze_audio
    from fakelens.training.datasets import labelled_folder
    from fakelens.training.metrics import roc_auc
    from fakelens.training.splits import role_of

    items = [i for i in labelled_folder(samples / "audio") if role_of("audio", i) == "test"]
    labels, scores = [], []
    for item in items:
        result = analyze_audio(item.path)
        assert result.status is AudioStatus.ANALYSED, item.path
        labels.append(item.label)
        scores.append(result.score)
    assert len(items) > 100
    assert roc_auc(labels, scores) > 0.65


# -- through fakelens.analyze ----------------------------------------------------------


def test_audio_file_gets_a_voice_verdict(tmp_path, monkeypatch):
    monkeypatch.delenv("FAKELENS_WEIGHTS_DIR", raising=False)
    path = write_audio(tmp_path / "voice.mp3", speechlike(6.0, 2), fmt="mp3",
                       codec="libmp3lame", rate=SAMPLE_RATE)
    result = fakelens.analyze(path)
    assert result.media.kind == "audio" and result.tracks == []
    a = result.audio
    assert a.status is AudioStatus.ANALYSED and a.verdict in (
        Verdict.FAKE, Verdict.UNCERTAIN, Verdict.REAL)
    assert result.verdict is a.verdict and result.score == a.score
    assert a.windows and a.segments and a.speech_s > 1
    assert all(0 <= w.start_s < w.end_s <= 6.2 for w in a.windows)
    assert result.reason.startswith("Voice: Speech found")
    doc = json.loads(result.to_json())
    assert doc["schema_version"] == "1.8" and doc["audio"]["status"] == "analysed"


def test_voice_and_faces_combine(monkeypatch):
    from fakelens.analysis.pipeline import combine_with_voice
    from fakelens.types import AudioAnalysis

    def voice(verdict, score):
        return AudioAnalysis(status=AudioStatus.ANALYSED, verdict=verdict, score=score,
                             message="Speech found.")

    v, s, reason, by_voice = combine_with_voice(Verdict.REAL, 0.1, "faces.",
                                                voice(Verdict.FAKE, 0.9), False)
    assert (v, s, by_voice) == (Verdict.FAKE, 0.9, True)
    assert reason.startswith("Likely manipulated because of the voice")
    v, s, reason, by_voice = combine_with_voice(Verdict.FAKE, 0.8, "faces.",
                                                voice(Verdict.REAL, 0.1), False)
    assert (v, s, by_voice) == (Verdict.FAKE, 0.8, False)
    assert reason.startswith("Likely manipulated because of the faces.")
    v, *_ = combine_with_voice(Verdict.FAKE, 0.8, "f.", voice(Verdict.FAKE, 0.7), False)
    assert v is Verdict.FAKE
    v, s, _, by_voice = combine_with_voice(Verdict.NO_FACE, None, "No face.",
                                           voice(Verdict.REAL, 0.2), False)
    assert (v, s, by_voice) == (Verdict.REAL, 0.2, True)
    none = AudioAnalysis(status=AudioStatus.NO_SPEECH, message="No speech found.")
    assert combine_with_voice(Verdict.NO_FACE, None, "No face.", none, False)[0] \
        is Verdict.NO_FACE
    assert combine_with_voice(Verdict.NO_FACE, None, "", none, True)[0] is Verdict.NO_SPEECH
