"""A still photo re-saved as a low-quality JPEG (messenger and social-site re-uploads) is
weak evidence, and every surface says so: its quality is estimated from its quantisation
tables (``media.jpeg_quality``), the threshold and the words come from the measurement in
docs/eval/photo-compression.md; PNG, WebP and other formats get no estimate and no
warning; a tiny photo gets a warning of its own."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from scriptmodules import loaded_script

from fakelens.analysis.caveats import (
    HEAVY_JPEG_QUALITY,
    PHOTO_COMPRESSION_FOUND,
    SMALL_FACE_PX,
    blind_spots,
    heavily_compressed_photo,
    media_warnings,
    tiny_image,
)
from fakelens.media.jpeg import ijg_luminance_table, quality_from_table
from fakelens.media.load import probe

ROOT = Path(__file__).resolve().parents[1]
HEAVY = "This photo is heavily compressed"


def resaved(src: Path, dst: Path, quality: int = 95, size: int | None = None) -> Path:
    """``src`` decoded and saved again in the format of ``dst``'s suffix."""
    with Image.open(src) as img:
        rgb = img.convert("RGB")
    if size:
        rgb = rgb.resize((size, size), Image.LANCZOS)
    fmt = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[dst.suffix]
    rgb.save(dst, fmt, **({} if fmt == "PNG" else {"quality": quality}))
    return dst


@pytest.fixture(scope="module")
def photo(samples) -> Path:
    """A real photo of the held-out part of gan-faces, published at JPEG quality 75."""
    return sorted((samples / "gan-faces" / "real").glob("*.jpg"))[0]


def test_the_ijg_rule_is_inverted_exactly():
    for q in range(1, 101):
        assert quality_from_table(ijg_luminance_table(q)) == q
    # an encoder with tables of its own gets the nearest IJG quality
    own = [v + 3 for v in ijg_luminance_table(50)]
    assert 40 <= quality_from_table(own) < 50
    assert quality_from_table([2] * 10) is None


@pytest.mark.realdata
def test_a_real_photo_has_its_quality_read_back(photo, tmp_path):
    assert probe(photo).jpeg_quality == 75  # as published
    for q in (10, 25, 50, 75, 90, 95, 100):
        assert probe(resaved(photo, tmp_path / f"q{q}.jpg", q)).jpeg_quality == q
    for fmt in ("png", "webp"):  # lossless as stored / a quantiser that is no JPEG table
        media = probe(resaved(photo, tmp_path / f"q10.{fmt}", 10))
        assert media.kind == "image" and media.jpeg_quality is None
        assert not heavily_compressed_photo(media)
    clip = probe(sorted((photo.parents[2] / "videos").glob("*.mp4"))[0])
    assert clip.jpeg_quality is None


@pytest.mark.realdata
def test_a_real_photo_resaved_at_25_is_warned_and_at_95_is_not(photo, tmp_path, model_dir):
    import fakelens

    assert 25 <= HEAVY_JPEG_QUALITY < 95
    low = fakelens.analyze(resaved(photo, tmp_path / "low.jpg", 25))
    high = fakelens.analyze(resaved(photo, tmp_path / "high.jpg", 95))
    lossless = fakelens.analyze(resaved(photo, tmp_path / "copy.png"))
    assert (low.media.jpeg_quality, high.media.jpeg_quality) == (25, 95)
    warned = [w for w in media_warnings(low) if w.startswith(HEAVY)]
    assert len(warned) == 1 and "JPEG quality about 25" in warned[0]
    assert PHOTO_COMPRESSION_FOUND in warned[0]
    assert warned[0] in low.caveats  # the JSON result's caveats
    for calm in (high, lossless):
        assert not media_warnings(calm)
        assert not any(HEAVY in c for c in calm.caveats)
    doc = json.loads(low.to_json())
    assert doc["media"]["jpeg_quality"] == 25 and doc["schema_version"] == "1.8"


@pytest.mark.realdata
def test_cli_notes_a_heavily_compressed_photo(photo, tmp_path, model_dir, capsys):
    from fakelens.cli import main

    low = resaved(photo, tmp_path / "low.jpg", 25)
    high = resaved(photo, tmp_path / "high.jpg", 95)
    assert main(["detect", str(low), str(high)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"note: low.jpg: {HEAVY} (saved at JPEG quality about 25" in out
    assert "high.jpg: This photo" not in out


@pytest.mark.realdata
def test_a_tiny_photo_is_said_once(photo, tmp_path, model_dir):
    import fakelens

    tiny = fakelens.analyze(resaved(photo, tmp_path / "tiny.jpg", 95, size=64))
    assert tiny_image(tiny.media) and tiny.media.width < SMALL_FACE_PX
    notes = media_warnings(tiny)
    assert notes == [f"This photo is tiny (64x64 pixels): any face in it is under "
                     f"{SMALL_FACE_PX} pixels across, too little detail for the detectors "
                     "to read. A low score is weak evidence for this file."]
    assert notes[0] in tiny.caveats
    assert not any("The face is small" in s for s in blind_spots(tiny))  # said once
    assert not tiny_image(probe(photo))


@pytest.fixture(scope="module")
def bench():
    with loaded_script("benchmarks/photo_compression.py") as module:
        yield module


def test_the_warning_says_what_was_measured(bench):
    """The threshold is the rule of benchmarks/photo_compression.py applied to its
    measurement (docs/eval/photo-compression.json), and the figures in the warning are
    that measurement's."""
    rows = bench.load_rows(ROOT / "docs" / "eval" / "photo-compression.json")
    assert {r["quality"] for r in rows} == set(bench.QUALITIES)
    assert bench.heavy_quality(rows) == HEAVY_JPEG_QUALITY
    auc = bench.auc_by_quality(rows)

    def caught(quality: int | None, set_name: str = "dfdc-crops") -> str:
        fakes = [r["verdict"] for r in rows if r["set"] == set_name and r["label"] == 1
                 and r["quality"] == quality and r["score"] is not None]
        return f"{sum(v in ('FAKE', 'UNCERTAIN') for v in fakes)} of {len(fakes)}"

    said = PHOTO_COMPRESSION_FOUND
    assert f"{caught(None)} as published" in said and f"against {auc[None]:.2f}" in said
    shown = [int(q) for q in re.search(r"quality ([\d, and]+), the", said)[1].replace(
        "and", ",").split(",") if q.strip()]
    assert shown[0] == HEAVY_JPEG_QUALITY
    assert ", ".join(caught(q) for q in shown[:-1]) + f" and {caught(shown[-1])}" in said
    assert ", ".join(f"{auc[q]:.2f}" for q in shown[:-1]) + f" and {auc[shown[-1]]:.2f}" \
        in said
    gan = ", ".join(caught(q, "gan-stills") for q in shown[:-1])
    assert f"(StyleGAN2) were still caught: {gan} and {caught(shown[-1], 'gan-stills')}." \
        in said


@pytest.mark.realdata
def test_the_report_shows_the_photo_warning(photo, tmp_path, model_dir):
    """The HTML report (the PDF is rendered from it) says it where the video warning
    stands; the result page and the forum card: tests/web/test_trust.py."""
    from fakelens.analysis.pipeline import analyze_detailed
    from fakelens.reports.render import render_html

    low = analyze_detailed(resaved(photo, tmp_path / "low.jpg", 25))
    page = html.unescape(render_html(low))
    assert "<b>About this file:</b> This photo is heavily compressed (saved at JPEG quality " \
           "about 25" in page
    high = analyze_detailed(resaved(photo, tmp_path / "high.jpg", 95))
    assert "About this file:" not in html.unescape(render_html(high))
