"""Reports: heatmaps, plots and the HTML / PDF / JSON files, for a video with one face, a
still with one and with three faces, and a still without a face."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

from fakelens.analysis.caveats import media_warnings, verdict_label
from fakelens.errors import FakeLensError, ReportError
from fakelens.reports import explain, plots, report_format, write_report
from fakelens.types import Analysis, Verdict

DATA_URI = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"')


@pytest.fixture(scope="session")
def imagenet_weights_dir(tmp_path_factory, model_dir) -> Path:
    """Like ``tiny_detector``, but the untrained head sits on the ImageNet MobileNetV2
    backbone from ``model_dir/torch``: real features, so activation maps vary across a face
    (the fully random backbone saturates and gives constant maps)."""
    pytest.importorskip("torch")
    from detectors import export_untrained

    torch_home = model_dir / "torch"
    if not (torch_home / "hub" / "checkpoints" / "mobilenet_v2-b0353104.pth").is_file():
        pytest.fail(f"{torch_home} holds no ImageNet MobileNetV2 checkpoint")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(torch_home))
        return export_untrained(tmp_path_factory.mktemp("imagenet-weights"),
                                "imagenet-head-test", input_size=96, pretrained=True)


@pytest.fixture
def imagenet_detector(imagenet_weights_dir: Path, monkeypatch) -> str:
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(imagenet_weights_dir))
    return "imagenet-head-test"


def _pdf_pages(pdf: Path, out: Path) -> list[Path]:
    """The PDF rendered to one PNG per page with pdftoppm."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils")
    folder = out / f"{pdf.stem}-pages"
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def _pdf_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf),
                           "-"], check=True, capture_output=True, text=True).stdout


