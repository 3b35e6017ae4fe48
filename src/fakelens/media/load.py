"""Probe a file and stream the frames to analyse.

The kind of a file is decided from its content, never from its extension: Pillow is
asked first (stills), then PyAV/FFmpeg (videos and animated images).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from fakelens.errors import (
    CorruptMedia,
    EmptyMedia,
    MediaError,
    MediaNotFound,
    MediaTooLarge,
    UnsupportedMedia,
)
from fakelens.media.frames import Frame
from fakelens.media.images import IMAGE_FORMATS, MAX_IMAGE_PIXELS, image_to_rgb, open_image
from fakelens.media.sampling import dense_timestamps, even_timestamps
from fakelens.types import MediaInfo

log = logging.getLogger(__name__)

# A sampled instant further away than this from the current decode position is
# reached by seeking (to the key frame before it) instead of decoding every frame.
SEEK_GAP_S = 3.0


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _check_readable(path: Path) -> int:
    if not path.exists():
        raise MediaNotFound(f"{path}: no such file")
    if not path.is_file():
        raise MediaNotFound(f"{path}: not a regular file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fh.read(1)
    except PermissionError as exc:
        raise MediaNotFound(f"{path}: permission denied") from exc
    except OSError as exc:
        raise MediaNotFound(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size == 0:
        raise EmptyMedia(f"{path.name}: file is empty (0 bytes)")
    return size


@dataclass
class _VideoProbe:
    width: int
    height: int
    codec: str
    fps: float | None
    duration_s: float
    frame_count: int | None
    rotation: int
    has_audio: bool
    format: str


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise UnsupportedMedia(
            f"{path.name}: not a recognised image or video ({exc.strerror or exc})"
        ) from exc
    except (OSError, ValueError) as exc:
        raise UnsupportedMedia(f"{path.name}: not a recognised image or video ({exc})") from exc


def _stream_rotation(stream: av.video.stream.VideoStream) -> int:
    """Degrees (counter-clockwise, as FFmpeg's display matrix) to turn frames upright."""
    for side in getattr(stream, "side_data", {}) or {}:
        if "DISPLAYMATRIX" in str(side).upper():
            value = stream.side_data[side]
            try:
                return int(round(float(value))) % 360
            except (TypeError, ValueError):
                return 0
    return 0


def _probe_video(path: Path, container: av.container.InputContainer) -> _VideoProbe:
    if not container.streams.video:
        kind = "audio-only file" if container.streams.audio else "file without a video stream"
        raise UnsupportedMedia(f"{path.name}: {kind}; nothing to analyse")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or not ctx.name:
        raise UnsupportedMedia(f"{path.name}: video codec not supported by this FFmpeg build")
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width * height > MAX_IMAGE_PIXELS:
        raise MediaTooLarge(f"{path.name}: video frames are {width}x{height} pixels")
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frame_count = int(stream.frames) if stream.frames else None
    if frame_count is None and fps and duration:
        frame_count = int(round(fps * duration))
    return _VideoProbe(
        width=width,
        height=height,
        codec=ctx.name,
        fps=fps,
        duration_s=max(duration, 0.0),
        frame_count=frame_count,
        rotation=_stream_rotation(stream),
        has_audio=bool(container.streams.audio),
        format=container.format.name.split(",")[0],
    )


def probe(path: str | Path) -> MediaInfo:
    """Metadata of an image or video; raises a ``MediaError`` for anything unusable."""
    path = Path(path)
    size = _check_readable(path)
    digest = sha256_of(path)
    img = open_image(path)
    if img is not None and _is_still(img):
        with img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
            if orientation in (5, 6, 7, 8):
                w, h = h, w
            return MediaInfo(
                path=str(path), kind="image", format=img.format.lower(), size_bytes=size,
                sha256=digest, width=w, height=h,
                rotation={3: 180, 6: 270, 8: 90}.get(orientation, 0),
            )
    if img is not None:
        img.close()
    with _open_container(path) as container:
        vp = _probe_video(path, container)
    w, h = (vp.height, vp.width) if vp.rotation in (90, 270) else (vp.width, vp.height)
    return MediaInfo(
        path=str(path), kind="video", format=vp.format, size_bytes=size, sha256=digest,
        width=w, height=h, codec=vp.codec, fps=vp.fps, duration_s=vp.duration_s,
        frame_count=vp.frame_count, rotation=vp.rotation, has_audio=vp.has_audio,
    )


def _is_still(img) -> bool:
    if img.format not in IMAGE_FORMATS and img.format != "GIF":
        return False
    return getattr(img, "n_frames", 1) == 1


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    # FFmpeg's display-matrix angle is counter-clockwise; np.rot90 turns counter-clockwise.
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


def iter_frames(
    path: str | Path,
    info: MediaInfo,
    *,
    frames: int = 32,
    frames_per_second: float | None = None,
) -> Iterator[Frame]:
    """Yield the frames to analyse: evenly spread over the whole video, streaming."""
    path = Path(path)
    if info.kind == "image":
        img = open_image(path)
        if img is None:
            raise UnsupportedMedia(f"{path.name}: no longer a readable image")
        with img:
            rgb, _ = image_to_rgb(img, path.name)
        yield Frame(index=0, timestamp_s=0.0, rgb=rgb)
        return
    yield from _iter_video_frames(path, info, frames, frames_per_second)


def _iter_video_frames(
    path: Path, info: MediaInfo, frames: int, frames_per_second: float | None
) -> Iterator[Frame]:
    duration = info.duration_s or 0.0
    if frames_per_second:
        targets = dense_timestamps(duration, frames_per_second)
    else:
        targets = even_timestamps(duration, frames)
    fps = info.fps or 25.0
    half_frame = 0.5 / fps
    emitted = 0
    with _open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 1000)
        start = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        position = start
        target_i = 0
        try:
            while target_i < len(targets):
                target = start + targets[target_i]
                if target - position > SEEK_GAP_S:
                    container.seek(int(target / time_base), stream=stream, backward=True)
                got_one = False
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    t = float(frame.pts * time_base)
                    position = t
                    got_one = True
                    if t + half_frame < target:
                        continue
                    rgb = _rotate(frame.to_ndarray(format="rgb24"), info.rotation)
                    rel = max(t - start, 0.0)
                    # several targets can fall on one frame in very short clips
                    while target_i < len(targets) and start + targets[target_i] <= t + half_frame:
                        target_i += 1
                    yield Frame(index=int(round(rel * fps)), timestamp_s=rel, rgb=rgb)
                    emitted += 1
                    if target_i >= len(targets):
                        break
                    target = start + targets[target_i]
                    if target - position > SEEK_GAP_S:
                        break
                if not got_one:
                    break
        except av.FFmpegError as exc:
            if emitted == 0:
                raise CorruptMedia(
                    f"{path.name}: video data is damaged ({exc.strerror or exc})"
                ) from exc
            log.warning("%s: decoding stopped early: %s", path.name, exc)
        except MediaError:
            raise
    if emitted == 0:
        raise CorruptMedia(f"{path.name}: no decodable video frame (truncated or damaged)")
