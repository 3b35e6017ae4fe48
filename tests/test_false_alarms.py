"""Known false alarms: a model card says which kinds of REAL media its detector is known to
call manipulated (measured: docs/eval/synthetic-v2, real video frames saved as photos from
clips it never trained on), and a verdict that detector pushed up says so beside it (JSON
caveats, CLI, HTML/PDF report; the page: tests/web/test_trust.py shares the template with
the forum card)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import av
import pytest
from pydantic import ValidationError

from fakelens.analysis.caveats import false_alarms
from fakelens.models.pretrained import PretrainedConfig
from fakelens.types import Verdict

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "src" / "fakelens" / "weights" / "fakelens-synthetic.json"
VIDEO_FRAMES = "Real frames of videos saved as photos"
# benchmarks/video_frame_stills.py, both views, with the shipped detectors
MEASURED = [ROOT / "docs" / "eval" / "synthetic-v2" / f"{view}-v2.json"
            for view in ("frames", "replication")]


def real_stills() -> list[dict]:
    return [r for path in MEASURED for r in json.loads(path.read_text())
            if r["label"] == 0 and "fakelens-synthetic" in r["models"]]


def frame_still(video: Path, t: float, out: Path) -> Path:
    """The frame at ``t`` seconds of a real clip, saved as a JPEG photo (a screenshot)."""
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= t:
                frame.to_image().save(out, quality=95)
                return out
    raise AssertionError(f"{video} has no frame at {t} s")


@pytest.fixture(scope="module")
def screenshot(samples: Path, tmp_path_factory) -> Path:
    """A still of a real clip that the GAN-face detector scored highest in the
    measurement (called Likely manipulated): the case the card describes."""
    row = max((r for r in real_stills() if r["verdict"] == "FAKE"),
              key=lambda r: r["models"]["fakelens-synthetic"])
    return frame_still(samples / row["set"] / row["file"], row["t"],
                       tmp_path_factory.mktemp("still") / "screenshot.jpg")


@pytest.mark.parametrize("name", ["fakelens-synthetic", "fakelens-faceswap"])
def test_the_shipped_cards_carry_the_measured_false_alarms(name):
    """Each card's figure is its own detector's scores of the measured real stills, leaving
    out the clips it trained on (the face-swap detector: 5 dev clips)."""
    from fakelens.training.splits import DEV_VIDEOS_TRAIN

    card = json.loads((CARD.parent / f"{name}.json").read_text())
    (words, measured), = card["false_alarms_by_media"]["image"].items()
    assert words.startswith(VIDEO_FRAMES)
    trained = DEV_VIDEOS_TRAIN if name == "fakelens-faceswap" else set()
    rows = [r for r in real_stills() if not (r["set"] == "videos"
                                             and r["file"].rsplit(".", 1)[0] in trained)]
    high = sum(r["models"][name] >= card["threshold"] for r in rows)
    clips = len({(r["set"], r["file"]) for r in rows})
    assert f"it scored {high} of {len(rows)} such frames of {clips} real" in measured
    assert 0 < high  # why the card must say it (GAN-face v1: 120 of 146 on other clips)


@pytest.mark.parametrize(("change", "message"), [
    ({"false_alarms_by_media": {"video": {"x": "y"}}}, "does not score"),
    ({"false_alarms_by_media": {"image": {}}}, "is empty"),
])
def test_card_validation_refuses_bad_false_alarms(change, message):
    card = json.loads(CARD.read_text())
    with pytest.raises(ValidationError, match=message):
        PretrainedConfig.model_validate({**card, **change})


@pytest.mark.realdata
def test_a_screenshot_of_a_real_video_says_the_verdict_may_be_a_false_alarm(
        screenshot, model_dir, capsys):
    import fakelens
    from fakelens.cli import main

    a = fakelens.analyze(screenshot)
    assert a.verdict in (Verdict.FAKE, Verdict.UNCERTAIN)
    alarms = false_alarms(a)
    assert len(alarms) == 1 and alarms[0].startswith(VIDEO_FRAMES)
    assert "fakelens-synthetic scored" in alarms[0] and "may be a false alarm" in alarms[0]
    assert f"Known false alarm: {alarms[0]}" in a.caveats
    assert main(["detect", str(screenshot)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "known false alarm: " + VIDEO_FRAMES in out


@pytest.mark.realdata
def test_the_report_shows_the_false_alarm(screenshot, model_dir):
    from fakelens.analysis.pipeline import analyze_detailed
    from fakelens.reports.render import render_html

    page = html.unescape(render_html(analyze_detailed(screenshot)))
    assert "<b>Known false alarm:</b> " + VIDEO_FRAMES in page


@pytest.mark.realdata
def test_a_photo_the_detector_scores_low_gets_no_false_alarm(samples, model_dir):
    """Real portrait photos: Uncertain or not, the GAN-face detector scored them below the
    band, so its false alarms do not apply and are not shown."""
    import fakelens

    for photo in sorted((samples / "faces-real").glob("*.jpg"))[:3]:
        a = fakelens.analyze(photo)
        (track,) = a.tracks
        synthetic = next(m.score for m in track.model_scores
                         if m.model == "fakelens-synthetic")
        assert synthetic < a.uncertain_from
        assert false_alarms(a) == []
        assert not any(c.startswith("Known false alarm") for c in a.caveats)
