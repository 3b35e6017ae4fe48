"""Probing and frame sampling on real clips and on small files generated here."""

from __future__ import annotations

import hashlib

import av
import cv2
import numpy as np
import pytest
from PIL import Image
from synthetic_media import write_video

from fakelens.media import iter_frames, probe
from fakelens.media.sampling import even_timestamps


def _grey_frames(count: int, size=(64, 48), step: int = 6) -> list[np.ndarray]:
    """Flat frames whose brightness encodes their index (``step`` per frame)."""
    w, h = size
    return [np.full((h, w, 3), (i * step) % 256, np.uint8) for i in range(count)]


@pytest.mark.realdata
def test_probe_reads_metadata_of_a_real_clip(videos):
    clip = videos / "ffpp_original_519.mp4"
    info = probe(clip)
    with av.open(str(clip)) as container:  # independent count: demuxed packets
        packets = sum(1 for p in container.demux(video=0) if p.size)
    assert info.kind == "video" and info.format == "mp4" and info.codec == "h264"
    assert (info.width, info.height) == (640, 480)
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(30.04, abs=0.05)
    assert info.frame_count == packets == 751
    assert info.rotation == 0 and info.has_audio is False
    assert info.size_bytes == clip.stat().st_size
    assert info.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()


@pytest.mark.realdata
def test_probe_notices_the_audio_track(videos):
    info = probe(videos / "talking_head_d10.mp4")
    assert info.has_audio is True and info.fps == pytest.approx(30.0)


def test_probe_measures_how_hard_a_video_was_compressed(tmp_path):
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (0, 0), 6)
    frames = [np.roll(base, 2 * i, axis=1) for i in range(25)]  # 1 s of texture in motion
    light = write_video(tmp_path / "light.mp4", frames, codec_options={"qp": "12"})
    heavy = write_video(tmp_path / "heavy.mp4", frames, codec_options={"qp": "45"})
    light_bpp, heavy_bpp = probe(light).bits_per_pixel, probe(heavy).bits_per_pixel
    with av.open(str(heavy)) as container:
        stream = container.streams.video[0]
        rate = stream.bit_rate or heavy.stat().st_size * 8 / float(stream.duration
                                                                    * stream.time_base)
    assert heavy_bpp == pytest.approx(rate / (320 * 240 * 25), rel=0.05)
    assert 0 < heavy_bpp < light_bpp / 4
    assert probe(_still(tmp_path)).bits_per_pixel is None


@pytest.mark.realdata
def test_few_published_clips_count_as_heavily_compressed(samples):
    from fakelens.analysis.caveats import heavily_compressed

    clips = [p for folder in ("videos", "live-swap", "videos-real", "generated-videos")
             for p in sorted((samples / folder).iterdir()) if p.suffix != ".csv"]
    flagged = [p.name for p in clips if heavily_compressed(probe(p))]
    assert len(clips) > 100 and len(flagged) <= 2, flagged  # as caveats.py says


def _still(tmp_path):
    path = tmp_path / "still.png"
    Image.new("RGB", (32, 32), "white").save(path)
    return path


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "count"), [
    ("ffpp_original_004.mp4", 8),   # 12 s: decoded straight through
    ("ffpp_original_519.mp4", 6),   # 30 s: 5 s apart, reached by seeking
    ("talking_head_d6.mp4", 5),     # 30 fps
])
def test_even_sampling_spans_the_whole_video(videos, name, count):
    clip = videos / name
    info = probe(clip)
    frames = list(iter_frames(clip, info, frames=count))
    times = [f.timestamp_s for f in frames]
    one_frame = 1.0 / info.fps
    step = info.duration_s / count
    assert len(frames) == count
    assert all(a < b for a, b in zip(times, times[1:], strict=False))  # strictly increasing
    assert times[0] == pytest.approx(step / 2, abs=one_frame)
    assert times[-1] == pytest.approx(info.duration_s - step / 2, abs=one_frame)
    for t, target in zip(times, even_timestamps(info.duration_s, count), strict=True):
        assert abs(t - target) <= one_frame
    for f in frames:
        assert f.rgb.shape == (info.height, info.width, 3) and f.rgb.dtype == np.uint8
        assert f.index == round(f.timestamp_s * info.fps)


@pytest.mark.realdata
def test_dense_mode_is_a_regular_grid(videos):
    clip = videos / "talking_head_d0.mp4"
    info = probe(clip)
    times = [f.timestamp_s for f in iter_frames(clip, info, frames_per_second=4)]
    assert len(times) == round(info.duration_s * 4)
    assert np.allclose(np.diff(times), 0.25, atol=1.01 / info.fps)


def test_frames_come_out_rgb(tmp_path):
    red = np.zeros((48, 64, 3), np.uint8)
    red[..., 0] = 220
    clip = write_video(tmp_path / "red.mp4", [red] * 5)
    frame = next(iter_frames(clip, probe(clip), frames=1))
    r, g, b = frame.rgb.reshape(-1, 3).mean(axis=0)
    assert r > 180 and g < 40 and b < 40


