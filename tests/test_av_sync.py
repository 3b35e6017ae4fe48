"""The audio-visual sync experiment (benchmarks/av_sync.py) measures what it says: the
lag at which a mouth signal follows a soundtrack, and speech-band energy read at each
frame's own time. Its figures (docs/eval/av_sync.txt) are a recorded negative result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scriptmodules import loaded_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    with loaded_script("benchmarks/av_sync.py") as module:
        yield module


def test_the_correlation_peaks_at_the_lag_the_audio_follows_the_mouth(bench):
    rng = np.random.default_rng(3)
    mouth = np.convolve(rng.normal(size=200), np.ones(3) / 3, mode="same")
    for shift in (-4, 0, 3):
        audio = np.roll(mouth, shift) + 0.1 * rng.normal(size=200)
        corr = bench.lagged_correlations(mouth, audio, 10)
        assert max(corr, key=corr.get) == shift
        assert corr[shift] > 0.9


def test_frames_without_a_face_are_left_out_not_counted_as_closed_mouths(bench):
    rng = np.random.default_rng(4)
    mouth = rng.normal(size=120)
    audio = mouth.copy()
    mouth[::5] = np.nan
    corr = bench.lagged_correlations(mouth, audio, 2)
    assert corr[0] == pytest.approx(1.0)


def test_speech_band_energy_is_read_at_each_frames_time(bench):
    rate = bench.SAMPLE_RATE
    t = np.arange(2 * rate) / rate
    audio = np.where(t >= 1.0, np.sin(2 * np.pi * 1000 * t), 0.0).astype(np.float32)
    times = np.arange(0.1, 1.9, 0.04)
    energy = bench.speech_energy(audio, times, 0.04)
    assert energy[times < 0.95].max() < energy[times > 1.05].min() - 10
