"""End-to-end plumbing of analyze() on real clips with an untrained exported detector."""

from __future__ import annotations

import json

import jsonschema
import pytest

import fakelens
from fakelens.types import SCHEMA_VERSION, Analysis, Verdict

pytestmark = [pytest.mark.realdata, pytest.mark.train]


def test_analyze_video_end_to_end(videos, model_dir, tiny_detector):
    clip = videos / "ffpp_original_519.mp4"
    result = fakelens.analyze(clip, frames=12, model=tiny_detector)
    assert result.media.kind == "video"
    assert result.media.codec == "h264"
    assert result.frames_sampled == 12
    assert result.verdict in (Verdict.REAL, Verdict.FAKE, Verdict.UNCERTAIN)
    assert 0.0 <= result.score <= 1.0
    assert len(result.tracks) >= 1
    main = max(result.tracks, key=lambda t: len(t.frames))
    assert len(main.frames) >= 10  # one person, tracked through the clip
    times = [f.timestamp_s for f in main.frames]
    assert times == sorted(times)
    assert times[-1] > 0.8 * result.media.duration_s  # sampled across the whole video
    assert result.score == max(t.score for t in result.tracks if t.decisive)
    assert main.temporal_score is not None
    assert result.timings.total_s >= result.timings.model_s > 0
    assert result.models[0].name == "tiny-test"
    assert result.warnings == []  # a whole, healthy clip: nothing to warn about


def test_result_validates_against_its_schema(videos, model_dir, tiny_detector):
    result = fakelens.analyze(videos / "talking_head_d0.mp4", frames=4, model=tiny_detector)
    doc = json.loads(result.to_json())
    jsonschema.validate(doc, Analysis.model_json_schema())
    assert doc["schema_version"] == SCHEMA_VERSION
    # the caveats travel with the verdict: which detector decided, how good it is, the band
    assert "The verdict comes from tiny-test" in doc["caveats"][0]
    assert any("uncertain band" in line for line in doc["caveats"])
    assert doc["caveats"][-1].startswith("Evidence, not proof")


def test_image_end_to_end(face_image, model_dir, tiny_detector):
    result = fakelens.analyze(face_image, model=tiny_detector)
    assert result.media.kind == "image"
    assert result.frames_sampled == 1
    assert len(result.tracks) == 1
    assert result.sampling == "still"


def test_dense_mode_samples_per_second(videos, model_dir, tiny_detector):
    result = fakelens.analyze(videos / "hdtf_WDA_KatieHill_000.mp4", frames_per_second=2,
                              model=tiny_detector)
    assert result.frames_sampled == round(result.media.duration_s * 2)
