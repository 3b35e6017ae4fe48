"""Scene-change key frames (media/scenes.py) on synthetic clips with known cuts, through
``analyze_detailed`` and into the HTML and PDF reports."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from synthetic_media import shot, write_video

from fakelens.media import iter_frames, probe
from fakelens.media.scenes import MAX_KEY_FRAMES, MAX_SIDE, scene_frames

FPS = 25


def black(count: int, size=(160, 120)) -> list:
    return [np.zeros((size[1], size[0], 3), np.uint8) for _ in range(count)]


COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory) -> Path:
    """Cuts at frames 25 (1.0 s) and 60 (2.4 s)."""
    frames = shot(COLOURS[0], 25, 1) + shot(COLOURS[1], 35, 2) + shot(COLOURS[2], 40, 3)
    return write_video(tmp_path_factory.mktemp("scenes") / "three.mp4", frames, fps=FPS)


def dominant(rgb: np.ndarray) -> int:
    """Which channel a frame's background is strongest in."""
    return int(np.argmax(rgb.reshape(-1, 3).mean(axis=0)))


def test_cuts_are_found_at_their_frames(three_shots):
    found = scene_frames(three_shots, probe(three_shots))
    assert found.method == "every frame" and found.cuts == 2
    assert [f.index for f in found.frames] == [0, 25, 60]
    assert [round(f.timestamp_s, 2) for f in found.frames] == [0.0, 1.0, 2.4]
    # each key frame shows its own shot, upright, at the video's size
    assert [dominant(f.rgb) for f in found.frames] == [0, 1, 2]
    assert all(f.rgb.shape == (120, 160, 3) and f.rgb.dtype == np.uint8 for f in found.frames)
    assert found.frames[0].change == 1.0 and all(0 < f.change < 1 for f in found.frames[1:])
    assert found.describe().startswith("2 scene changes found")


def test_motion_inside_a_shot_is_no_cut(tmp_path):
    """A big bright bar sweeping fast over a dark room changes every frame a lot, but
    evenly: one shot, one key frame."""
    frames = []
    for i in range(75):
        frame = np.full((120, 160, 3), 30, np.uint8)
        x = 120 - abs(120 - (i * 8) % 240)  # back and forth, 8 px a frame
        frame[:, x:x + 40] = (250, 240, 90)
        frames.append(frame)
    clip = write_video(tmp_path / "pan.mp4", frames, fps=FPS)
    found = scene_frames(clip, probe(clip))
    assert [f.index for f in found.frames] == [0] and found.cuts == 0
    assert found.describe().startswith("No scene change found")


def test_the_count_is_bounded_and_keeps_the_strongest_cuts(tmp_path):
    # 20 shots, each hue 150 degrees from the last, brightness and saturation varying so
    # that the cuts differ in strength
    hsv = np.array([[[(k * 75) % 180, 255 - 40 * (k % 4), 255 - 35 * (k % 5)]
                     for k in range(20)]], np.uint8)
    colours = [tuple(int(c) for c in rgb) for rgb in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]]
    frames = [f for k, c in enumerate(colours) for f in shot(c, 15, k)]
    clip = write_video(tmp_path / "many.mp4", frames, fps=FPS)
    info = probe(clip)
    everything = scene_frames(clip, info, max_frames=100)
    assert [f.index for f in everything.frames] == [15 * k for k in range(20)]

    capped = scene_frames(clip, info)
    assert len(capped.frames) == MAX_KEY_FRAMES and capped.cuts == 19
    assert capped.frames[0].index == 0  # the first frame, always
    times = [f.timestamp_s for f in capped.frames]
    assert times == sorted(times)
    strongest = sorted(everything.frames[1:], key=lambda f: -f.change)[:MAX_KEY_FRAMES - 1]
    assert {f.index for f in capped.frames} <= {f.index for f in everything.frames}
    assert sorted(f.change for f in capped.frames[1:]) == sorted(f.change for f in strongest)
    assert min(f.change for f in capped.frames[1:]) > min(f.change for f in everything.frames)
    assert "the 11 strongest are kept" in capped.describe()
    assert [f.index for f in scene_frames(clip, info, max_frames=1).frames] == [0]


