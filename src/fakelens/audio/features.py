"""Log-mel spectrogram features in numpy (no torch, no librosa at run time).

25 ms Hann windows every 10 ms, 512-point FFT, 64 mel bands from 20 to 7,600 Hz,
natural log of the power plus a floor, then each band's mean over the window removed
(cepstral-mean-style normalisation: a fixed channel colour, microphone or codec EQ,
shifts every frame alike and is taken out).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
WIN = 400
HOP = 160
N_FFT = 512
N_MELS = 64
F_MIN = 20.0
F_MAX = 7_600.0
LOG_FLOOR = 1e-6


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=4)
def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                   f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] triangular filters (HTK mel scale, area-normalised)."""
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lower) / (centre - lower)
    down = (upper - freqs[None]) / (upper - centre)
    bank = np.maximum(0.0, np.minimum(up, down))
    bank *= (2.0 / (upper - lower))  # equal area: a flat spectrum gives flat bands
    return bank.astype(np.float32)


def frame_signal(audio: np.ndarray, win: int = WIN, hop: int = HOP) -> np.ndarray:
    """[n_frames, win] overlapping frames (zero-padded to at least one frame; a view)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size < win:
        audio = np.pad(audio, (0, win - audio.size))
    n = 1 + (audio.size - win) // hop
    return np.lib.stride_tricks.as_strided(
        audio, shape=(n, win), strides=(audio.strides[0] * hop, audio.strides[0]),
        writeable=False)


@lru_cache(maxsize=2)
def _window(win: int) -> np.ndarray:
    return np.hanning(win + 1)[:-1].astype(np.float32)


def power_spectrum(audio: np.ndarray) -> np.ndarray:
    """[n_frames, N_FFT // 2 + 1] power of each Hann-windowed frame."""
    frames = frame_signal(audio) * _window(WIN)
    spec = np.fft.rfft(frames, n=N_FFT, axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def log_mel(audio: np.ndarray, normalise: bool = True) -> np.ndarray:
    """[N_MELS, n_frames] float32 log-mel spectrogram of 16 kHz mono audio."""
    mel = power_spectrum(audio) @ mel_filterbank().T
    feats = np.log(mel + LOG_FLOOR).T.astype(np.float32)
    if normalise:
        feats -= feats.mean(axis=1, keepdims=True)
    return feats


def fixed_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Repeat-pad (as AASIST does) or cut to exactly ``n_samples``."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        return np.zeros(n_samples, np.float32)
    if audio.size < n_samples:
        audio = np.tile(audio, int(np.ceil(n_samples / audio.size)))
    return audio[:n_samples]
