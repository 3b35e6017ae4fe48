"""Media edge cases: AVIF and HEIC stills are images (recognised by content, both still
detectors run), intact 1-frame and 0.1 s videos get no "truncated" warning, a file with
several video streams is read from the default (or largest) one and the result says so,
and symlink loops and named pipes get clear messages (a FIFO never blocks)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from synthetic_media import write_video

import fakelens
from fakelens.errors import MediaNotFound, UnsupportedMedia
from fakelens.media.images import register_plugins
from fakelens.media.load import iter_frames, probe
from fakelens.models.registry import default_detector_names


def _still(path: Path, fmt: str) -> np.ndarray:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 30, 30)
    register_plugins()
    Image.fromarray(rgb).save(path, format=fmt)
    return rgb


@pytest.mark.parametrize(("name", "fmt", "kind"), [("still.avif", "AVIF", "avif"),
                                                   ("still.heic", "HEIF", "heif"),
                                                   ("no-extension", "AVIF", "avif")])
def test_avif_and_heic_stills_are_images(tmp_path, name, fmt, kind):
    path = tmp_path / name
    rgb = _still(path, fmt)
    info = probe(path)
    assert (info.kind, info.format, info.width, info.height) == ("image", kind, 64, 48)
    [frame] = iter_frames(path, info)
    assert np.abs(frame.rgb.astype(int) - rgb).mean() < 12


def test_avif_still_runs_the_still_detectors_without_warnings(tmp_path, model_dir):
    path = tmp_path / "photo.avif"
    _still(path, "AVIF")
    result = fakelens.analyze(path)
    assert result.media.kind == "image" and result.sampling == "still"
    assert {m.name for m in result.models} == set(default_detector_names("image"))
    assert not any("truncated" in w or "frames could be decoded" in w
                   for w in result.warnings)


@pytest.mark.parametrize("count", [1, 3])  # one frame; 0.1 s at 30 fps
def test_short_intact_videos_get_no_warning(tmp_path, model_dir, count):
    frames = [np.full((48, 64, 3), 40 * i + 20, np.uint8) for i in range(count)]
    path = write_video(tmp_path / f"short{count}.mp4", frames, fps=30)
    result = fakelens.analyze(path, frames=32)
    assert result.media.kind == "video"
    assert result.frames_sampled == count
    assert result.warnings == []


def _two_streams(path: Path, default_second: bool) -> Path:
    with av.open(str(path), "w") as out:
        big = out.add_stream("libx264", rate=25)
        big.width, big.height, big.pix_fmt = 64, 48, "yuv420p"
        small = out.add_stream("libx264", rate=25)
        small.width, small.height, small.pix_fmt = 32, 24, "yuv420p"
        if default_second:
            big.disposition = av.stream.Disposition(0)
            small.disposition = av.stream.Disposition.default
        for i in range(10):
            for stream, shade in ((big, 50), (small, 200)):
                frame = av.VideoFrame.from_ndarray(
                    np.full((stream.height, stream.width, 3), shade, np.uint8), format="rgb24")
                frame.pts = i
                out.mux(stream.encode(frame))
        for stream in (big, small):
            out.mux(stream.encode())
    return path


@pytest.mark.parametrize(("suffix", "default_second", "size", "shade"),
                         [(".mp4", True, (32, 24), 200),   # the stream flagged default
                          (".mkv", False, (64, 48), 50)])  # none flagged: the largest
def test_several_video_streams(tmp_path, suffix, default_second, size, shade):
    path = _two_streams(tmp_path / f"two{suffix}", default_second)
    info = probe(path)
    assert (info.width, info.height) == size
    assert len(info.warnings) == 1 and "2 video streams" in info.warnings[0]
    frames = list(iter_frames(path, info, frames=3))
    assert frames and all(f.rgb.shape[:2] == size[::-1] for f in frames)
    assert abs(float(frames[0].rgb.mean()) - shade) < 15


def test_several_streams_are_named_in_the_result(tmp_path, model_dir):
    result = fakelens.analyze(_two_streams(tmp_path / "two.mp4", True), frames=4)
    assert any("2 video streams" in w for w in result.warnings)


def test_one_video_stream_has_no_note(tmp_path):
    path = write_video(tmp_path / "one.mp4", [np.zeros((48, 64, 3), np.uint8)] * 3)
    assert probe(path).warnings == []


def test_symlink_loop_is_named(tmp_path):
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(tmp_path / "other.mp4")
    (tmp_path / "other.mp4").symlink_to(loop)
    with pytest.raises(MediaNotFound, match="symbolic link loop"):
        probe(loop)
    dangling = tmp_path / "dangling.mp4"
    dangling.symlink_to(tmp_path / "gone.mp4")
    with pytest.raises(MediaNotFound, match="symbolic link to a missing file"):
        probe(dangling)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            probe(fifo)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock it: a writer opens the pipe
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("probing a FIFO blocked")
    assert len(outcome) == 1 and isinstance(outcome[0], UnsupportedMedia)
    assert "named pipe (FIFO)" in str(outcome[0])
