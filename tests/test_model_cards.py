"""Model cards carry their measured accuracy per kind of media (``metrics_by_media``), and
every "How reliable" statement shows the figures of the kind analysed: a still photo its
detector's still-photo figures, a video its video figures, and where the card has none for
that kind, a sentence that says so (never the other kind's figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from scriptmodules import loaded_script

from fakelens.analysis.caveats import caveat_lines, verdict_caveats
from fakelens.models.pretrained import PretrainedConfig
from fakelens.models.registry import DEFAULT_DETECTORS, get_detector
from fakelens.types import (
    Analysis,
    Box,
    FrameScore,
    MediaInfo,
    ModelInfo,
    ModelScore,
    StageTimings,
    Track,
    Verdict,
)

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "fakelens" / "weights"
# videos and photos have their own face-swap detector (E8, docs/training-log.md)
VIDEO, SWAP, SYNTH = DEFAULT_DETECTORS
NO_STILL_FIGURES = "No measured accuracy on still photos for this detector."


def card(**changes) -> dict:
    """The shipped photo face-swap card, made to score both kinds unless ``changes`` say."""
    doc = json.loads((WEIGHTS / f"{SWAP}.json").read_text())
    doc["applies_to"] = ["video", "image"]
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def weights_with(tmp_path: Path, changes: dict[str, dict]) -> Path:
    """A weights folder holding the shipped detectors, their cards changed by
    ``changes`` (detector name -> fields)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for detector in DEFAULT_DETECTORS:
        doc = {**json.loads((WEIGHTS / f"{detector}.json").read_text()),
               **changes.get(detector, {})}
        (folder / f"{detector}.json").write_text(json.dumps(doc))
        (folder / doc["frame_graph"]).symlink_to(WEIGHTS / doc["frame_graph"])
    return folder


def result(kind: str, swap: float = 0.2, synth: float = 0.05) -> Analysis:
    """A result of the shipped detectors on a photo or a video, the face-swap one of that
    kind deciding."""
    n = 4 if kind == "video" else 1
    deciding = VIDEO if kind == "video" else SWAP
    frames = [FrameScore(frame_index=i, timestamp_s=i * 0.5, box=Box(x=0, y=0, w=150, h=150),
                         landmarks=[], detector_confidence=0.9, score=swap) for i in range(n)]
    scores = [ModelScore(model=deciding, score=swap)]
    names = [deciding]
    if kind == "image":
        scores.append(ModelScore(model=SYNTH, score=synth))
        names.append(SYNTH)
    track = Track(track_id=0, frames=frames, frame_score=swap, model_scores=scores,
                  score=swap, decisive=True)
    return Analysis(
        fakelens_version="0.1.0", verdict=Verdict.UNCERTAIN, score=swap, threshold=0.5,
        uncertain_band=0.1, uncertain_from=0.09, reason="numbers", tracks=[track],
        media=MediaInfo(path="clip.mp4" if kind == "video" else "photo.jpg", kind=kind,
                        format="mp4" if kind == "video" else "jpeg", size_bytes=1000,
                        sha256="ab" * 32, width=640, height=360,
                        duration_s=2.0 if kind == "video" else None),
        models=[ModelInfo(name=m, version="1", task="t", threshold=0.5) for m in names],
        face_detector="yunet", frames_sampled=n, sampling="even", timings=StageTimings(),
        created_at="2026-12-06T00:00:00+00:00")


# the card schema

def test_a_card_gives_each_kind_of_media_its_own_figures():
    cfg = PretrainedConfig.model_validate(card(metrics_by_media={
        "video": {"video AUC": "0.8 [0.6, 0.9] (n=20)"},
        "image": {"still AUC": "0.7 [0.6, 0.8] (n=55)"}}))
    assert cfg.accuracy_on("video").figures == {"video AUC": "0.8 [0.6, 0.9] (n=20)"}
    assert cfg.accuracy_on("image").figures == {"still AUC": "0.7 [0.6, 0.8] (n=55)"}
    assert [a.heading for a in cfg.accuracy_by_media()] == ["On videos", "On still photos"]


def test_a_kind_without_figures_is_said_in_words():
    cfg = PretrainedConfig.model_validate(card(metrics_by_media={"video": {"AUC": "0.8"}}))
    still = cfg.accuracy_on("image")
    assert still.figures == {} and still.missing == NO_STILL_FIGURES
    synthetic = get_detector(SYNTH).config  # scores stills only
    video = synthetic.accuracy_on("video")
    assert not video.figures and "does not score videos" in video.missing
    assert synthetic.accuracy_on("image").figures