def test_a_long_video_is_scanned_on_its_key_frames(three_shots):
    """Over the full-scan budget only the key frames are decoded; x264 puts one at each
    cut, so the cuts are found all the same."""
    found = scene_frames(three_shots, probe(three_shots), full_scan_megapixels=0)
    assert found.method == "key frames only"
    assert found.scanned < 100  # not every frame
    assert [f.index for f in found.frames] == [0, 25, 60]
    assert "key frames (I-frames)" in found.describe()


def test_black_is_never_a_key_frame(tmp_path):
    frames = black(10) + shot(COLOURS[0], 30, 1) + black(15) + shot(COLOURS[2], 30, 2)
    clip = write_video(tmp_path / "fades.mp4", frames, fps=FPS)
    found = scene_frames(clip, probe(clip))
    assert [f.index for f in found.frames] == [10, 55]
    assert [dominant(f.rgb) for f in found.frames] == [0, 2]


def test_a_still_is_its_own_key_frame(tmp_path):
    path = tmp_path / "wide.png"
    picture = np.zeros((1000, 2000, 3), np.uint8)
    picture[:, :1000] = (255, 0, 0)
    Image.fromarray(picture).save(path)
    found = scene_frames(path, probe(path))
    assert found.method == "still" and len(found.frames) == 1
    assert found.frames[0].rgb.shape == (MAX_SIDE // 2, MAX_SIDE, 3)  # shrunk, same shape
    assert tuple(found.frames[0].rgb[10, 10]) == (255, 0, 0)


def test_key_frames_of_a_rotated_video_are_upright(tmp_path):
    frames = shot(COLOURS[0], 20, 1) + shot(COLOURS[1], 20, 2)
    clip = write_video(tmp_path / "phone.mp4", frames, fps=FPS, rotation=90)
    info = probe(clip)
    sampled = next(iter_frames(clip, info, frames=1)).rgb
    found = scene_frames(clip, info)
    assert [f.index for f in found.frames] == [0, 20]
    assert all(f.rgb.shape == sampled.shape == (160, 120, 3) for f in found.frames)


def test_audio_has_no_key_frames(tmp_path):
    from fakelens.types import MediaInfo

    info = MediaInfo(path="a.wav", kind="audio", format="wav", size_bytes=1, sha256="0" * 64,
                     width=0, height=0)
    assert scene_frames(tmp_path / "a.wav", info).frames == []


@pytest.mark.slow
def test_analysis_and_reports_carry_the_key_frames(three_shots, tmp_path, model_dir,
                                                   tiny_detector):
    from fakelens.analysis.pipeline import analyze, analyze_detailed
    from fakelens.reports import render_html, write_report

    detailed = analyze_detailed(three_shots, frames=4, model=tiny_detector, key_frames=True)
    assert [f.index for f in detailed.key_frames.frames] == [0, 25, 60]
    plain = analyze_detailed(three_shots, frames=4, model=tiny_detector)
    assert plain.key_frames is None  # only when asked: `detect` does not pay for them
    assert analyze(three_shots, frames=4, model=tiny_detector).verdict == plain.analysis.verdict

    html = render_html(detailed)
    section = html[html.index('<section class="key-frames">'):]
    section = section[:section.index("</section>")]
    thumbs = re.findall(r'<img src="data:image/jpeg;base64,[^"]+" alt="key frame (\d+) at '
                        r'([\d:.]+)"', section)
    assert thumbs == [("1", "0:00.0"), ("2", "0:01.0"), ("3", "0:02.4")]
    for engine in ("https://lens.google.com/", "https://tineye.com/",
                   "https://www.bing.com/visualsearch", "https://yandex.com/images/"):
        assert f'href="{engine}"' in section
    assert "Nothing was sent to a search engine" in section
    assert "Key frames for reverse image search" not in render_html(plain)

    pdf = write_report(detailed, tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


@pytest.mark.slow
def test_detect_report_shows_the_key_frames(three_shots, tmp_path, model_dir, tiny_detector):
    from fakelens.cli import main

    report = tmp_path / "clip.html"
    assert main(["detect", str(three_shots), "--frames", "4", "--model", tiny_detector, "-q",
                 "--report", str(report)]) == 0
    html = report.read_text()
    assert re.findall(r'alt="key frame \d+ at ([\d:.]+)"', html) == ["0:00.0", "0:01.0",
                                                                    "0:02.4"]
