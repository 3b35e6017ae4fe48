"""Energy-based voice activity detection: where in a stretch of audio someone speaks.

A 25 ms frame is voiced when it is loud enough (above an absolute floor, and well above
the quiet frames around it, or not far below the loudest) and its spectrum is far from
flat (speech has formants and harmonics; hiss, hum-free noise and silence do not).
Voiced frames are joined across short gaps; a segment counts as speech when it lasts
long enough and its loudness moves like syllables do (steady noise barely moves).
Nothing here is trained: it is a simple, predictable gate in front of the detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fakelens.audio.features import HOP, N_FFT, SAMPLE_RATE, WIN, power_spectrum

ABS_FLOOR_DB = -50.0  # dBFS of a frame's mean power: quieter is silence
ABOVE_NOISE_DB = 10.0  # voiced frames stand this far above the quiet ones ...
BELOW_PEAK_DB = 35.0  # ... or are no further than this below the loudest
MAX_FLATNESS = 0.35  # spectral flatness of voiced frames (white noise: about 0.55)
MERGE_GAP_S = 0.3
MIN_SEGMENT_S = 0.4
MIN_ENERGY_SPREAD_DB = 3.0  # std of the frame loudness inside a speech segment
PAD_S = 0.1


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


BAND_HZ = (250.0, 4000.0)  # where speech carries its energy (hum and rumble are below)


@lru_cache(maxsize=1)
def _full_scale() -> float:
    """Band power of a full-scale 1 kHz sine's frame: the 0 dBFS reference."""
    t = np.arange(WIN) / SAMPLE_RATE
    return float(_band(power_spectrum(np.sin(2 * np.pi * 1000 * t).astype(np.float32)))
                 .sum(axis=1)[0])


def _band(power: np.ndarray) -> np.ndarray:
    lo, hi = (int(f * N_FFT / SAMPLE_RATE) for f in BAND_HZ)
    return power[:, lo:hi + 1]


def frame_stats(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms hop, in the speech band: loudness in dBFS and spectral flatness
    (0 tonal .. about 0.55 white)."""
    power = _band(power_spectrum(audio))
    total = power.sum(axis=1) + 1e-12
    db = 10.0 * np.log10(total / _full_scale())
    flat = np.exp(np.log(power + 1e-12).mean(axis=1)) / (total / power.shape[1])
    return db.astype(np.float32), flat.astype(np.float32)


def speech_segments(audio: np.ndarray, sample_rate: int = SAMPLE_RATE,
                    offset_s: float = 0.0) -> list[Segment]:
    """Speech segments of 16 kHz mono ``audio`` (times in seconds plus ``offset_s``)."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"speech_segments expects {SAMPLE_RATE} Hz audio")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size < sample_rate * MIN_SEGMENT_S or not np.isfinite(audio).all():
        return []
    db, flat = frame_stats(audio)
    noise = float(np.percentile(db, 10))
    peak = float(np.percentile(db, 99))
    level = max(ABS_FLOOR_DB, min(noise + ABOVE_NOISE_DB, peak - BELOW_PEAK_DB))
    voiced = (db > level) & (flat < MAX_FLATNESS)
    hop_s = HOP / sample_rate
    runs = _runs(voiced)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) * hop_s <= MERGE_GAP_S:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    total = len(db) * hop_s
    out = []
    for a, b in merged:
        if (b - a) * hop_s < MIN_SEGMENT_S:
            continue
        if float(np.std(db[a:b])) < MIN_ENERGY_SPREAD_DB:
            continue  # steady: a tone or noise, not syllables
        start = max(0.0, a * hop_s - PAD_S)
        end = min(total, b * hop_s + PAD_S)
        out.append(Segment(offset_s + start, offset_s + end))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a boolean array."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