@pytest.mark.parametrize("changes, words", [
    ({"metrics_by_media": {"video": {"AUC": "0.8"}}, "metrics": {"AUC": "0.8"}}, "not both"),
    ({"metrics_by_media": {"image": {}}}, "is empty"),
    ({"metrics_by_media": {"audio": {"AUC": "0.8"}}}, "metrics_by_media.audio"),
    ({"metrics_by_media": {"video": {"AUC": "0.8"}}, "applies_to": ["image"]},
     "does not score"),
    ({"metrics_by_media": {"video": {"AUC": 0.8}}}, "string"),
])
def test_card_validation_refuses_a_bad_figure_list(changes, words):
    with pytest.raises(ValidationError) as caught:
        PretrainedConfig.model_validate(card(**changes))
    assert words in str(caught.value)


def test_an_older_card_with_one_list_still_loads():
    """Before metrics_by_media: a detector of one kind measured its figures on that kind;
    one of several kinds does not say which, and every result says so."""
    older = card(metrics_by_media=None, metrics={"AUC": "0.75 [0.6, 0.9] (n=55)"})
    both = PretrainedConfig.model_validate(older)
    acc = both.accuracy_on("image")
    assert acc.figures == {"AUC": "0.75 [0.6, 0.9] (n=55)"} and not acc.stated
    assert len(both.accuracy_by_media()) == 1  # listed once, not under each kind
    stills = PretrainedConfig.model_validate({**older, "applies_to": ["image"],
                                              "missed_by_media": {}})
    assert stills.accuracy_on("image").stated and not stills.accuracy_on("video").figures
    assert PretrainedConfig.model_validate(card(metrics_by_media=None)).accuracy_on(
        "video").missing == "No measured accuracy on videos for this detector."


@pytest.fixture(scope="module")
def record():
    with loaded_script("scripts/record_metrics.py") as module:
        yield module


def test_the_shipped_cards_hold_what_docs_eval_measured(record):
    """The figures in the shipped cards are the ones scripts/record_metrics.py derives from
    the reports in docs/eval (no figure typed by hand), photos and videos apart."""
    for name, by_media in record.figures().items():
        assert dict(get_detector(name).config.metrics_by_media) == by_media, name
    video = get_detector(VIDEO).config.accuracy_on("video").figures
    still = get_detector(SWAP).config.accuracy_on("image").figures
    assert video and still and not set(video.values()) & set(still.values())
    assert any("real photos" in label for label in still)  # false alarms on real photos
    assert "does not score videos" in get_detector(SWAP).config.accuracy_on("video").missing
    assert "does not score still photos" in \
        get_detector(VIDEO).config.accuracy_on("image").missing


# the blind spots, per kind of media

VIDEO_ONLY = "Measured on videos: this detector's blind spots were not measured on still photos."


def test_a_card_gives_each_kind_of_media_its_own_blind_spots():
    cfg = PretrainedConfig.model_validate(card(missed_by_media={
        "video": {"Talking heads": "AUC 0.64"}, "image": {"Photo swaps": "AUC 0.75"}}))
    assert cfg.blind_spots_on("video").spots == {"Talking heads": "AUC 0.64"}
    assert cfg.blind_spots_on("image").spots == {"Photo swaps": "AUC 0.75"}
    assert not cfg.blind_spots_on("image").note
    assert [b.heading for b in cfg.blind_spots_by_media()] == ["On videos", "On still photos"]
    video_only = PretrainedConfig.model_validate(card(missed_by_media={
        "video": {"Talking heads": "AUC 0.64"}}))
    on_photo = video_only.blind_spots_on("image")  # the video ones, saying so
    assert on_photo.spots == {"Talking heads": "AUC 0.64"} and on_photo.note == VIDEO_ONLY