def _check_reports(detailed, tmp_path: Path, name: str) -> tuple[str, list[Path]]:
    """Writes all three formats and checks what every report must hold; returns the HTML
    and the PDF's pages."""
    a = detailed.analysis
    html_path = write_report(detailed, tmp_path / f"{name}.html")
    html = html_path.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    assert not re.search(r'src="(?!data:)', html)
    label = verdict_label(a.verdict)  # the wording of the web pages and the forum
    for text in (label, a.media.sha256, Path(a.media.path).name, "Limitations",
                 f"fakelens {a.fakelens_version}", a.created_at, "Uncertain",
                 "Evidence, not proof"):
        assert text in html

    pdf = write_report(detailed, tmp_path / f"{name}.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _pdf_pages(pdf, tmp_path)
    assert 1 <= len(pages) <= 6
    with Image.open(pages[0]) as first:
        assert first.width < first.height  # A4 portrait
    page1 = _pdf_text(pdf, 1)
    assert label in page1 and f"Score {'none' if a.score is None else f'{a.score:.2f}'}" in page1
    assert f"Page 1 of {len(pages)}" in page1
    assert f"Page {len(pages)} of {len(pages)}" in _pdf_text(pdf, len(pages))

    assert ("About this file:" in html) == bool(media_warnings(a))  # compression, tiny

    doc = json.loads(write_report(detailed, tmp_path / f"{name}.json").read_text())
    jsonschema.validate(doc, Analysis.model_json_schema())
    assert Analysis.model_validate(doc) == a
    return html, pages


def test_heatmap_and_overlay_follow_the_cam():
    cam = np.array([[-3.0, 0.0], [0.0, 3.0]], np.float32)
    crop = np.full((64, 48, 3), 128, np.uint8)
    heat = explain.heatmap(cam, crop.shape[:2])
    assert heat.shape == (64, 48)
    assert heat[0, 0] < 0.1 and heat[-1, -1] > 0.9 and 0.0 <= heat.min() <= heat.max() <= 1.0
    over = explain.overlay(crop, heat, threshold=0.5)
    assert over.shape == crop.shape and over.dtype == np.uint8
    r, _, b = over[-1, -1].astype(int)
    assert r > b + 40  # towards fake: red
    r, _, b = over[0, 0].astype(int)
    assert b > r + 40  # towards real: blue
    assert abs(int(over[32, 24, 0]) - 128) < 20  # neutral cells stay nearly clear


def test_unknown_report_suffix_is_a_clear_error(tmp_path):
    for name in ("report.docx", "report"):
        with pytest.raises(ReportError, match=r"\.html, \.pdf or \.json"):
            report_format(tmp_path / name)
    assert issubclass(ReportError, FakeLensError)
    assert report_format("R.PDF") == "pdf" and report_format("r.htm") == "html"


@pytest.mark.realdata
@pytest.mark.train
def test_video_report_with_one_face(videos, model_dir, imagenet_detector, tmp_path):
    from fakelens.analysis.pipeline import analyze_detailed

    detailed = analyze_detailed(videos / "ffpp_deepfakes_519_515.mp4", frames=8,
                                model=imagenet_detector)
    a = detailed.analysis
    assert a.media.kind == "video" and len(a.tracks) >= 1
    for tr in a.tracks:
        ev = detailed.evidence[tr.track_id]
        assert len(ev.crops) == len(ev.cams) == len(tr.frames)
        picks = explain.suspicious_frames(tr, 3)
        assert len(picks) == min(3, len(tr.frames))
        assert sorted(tr.frames[i].score for i in picks) == sorted(
            f.score for f in tr.frames)[-len(picks):]
        for i in picks:
            crop, cam = ev.crops[i], ev.cams[i]
            # a single detector: the CAM's mean is the frame logit behind the score
            assert 1 / (1 + np.exp(-float(cam.mean()))) == pytest.approx(tr.frames[i].score,
                                                                         abs=1e-4)
            heat = explain.heatmap(cam, crop.shape[:2])
            assert heat.shape == crop.shape[:2]
            assert np.ptp(heat) > 0  # not constant
            assert explain.overlay(crop, heat, a.threshold).shape == crop.shape

    html, _ = _check_reports(detailed, tmp_path, "video")
    n_tracks = len(a.tracks)
    # contact sheet + distribution + per track: timeline and 3 crop/heatmap pairs
    assert len(DATA_URI.findall(html)) >= 2 + n_tracks * 3
    assert "Face 1" in html and "Score distribution per face" in html

    media = a.media.model_copy(update={"bits_per_pixel": 0.004})  # a messenger re-encode
    squeezed = dataclasses.replace(detailed, analysis=a.model_copy(update={"media": media}))
    html, pages = _check_reports(squeezed, tmp_path, "squeezed")
    assert "0.004 bits per pixel" in html
    assert "heavily compressed" in _pdf_text(tmp_path / "squeezed.pdf", 1)

    tr = a.tracks[0]
    sentence = explain.track_sentence(tr, a.band, True, a.frames_sampled)
    assert f"{tr.score:.2f}" in sentence and f"in {len(tr.frames)} of 8 analysed" in sentence
    png = plots.timeline(a.tracks, a.band, duration_s=a.media.duration_s)
    svg = plots.distribution(a.tracks, a.band, fmt="svg")
    assert png.startswith(b"\x89PNG") and svg.lstrip().startswith(b"<?xml")


@pytest.mark.realdata
@pytest.mark.train
def test_image_report_with_one_face(face_image, model_dir, tiny_detector, tmp_path):
    from fakelens.analysis.pipeline import analyze_detailed

    detailed = analyze_detailed(face_image, model=tiny_detector)
    assert len(detailed.analysis.tracks) == 1
    html, _ = _check_reports(detailed, tmp_path, "image")
    assert "Score distribution" not in html  # a still has no frame series
    assert "still image" in html and len(DATA_URI.findall(html)) == 2  # crop + heatmap


@pytest.mark.realdata
@pytest.mark.train
def test_image_report_with_three_faces(samples, model_dir, imagenet_detector, tmp_path):
    from fakelens.analysis.pipeline import analyze_detailed

    canvas = Image.new("RGB", (900, 400), (200, 200, 200))
    for i, face in enumerate(sorted((samples / "faces-real").glob("*.jpg"))[:3]):
        with Image.open(face) as img:
            canvas.paste(img.convert("RGB"), (50 + 290 * i, 100))
    canvas.save(tmp_path / "three-faces.png")
    detailed = analyze_detailed(tmp_path / "three-faces.png", model=imagenet_detector)
    a = detailed.analysis
    assert len(a.tracks) == 3
    html, _ = _check_reports(detailed, tmp_path, "three")
    for n in (1, 2, 3):
        assert f"Face {n} scored" in html
    assert "3 faces found" in html and "Faces found" in html  # contact sheet
    assert len(DATA_URI.findall(html)) == 1 + 3 * 2
    for tr in a.tracks:
        ev = detailed.evidence[tr.track_id]
        heat = explain.heatmap(ev.cams[0], ev.crops[0].shape[:2])
        assert heat.shape == ev.crops[0].shape[:2] and np.ptp(heat) > 0


@pytest.mark.realdata
@pytest.mark.train
def test_no_face_report(model_dir, tiny_detector, tmp_path, caplog):
    from fakelens.analysis.pipeline import analyze_detailed

    ramp = np.linspace(0, 255, 320, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(ramp, (240, 1))] * 3, axis=-1)).save(tmp_path / "g.png")
    detailed = analyze_detailed(tmp_path / "g.png", model=tiny_detector)
    assert detailed.analysis.verdict is Verdict.NO_FACE and not detailed.evidence
    with caplog.at_level(logging.DEBUG, logger="weasyprint"):
        html, pages = _check_reports(detailed, tmp_path, "noface")
    # the report's CSS is all WeasyPrint understands: nothing of it on a user's terminal
    noise = [r.getMessage() for r in caplog.records
             if r.name.startswith("weasyprint") and r.levelno >= logging.WARNING]
    assert not noise, noise
    assert "No face was found" in html and not DATA_URI.findall(html)
    assert len(pages) <= 3
    with pytest.raises(ReportError):
        write_report(detailed, tmp_path / "noface.txt")
    assert not (tmp_path / "noface.txt").exists()


@pytest.mark.realdata
@pytest.mark.train
def test_cli_writes_the_report_the_suffix_names(videos, model_dir, tiny_detector, tmp_path,
                                               capsys):
    from fakelens.cli import main

    clip = videos / "talking_head_d0.mp4"
    out = tmp_path / "clip.html"
    assert main(["detect", str(clip), "--frames", "4", "--model", tiny_detector, "-q",
                 "--report", str(out)]) == 0
    assert "talking_head_d0.mp4" in out.read_text()
    assert main(["detect", str(clip), "--model", tiny_detector, "-q",
                 "--report", str(tmp_path / "clip.docx")]) == 1
    assert "use a .html, .pdf or .json file name" in capsys.readouterr().err
    assert not (tmp_path / "clip.docx").exists()