def test_variable_frame_rate_is_sampled_by_timestamp(tmp_path):
    rng = np.random.default_rng(1)
    gaps = rng.choice([20, 40, 100, 250], size=40)  # ms between frames, very irregular
    pts = np.concatenate([[0], np.cumsum(gaps)[:-1]])
    clip = write_video(tmp_path / "vfr.mp4", _grey_frames(40), pts_ms=pts)
    info = probe(clip)
    assert info.duration_s == pytest.approx((pts[-1] + gaps[-1]) / 1000, abs=0.05)
    assert info.frame_count == 40

    frames = list(iter_frames(clip, info, frames=8))
    times = [f.timestamp_s for f in frames]
    assert len(frames) == 8
    assert all(a < b for a, b in zip(times, times[1:], strict=False))
    longest_gap = gaps.max() / 1000
    for f, target in zip(frames, even_timestamps(info.duration_s, 8), strict=True):
        # a real frame time, the first one shown at (or just before) the target instant
        k = int(np.argmin(np.abs(pts / 1000 - f.timestamp_s)))
        assert f.timestamp_s == pytest.approx(pts[k] / 1000, abs=1e-3)
        assert target - 0.5 / info.fps <= f.timestamp_s <= target + longest_gap
        assert abs(float(f.rgb.mean()) - k * 6) < 4  # the pixels are that frame's
    assert times[0] < info.duration_s / 8 and times[-1] > info.duration_s * 7 / 8


def _save_animation(path, frames: list[np.ndarray], ms: int = 100) -> None:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms, loop=0)


@pytest.mark.parametrize("suffix", [".gif", ".png"])  # GIF and animated PNG
def test_animated_image_is_a_video(tmp_path, suffix):
    path = tmp_path / f"anim{suffix}"
    _save_animation(path, _grey_frames(6, step=40))
    info = probe(path)
    assert info.kind == "video"
    assert info.duration_s == pytest.approx(0.6, abs=0.01)
    assert info.frame_count == 6 and info.fps == pytest.approx(10.0)
    assert (info.width, info.height) == (64, 48)
    frames = list(iter_frames(path, info, frames=4))
    assert len(frames) == 4
    times = [f.timestamp_s for f in frames]
    assert times[0] < 0.15 and times[-1] > 0.45
    shades = [round(float(f.rgb.mean()) / 40) for f in frames]
    assert shades == sorted(set(shades))  # distinct frames, in order


@pytest.mark.parametrize(("suffix", "fmt"), [(".gif", "gif"), (".png", "png"),
                                             (".webp", "webp"), (".bmp", "bmp"),
                                             (".tiff", "tiff"), (".jpg", "jpeg")])
def test_single_frame_files_are_images(tmp_path, suffix, fmt):
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 30, 30)
    path = tmp_path / f"still{suffix}"
    Image.fromarray(rgb).save(path)
    info = probe(path)
    assert (info.kind, info.format, info.width, info.height) == ("image", fmt, 64, 48)
    assert info.codec is None and info.duration_s is None
    frames = list(iter_frames(path, info))
    assert len(frames) == 1 and frames[0].timestamp_s == 0.0
    got = frames[0].rgb.astype(int)
    assert got.shape == (48, 64, 3)
    assert np.abs(got - rgb).mean() < 8  # right content, RGB order (lossy formats too)


def test_multi_page_tiff_is_an_image(tmp_path):
    path = tmp_path / "pages.tiff"
    _save_animation(path, _grey_frames(3, step=100))
    info = probe(path)
    assert info.kind == "image" and info.format == "tiff"
    assert len(list(iter_frames(path, info))) == 1


def _sideways(upright: np.ndarray) -> Image.Image:
    """How a camera stores a portrait shot taken in landscape sensor orientation."""
    return Image.fromarray(np.ascontiguousarray(np.rot90(upright, k=1)))


def _portrait() -> np.ndarray:
    rgb = np.zeros((96, 64, 3), np.uint8)
    rgb[:24] = (255, 0, 0)  # red on top
    rgb[-24:] = (0, 0, 255)  # blue at the bottom
    return rgb


@pytest.mark.parametrize("fmt", ["JPEG", "MPO"])  # MPO: camera JPEG with a preview image
def test_exif_orientation_6_comes_out_upright(tmp_path, fmt):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    stored = _sideways(_portrait())
    extra = {"save_all": True, "append_images": [stored.resize((24, 16))]} if fmt == "MPO" else {}
    stored.save(path, format=fmt, exif=exif, **extra)
    assert Image.open(path).format == fmt
    info = probe(path)
    assert (info.kind, info.width, info.height, info.rotation) == ("image", 64, 96, 270)
    (frame,) = iter_frames(path, info)
    assert frame.rgb.shape == (96, 64, 3)
    assert np.abs(frame.rgb.astype(int) - _portrait()).mean() < 8


def test_keyframe_sampling_decodes_key_frames_only(tmp_path):
    """Instants snap to the nearest key frames; with too few key frames the exact sampling
    is kept."""
    import numpy as np

    from fakelens.media import iter_frames, probe
    from fakelens.media.load import _keyframe_times

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(100)]
    clip = write_video(tmp_path / "gop10.mp4", frames, fps=25, gop=10)  # key frame each 0.4 s
    info = probe(clip)
    keys = _keyframe_times(clip)
    got = list(iter_frames(clip, info, frames=8, keyframes_only=True))
    assert len(got) == 8 and all(f.snapped_to_keyframe for f in got)
    assert all(any(abs(f.timestamp_s - k) < 1e-6 for k in keys) for f in got)
    assert got[0].timestamp_s < 0.5 and got[-1].timestamp_s > 3.0  # still the whole video
    sparse = write_video(tmp_path / "gop250.mp4", frames, fps=25, gop=250)
    exact = list(iter_frames(sparse, probe(sparse), frames=8, keyframes_only=True))
    assert len(exact) == 8 and not any(f.snapped_to_keyframe for f in exact)