def test_an_older_card_with_one_missed_list_still_loads():
    older = card(missed_by_media=None, missed={"Talking heads": "AUC 0.64"})
    cfg = PretrainedConfig.model_validate(older)
    spots = cfg.blind_spots_on("image")
    assert spots.spots == {"Talking heads": "AUC 0.64"} and spots.measured_on is None
    assert spots.note == ("The model card does not say which kind of media this was "
                          "measured on.")
    assert len(cfg.blind_spots_by_media()) == 1  # listed once, not under each kind
    one_kind = PretrainedConfig.model_validate({**older, "applies_to": ["video"],
                                                "metrics_by_media": {},
                                                "false_alarms_by_media": {}})
    assert one_kind.blind_spots_on("video").measured_on == "video"
    assert not one_kind.blind_spots_on("video").note
    none = PretrainedConfig.model_validate(card(missed_by_media=None))
    assert none.blind_spots_on("image").spots == {} and none.blind_spots_by_media() == []


@pytest.mark.parametrize("changes, words", [
    ({"missed_by_media": {"video": {"x": "y"}}, "missed": {"x": "y"}}, "not both"),
    ({"missed_by_media": {"image": {}}}, "is empty"),
    ({"missed_by_media": {"audio": {"x": "y"}}}, "missed_by_media.audio"),
    ({"missed_by_media": {"video": {"x": "y"}}, "applies_to": ["image"],
      "metrics_by_media": {}}, "does not score"),
])
def test_card_validation_refuses_bad_blind_spots(changes, words):
    with pytest.raises(ValidationError) as caught:
        PretrainedConfig.model_validate(card(**changes))
    assert words in str(caught.value)


def test_the_shipped_blind_spots_are_what_docs_eval_measured(record):
    swap, video = get_detector(SWAP).config, get_detector(VIDEO).config
    assert dict(swap.missed_by_media) == record.missed_by_media() and not swap.missed
    assert set(swap.missed_by_media) == {"image"}
    suite = json.loads((ROOT / "docs" / "eval" / "suite" / "suite.json").read_text())
    assert dict(video.missed_by_media) == {"video": record.missed_on_video(suite,
                                                                         record.ROTATION)}
    assert video.uncertain_from == record._uncertain_from(suite, record.compressed_suite())


def test_models_list_shows_the_blind_spots_per_kind_of_media(capsys):
    from fakelens.cli import main

    assert main(["models", "list"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in (VIDEO, SWAP):
        listed = out[out.index(name):]
        for spots in get_detector(name).config.blind_spots_by_media():
            block = listed[listed.index(f"{spots.heading}, often misses"):]
            for kind, what in spots.spots.items():
                assert f"blind spot: {kind} ({what})" in block[:2000]


def test_a_photo_shows_the_blind_spots_of_photos_and_a_video_of_videos(tmp_path, monkeypatch):
    spots_of = {"image": (SWAP, get_detector(SWAP).config.missed_by_media["image"]),
                "video": (VIDEO, get_detector(VIDEO).config.missed_by_media["video"])}
    for kind, other in (("image", "video"), ("video", "image")):
        lines = [x for x in caveat_lines(result(kind)) if x.startswith("Blind spot:")]
        (name, mine), (_, theirs) = spots_of[kind], spots_of[other]
        assert all(any(f"{k}: {name} often misses these ({v})." in x for x in lines)
                   for k, v in mine.items()), lines
        assert not any(k in x for k in theirs for x in lines)
    video = dict(spots_of["video"][1])  # a card of both kinds without photo blind spots
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights_with(
        tmp_path, {SWAP: {"missed_by_media": {"video": video},
                          "applies_to": ["video", "image"]}})))
    spots = verdict_caveats(result("image")).blind_spots
    assert spots and all(s.endswith(VIDEO_ONLY) for s in spots if SWAP in s)
    assert all(any(k in s for s in spots) for k in video)
    assert not any(VIDEO_ONLY in s for s in verdict_caveats(result("video")).blind_spots)


# the "How reliable" statement

def test_a_photo_and_a_video_get_their_own_figures():
    video = get_detector(VIDEO).config.accuracy_on("video").figures
    still = get_detector(SWAP).config.accuracy_on("image").figures
    for kind, name, mine, other in (("image", SWAP, still, video),
                                    ("video", VIDEO, video, still)):
        c = verdict_caveats(result(kind))
        assert c.deciding.name == name and c.deciding.metrics == mine
        assert c.deciding.media == kind and not c.deciding.metrics_note
        first = caveat_lines(result(kind))[0]
        words = "still photos" if kind == "image" else "videos"
        assert f"its measured accuracy on {words} (model card" in first
        assert all(f in first for f in mine.values())
        assert not any(f in first for f in other.values())


