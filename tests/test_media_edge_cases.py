"""Media edge cases: AVIF and HEIC stills are images (recognised by content, both still
detectors run), intact 1-frame and 0.1 s videos get no "truncated" warning, a file with
several video streams is read from the default (or largest) one and the result says so,
MPEG-TS (whose seeking is rough) is sampled at the same instants as the MP4 it was
copied from, and symlink loops and named pipes get clear messages (a FIFO never blocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from synthetic_media import write_video

import fakelens
from fakelens.errors import MediaNotFound, UnsupportedMedia
from fakelens.media import seeking
from fakelens.media.images import register_plugins
from fakelens.media.load import iter_frames, probe
from fakelens.media.sampling import even_timestamps
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


def _to_mpegts(clip: Path, out: Path) -> Path:
    """``clip``'s packets copied into MPEG-TS by ffmpeg (its clock starts at 1.4 s)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(clip), "-c", "copy",
                    "-f", "mpegts", str(out)], check=True, timeout=120)
    return out


def _sampled_like_the_mp4(clip: Path, ts: Path, count: int) -> None:
    mp4_info, ts_info = probe(clip), probe(ts)
    one_frame = 1.0 / mp4_info.fps
    assert ts_info.format == "mpegts" and ts_info.fps == mp4_info.fps
    assert ts_info.duration_s == pytest.approx(mp4_info.duration_s, abs=one_frame)
    assert ts_info.frame_count == mp4_info.frame_count
    want = list(iter_frames(clip, mp4_info, frames=count))
    got = list(iter_frames(ts, ts_info, frames=count))
    assert len(got) == len(want) == count
    targets = even_timestamps(ts_info.duration_s, count)
    for g, w, target in zip(got, want, targets, strict=True):
        assert abs(g.timestamp_s - target) <= one_frame
        assert abs(g.timestamp_s - w.timestamp_s) <= 2 * one_frame
        if abs(g.timestamp_s - w.timestamp_s) < 1e-3:  # the same frame, decoded alike
            assert np.array_equal(g.rgb, w.rgb)


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["ffpp_original_004.mp4",  # 12 s, a key frame at 10 s
                                  "talking_head_d6.mp4"])   # 34 s at 30 fps, seeks
def test_mpeg_ts_is_sampled_at_the_instants_of_its_mp4(videos, tmp_path, name, caplog):
    clip = videos / name
    ts = _to_mpegts(clip, tmp_path / f"{clip.stem}.ts")
    with caplog.at_level("WARNING", logger="fakelens"):
        _sampled_like_the_mp4(clip, ts, 16)
    assert caplog.records == []


@pytest.mark.realdata
def test_a_seek_that_lands_past_its_instant_is_caught(videos, tmp_path, monkeypatch):
    """MPEG-TS sought by time (a binary search on its clock) lands after the key frame
    wanted, where the decoder gives nothing until the next key frame: the reader notices,
    decodes from the start instead and still gets every instant."""
    ts = _to_mpegts(videos / "ffpp_original_004.mp4", tmp_path / "clip.ts")
    sought, rewound = [], []

    def by_time(plan, container, stream, target):
        sought.append(target)
        container.seek(int(target / stream.time_base), stream=stream, backward=True)

    rewind = seeking.SeekPlan.rewind
    monkeypatch.setattr(seeking.SeekPlan, "seek", by_time)
    monkeypatch.setattr(seeking.SeekPlan, "rewind",
                        lambda plan, *args: rewound.append(1) or rewind(plan, *args))
    _sampled_like_the_mp4(videos / "ffpp_original_004.mp4", ts, 16)
    assert sought and rewound == [1]  # the MP4's seek (also by time) lands right


@pytest.mark.realdata
def test_an_uploaded_mpeg_ts_is_analysed_to_its_end(videos, tmp_path, model_dir):
    ts = _to_mpegts(videos / "ffpp_original_004.mp4", tmp_path / "upload.ts")
    result = fakelens.analyze(ts, frames=8)
    assert result.media.format == "mpegts" and result.frames_sampled == 8
    times = sorted({f.timestamp_s for t in result.tracks for f in t.frames})
    assert times[-1] == pytest.approx(even_timestamps(result.media.duration_s, 8)[-1],
                                      abs=1 / result.media.fps)
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
    worker.join(30)  # a blocked probe waits forever; a slow machine's first import does not
    if worker.is_alive():  # unblock it: a writer opens the pipe
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("probing a FIFO blocked")
    assert len(outcome) == 1 and isinstance(outcome[0], UnsupportedMedia)
    assert "named pipe (FIFO)" in str(outcome[0])
