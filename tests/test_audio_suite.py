"""``fakelens eval --suite audio``: the re-encoded sets and the benchmark's table."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from fakelens.training.audio_suite import (
    AUDIO_SETS,
    MP3_BIT_RATE,
    read_audio,
    run_audio_suite,
    to_mp3,
    to_phone,
)

SR = 16_000


@pytest.fixture
def noise_wav(tmp_path) -> Path:
    """2 s of full-band noise (energy up to 8 kHz) as 16 kHz WAV."""
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(2 * SR) * 0.2).clip(-1, 1)
    path = tmp_path / "noise.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((audio * 32767).astype("<i2").tobytes())
    return path


def _band_shares(audio: np.ndarray) -> tuple[float, float]:
    """(share of energy below 200 Hz, share above 3,700 Hz) at 16 kHz."""
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1 / SR)
    return (float(power[freqs < 200].sum() / power.sum()),
            float(power[freqs > 3700].sum() / power.sum()))


def test_phone_version_is_narrowband_opus_and_decodes(noise_wav, tmp_path):
    original = read_audio(noise_wav)
    assert _band_shares(original)[1] > 0.4  # the source fills the band up to 8 kHz
    dst = to_phone(noise_wav, tmp_path / "a.ogg")
    with av.open(str(dst)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
    back = read_audio(dst)
    assert abs(back.size - original.size) < 0.05 * SR
    low, high = _band_shares(back)
    assert high < 0.01 and low < 0.03  # 8 kHz and 300-3,400 Hz: nothing outside the band
    assert float(np.sqrt(np.mean(back ** 2))) > 0.01  # the band itself came through
    # deterministic: the same bytes again (no random Ogg serial, no version tag)
    assert to_phone(noise_wav, tmp_path / "b.ogg").read_bytes() == dst.read_bytes()


def test_mp3_version_decodes_at_its_bit_rate(noise_wav, tmp_path):
    dst = to_mp3(noise_wav, tmp_path / "a.mp3")
    with av.open(str(dst)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name.startswith("mp3")
        assert stream.codec_context.bit_rate == MP3_BIT_RATE
    back = read_audio(dst)
    assert abs(back.size - 2 * SR) < 0.1 * SR
    assert to_mp3(noise_wav, tmp_path / "b.mp3").read_bytes() == dst.read_bytes()


@pytest.mark.realdata
def test_suite_scores_a_subset_and_writes_its_table(samples, tmp_path):
    out = tmp_path / "suite"
    report = run_audio_suite(samples, out, limit=10, cache=tmp_path / "media")
    names = [s.name for s in AUDIO_SETS]
    assert list(report["sets"]) == names == ["as-is", "phone", "mp3-64k"]
    saved = json.loads((out / "suite.json").read_text())
    assert saved["sets"].keys() == report["sets"].keys()
    for name in names:
        block = saved["sets"][name]["versions"]["fakelens-voice"]
        assert block["n"] == 10 and block["n_fake"] and block["n_real"]
        assert 0 <= block["auc"] <= 1 and len(block["auc_ci95"]) == 2
        assert block["per_method"]
    md = (out / "suite.md").read_text()
    for name in names:
        assert f"| {name} | " in md
    assert "never trained on" in md
    assert {"naturalspeech", "tacotron2"} <= set(report["generators"]["never_trained_on"])
    # the re-encoded clips were cached, one per clip and set
    assert len(list((tmp_path / "media").glob("phone-*/*.ogg"))) == 10
    assert len(list((tmp_path / "media").glob("mp3-64k-*/*.mp3"))) == 10


@pytest.mark.realdata
@pytest.mark.slow
def test_aasist_loads_strictly_and_calls_spoof_class_zero(samples):
    """The published AASIST weights fit the architecture written here, key for key."""
    pytest.importorskip("torch")
    import os

    weights = Path(os.environ.get("FAKELENS_MODEL_DIR", "")) / "aasist" / "AASIST.pth"
    if not weights.is_file():
        pytest.skip("no ../shared/models/aasist/AASIST.pth")
    from fakelens.models.architectures.aasist import NB_SAMP, load_aasist, pad, score_waveforms

    model = load_aasist(weights)
    assert sum(p.numel() for p in model.parameters()) == 297_866  # the paper's 297K
    clip = read_audio(samples / "audio" / "pub_0000.flac")
    padded = pad(clip)
    assert padded.size == NB_SAMP and np.array_equal(padded[:clip.size], clip)
    scores = score_waveforms(model, [clip, clip[: SR]])
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