def test_a_card_without_still_figures_says_so(tmp_path, monkeypatch):
    video = get_detector(VIDEO).config.accuracy_on("video").figures
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights_with(
        tmp_path, {SWAP: {"metrics_by_media": {"video": video},
                          "applies_to": ["video", "image"]}})))
    c = verdict_caveats(result("image"))
    assert c.deciding.name == SWAP and c.deciding.metrics == {}
    assert c.deciding.metrics_note == NO_STILL_FIGURES
    lines = caveat_lines(result("image"))
    assert lines[0] == f"The verdict comes from {SWAP} 1. {NO_STILL_FIGURES}"
    assert not any(f in line for f in video.values() for line in lines)
    assert verdict_caveats(result("video")).deciding.metrics == video  # videos unchanged


# the reports and the CLI, on real media through the shipped detectors

@pytest.fixture(scope="module")
def photo_and_video(samples, model_dir):
    from fakelens.analysis.pipeline import analyze_detailed

    photo = sorted((samples / "gan-faces" / "real").glob("*.jpg"))[0]
    return (analyze_detailed(photo),
            analyze_detailed(samples / "videos" / "ffpp_original_004.mp4", frames=4,
                             check_voice=False))


@pytest.mark.realdata
@pytest.mark.slow
def test_reports_show_the_figures_of_the_media_analysed(photo_and_video, tmp_path,
                                                       monkeypatch):
    from fakelens.reports import write_report

    figures = {"image": get_detector(SWAP).config.accuracy_on("image").figures,
               "video": get_detector(VIDEO).config.accuracy_on("video").figures}
    for detailed in photo_and_video:
        kind = detailed.analysis.media.kind
        c = verdict_caveats(detailed.analysis)
        html = write_report(detailed, tmp_path / f"{kind}.html").read_text()
        block = html[html.index("<b>How reliable:</b>"):]
        block = block[:block.index("</p>")]
        mine, other = figures[kind], figures["video" if kind == "image" else "image"]
        if c.deciding.name in (SWAP, VIDEO):
            assert all(f"{k}: {v}" in block for k, v in mine.items()), block
        assert not any(v in block for v in other.values()), block
        words = "still photos" if kind == "image" else "videos"
        assert f"Measured accuracy on {words}" in block
        models = html[html.index("<h2>Models</h2>"):]
        assert not any(v in models for v in other.values())

    # neither card has still-photo figures: the report says so, whichever detector decided
    photo = photo_and_video[0]
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights_with(tmp_path, {
        SWAP: {"metrics_by_media": {}}, SYNTH: {"metrics_by_media": {}}})))
    html = write_report(photo, tmp_path / "no-still-figures.html").read_text()
    block = html[html.index("<b>How reliable:</b>"):]
    assert NO_STILL_FIGURES in block[:block.index("</p>")]
    assert not any(v in html for v in figures["video"].values())


@pytest.mark.realdata
@pytest.mark.slow
def test_cli_says_how_reliable_for_the_media_kind(samples, model_dir, capsys):
    from fakelens.cli import main

    photo = sorted((samples / "gan-faces" / "real").glob("*.jpg"))[0]
    assert main(["detect", str(photo)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "how reliable: The verdict comes from" in out
    assert "REAL" not in out  # the verdict in words, never the enum as a claim
    deciding = next(n for n in DEFAULT_DETECTORS if f"comes from {n} " in out)
    figures = get_detector(deciding).config.accuracy_on("image").figures
    assert "on still photos" in out
    assert all(" ".join(v.split()) in out for v in figures.values())
    video = get_detector(VIDEO).config.accuracy_on("video").figures
    assert not any(v in out for v in video.values())


def test_a_card_that_fails_validation_is_skipped_with_a_warning(tmp_path, monkeypatch, caplog):
    """A hand-edited card that no longer validates (here: still-photo figures on a card
    that scores videos only) must not vanish from the defaults without a word."""
    from fakelens.models.registry import installed_detectors

    folder = weights_with(tmp_path, {SWAP: {"applies_to": ["video"]}})
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(folder))
    with caplog.at_level("WARNING", logger="fakelens.models.registry"):
        installed = installed_detectors()
    assert SWAP not in installed and VIDEO in installed and SYNTH in installed
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"{SWAP}.json is not a valid detector config, skipped" in warning
    assert "does not score (applies_to: video)" in warning
