"""Probe a file and stream the frames to analyse.

The kind of a file is decided from its content, never from its extension: Pillow is
asked first (stills), then PyAV/FFmpeg (videos and animated images).
"""

from __future__ import annotations

import bisect
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from fakelens.errors import (
    CorruptMedia,
    MediaError,
    MediaTooLarge,
    UnsupportedMedia,
)
from fakelens.media.files import check_readable, sha256_of
from fakelens.media.frames import Frame
from fakelens.media.images import (
    IMAGE_FORMATS,
    MAX_IMAGE_PIXELS,
    exif_warnings,
    image_to_rgb,
    open_image,
)
from fakelens.media.jpeg import jpeg_quality
from fakelens.media.sampling import dense_timestamps, even_timestamps
from fakelens.media.seeking import KeyFrame, SeekPlan, read_keyframes
from fakelens.media.signatures import known_signature
from fakelens.types import MediaInfo

log = logging.getLogger(__name__)

# Formats whose multi-frame files are animations (read as videos through FFmpeg).
ANIMATED_FORMATS = {"GIF", "PNG", "WEBP", "AVIF"}


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
    notes: list[str]
    bits_per_pixel: float | None


def open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        kind = known_signature(path)
        if kind is not None:  # e.g. an MP4 cut before its index (moov atom)
            raise CorruptMedia(
                f"{path.name}: {kind} file that cannot be opened: truncated or damaged "
                f"({reason})"
            ) from exc
        raise UnsupportedMedia(
            f"{path.name}: not a recognised image or video ({reason})"
        ) from exc


def _rank(stream: av.video.stream.VideoStream) -> tuple[bool, bool, int]:
    flags = stream.disposition
    ctx = stream.codec_context
    pixels = int(ctx.width or 0) * int(ctx.height or 0) if ctx is not None else 0
    return (not flags & av.stream.Disposition.attached_pic,
            bool(flags & av.stream.Disposition.default), pixels)


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The video stream to analyse: not cover art, the default one if flagged, else the
    largest picture (the first of equals)."""
    streams = list(container.streams.video)
    return max(streams, key=lambda st: (_rank(st), -streams.index(st)))


def _stream_note(container: av.container.InputContainer,
                 chosen: av.video.stream.VideoStream) -> list[str]:
    others = [st for st in container.streams.video if st is not chosen
              and not st.disposition & av.stream.Disposition.attached_pic]
    if not others:
        return []
    ctx = chosen.codec_context
    why = ("the default one" if chosen.disposition & av.stream.Disposition.default
           else "the largest picture")
    return [f"the file has {len(others) + 1} video streams: only stream #{chosen.index} "
            f"({ctx.width}x{ctx.height}, {why}) was analysed"]


def _first_frame_rotation(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> int:
    """Degrees (counter-clockwise, as FFmpeg's display matrix) to turn frames upright.

    PyAV exposes the display matrix only on decoded frames (FFmpeg attaches the stream's
    side data to each of them), so the first frame is decoded.
    """
    try:
        for frame in container.decode(stream):
            return (round(frame.rotation / 90) * 90) % 360
    except av.FFmpegError:
        pass  # damaged data: reported when the frames are read
    return 0


def _scan_duration(path: Path) -> tuple[float, int]:
    """Duration and frame count from packet timestamps (demuxing only, no decoding), for
    streams whose header has no duration (animated PNG, for one)."""
    end, count = 0.0, 0
    with open_container(path) as container:
        stream = video_stream(container)
        time_base = stream.time_base or Fraction(1, 1000)
        start = stream.start_time or 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # flush packet at the end
                    continue
                count += 1
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is not None:
                    end = max(end, float((ts - start + (packet.duration or 0)) * time_base))
        except av.FFmpegError:
            pass  # truncated: what was read so far
    return end, count


# ISO base media major brands (ftyp) of QuickTime and 3GPP; any other brand is MP4's family
_QUICKTIME_BRANDS = (b"qt  ",)
_3GP_BRANDS = (b"3gp", b"3g2")
_AUDIO_MP4_BRANDS = (b"M4A ", b"M4B ", b"M4P ")


def container_format(path: Path, demuxer: str) -> str:
    """The container's name as people know it. FFmpeg's demuxers read a family each and
    are named after all of it ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"): the file's
    own header says which one it is (the ``ftyp`` brand, the EBML doctype)."""
    names = demuxer.split(",")
    if "mp4" in names or "mov" in names:
        with path.open("rb") as fh:
            head = fh.read(12)
        if head[4:8] != b"ftyp":  # an old QuickTime file starts with moov, mdat, wide...
            return "mov"
        brand = head[8:12]
        if brand in _QUICKTIME_BRANDS:
            return "mov"
        if brand.startswith(_3GP_BRANDS):
            return brand[:3].decode()
        return "m4a" if brand in _AUDIO_MP4_BRANDS else "mp4"
    if "webm" in names and "matroska" in names:
        with path.open("rb") as fh:
            head = fh.read(64)  # the EBML header, DocType (0x4282) among its first fields
        at = head.find(b"\x42\x82")
        return "webm" if at >= 0 and b"webm" in head[at + 2:at + 12] else "matroska"
    return names[0]


def _probe_video(path: Path, container: av.container.InputContainer) -> _VideoProbe:
    if not container.streams.video:
        kind = "audio-only file" if container.streams.audio else "file without a video stream"
        raise UnsupportedMedia(f"{path.name}: {kind}; nothing to analyse")
    stream = video_stream(container)
    ctx = stream.codec_context
    if ctx is None or not ctx.name:
        raise UnsupportedMedia(f"{path.name}: video codec not supported by this FFmpeg build")
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width <= 0 or height <= 0:
        raise UnsupportedMedia(
            f"{path.name}: the size of its {ctx.name} pictures is unknown: a variant this "
            "FFmpeg build cannot decode (such as animated WebP), or a damaged file"
        )
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
    rotation = _first_frame_rotation(container, stream)
    if duration <= 0:
        duration, counted = _scan_duration(path)
        frame_count = frame_count or counted or None
    if frame_count is None and fps and duration:
        frame_count = int(round(fps * duration))
    return _VideoProbe(
        bits_per_pixel=_bits_per_pixel(path, container, stream, fps, duration),
        width=width,
        height=height,
        codec=ctx.name,
        fps=fps,
        duration_s=max(duration, 0.0),
        frame_count=frame_count,
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        format=container_format(path, container.format.name),
        notes=_stream_note(container, stream),
    )


def _bits_per_pixel(path: Path, container, stream, fps: float | None,
                    duration: float) -> float | None:
    """Video bits per pixel and frame: the stream's bit rate, or the file's size less its
    audio over the duration when the container does not say."""
    pixels = stream.codec_context.width * stream.codec_context.height
    if not fps or duration <= 0 or pixels <= 0:
        return None
    rate = stream.bit_rate or path.stat().st_size * 8 / duration - sum(
        a.bit_rate or 0 for a in container.streams.audio)
    return round(rate / (pixels * fps), 5) if rate > 0 else None


def probe(path: str | Path, *, allow_audio: bool = False) -> MediaInfo:
    """Metadata of an image or video (or, with ``allow_audio``, of an audio-only file:
    kind ``audio``, no picture); raises a ``MediaError`` for anything unusable."""
    path = Path(path)
    size = check_readable(path)
    digest = sha256_of(path)
    img = open_image(path)
    if img is not None and _is_still(img):
        with img:
            w, h = img.size
            orientation = _orientation(img, path)
            if orientation in (5, 6, 7, 8):
                w, h = h, w
            return MediaInfo(
                path=str(path), kind="image", format=img.format.lower(), size_bytes=size,
                sha256=digest, width=w, height=h,
                rotation={3: 180, 6: 270, 8: 90}.get(orientation, 0),
                jpeg_quality=jpeg_quality(img),
            )
    if img is not None:
        img.close()
    with open_container(path) as container:
        if allow_audio and not container.streams.video and container.streams.audio:
            return _probe_audio(path, container, size, digest)
        vp = _probe_video(path, container)
    w, h = (vp.height, vp.width) if vp.rotation in (90, 270) else (vp.width, vp.height)
    return MediaInfo(
        path=str(path), kind="video", format=vp.format, size_bytes=size, sha256=digest,
        width=w, height=h, codec=vp.codec, fps=vp.fps, duration_s=vp.duration_s,
        frame_count=vp.frame_count, rotation=vp.rotation, has_audio=vp.has_audio,
        bits_per_pixel=vp.bits_per_pixel, warnings=vp.notes,
    )


def _probe_audio(path: Path, container, size: int, digest: str) -> MediaInfo:
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    if ctx is None or not ctx.name:
        raise UnsupportedMedia(f"{path.name}: audio codec not supported by this FFmpeg build")
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = None
    return MediaInfo(path=str(path), kind="audio",
                     format=container_format(path, container.format.name),
                     size_bytes=size, sha256=digest, width=0, height=0, codec=ctx.name,
                     duration_s=duration, has_audio=True)


def _orientation(img, path: Path) -> int:
    """The EXIF orientation tag (1: as stored). Reading EXIF may decode the whole file (PNG
    keeps it after the pixels), so damaged image data surfaces here."""
    try:
        with exif_warnings():  # a damaged EXIF block: the provenance check says so
            return int(img.getexif().get(0x0112, 1) or 1)
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as exc:
        log.info("EXIF of %s unreadable: %s", path, exc)
        raise CorruptMedia(f"{path.name}: the image data is damaged and cannot be read"
                           ) from exc


def _is_still(img) -> bool:
    if img.format not in IMAGE_FORMATS and img.format != "GIF":
        return False
    if img.format not in ANIMATED_FORMATS:
        return True  # multi-page TIFF, MPO (camera JPEG + previews): the first image
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
    keyframes_only: bool = False,
) -> Iterator[Frame]:
    """Yield the frames to analyse: evenly spread over the whole video, streaming.

    ``keyframes_only`` snaps each sampled instant to the nearest key frame and decodes
    key frames alone (much faster on long videos; the frames are then only roughly even,
    and the exact sampling is used when the video has too few key frames)."""
    path = Path(path)
    if info.kind == "image":
        img = open_image(path)
        if img is None:
            raise UnsupportedMedia(f"{path.name}: no longer a readable image")
        with img:
            rgb, _ = image_to_rgb(img, path.name)
        yield Frame(index=0, timestamp_s=0.0, rgb=rgb)
        return
    if keyframes_only:
        keys = _keyframe_times(path)
        wanted = _snap_to_keyframes(_targets(info, frames, frames_per_second), keys)
        if len(wanted) >= max(2, frames // 2):
            yield from _iter_keyframes(path, info, wanted)
            return
    yield from _iter_video_frames(path, info, frames, frames_per_second)


def _targets(info: MediaInfo, frames: int, frames_per_second: float | None) -> list[float]:
    duration = info.duration_s or 0.0
    if frames_per_second:
        return dense_timestamps(duration, frames_per_second)
    return even_timestamps(duration, frames)


def _snap_to_keyframes(targets: list[float], keys: list[float]) -> list[float]:
    """The distinct key-frame times nearest to the sampled instants (relative to start)."""
    if not keys:
        return []
    start = keys[0]
    rel = [k - start for k in keys]
    snapped = set()
    for t in targets:
        i = bisect.bisect_left(rel, t)
        near = min((j for j in (i - 1, i) if 0 <= j < len(rel)), key=lambda j: abs(rel[j] - t))
        snapped.add(keys[near])
    return sorted(snapped)


def _iter_keyframes(path: Path, info: MediaInfo, wanted: list[float]) -> Iterator[Frame]:
    fps = info.fps or 25.0
    wanted_set = {round(k, 6) for k in wanted}
    emitted = 0
    with open_container(path) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONKEY"  # the decoder drops every other frame
        time_base = stream.time_base or Fraction(1, 1000)
        start = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * time_base)
                if round(t, 6) not in wanted_set:
                    continue
                rel = max(t - start, 0.0)
                rgb = _rotate(frame.to_ndarray(format="rgb24"), info.rotation)
                yield Frame(index=int(round(rel * fps)), timestamp_s=rel, rgb=rgb,
                            snapped_to_keyframe=True)
                emitted += 1
        except av.FFmpegError as exc:
            if emitted == 0:
                raise CorruptMedia(
                    f"{path.name}: video data is damaged ({exc.strerror or exc})") from exc
            log.warning("%s: decoding stopped early: %s", path.name, exc)
    if emitted == 0:
        raise CorruptMedia(f"{path.name}: no decodable video frame (truncated or damaged)")


def _keyframe_index(path: Path) -> list[KeyFrame]:
    with open_container(path) as container:
        return read_keyframes(container, video_stream(container))


def _keyframe_times(path: Path) -> list[float]:
    """Presentation times of the video's key frames, from packets (no decoding)."""
    return [k.time_s for k in _keyframe_index(path)]


def _iter_video_frames(
    path: Path, info: MediaInfo, frames: int, frames_per_second: float | None
) -> Iterator[Frame]:
    targets = _targets(info, frames, frames_per_second)
    fps = info.fps or 25.0
    half_frame = 0.5 / fps
    plan = SeekPlan(_keyframe_index(path), half_frame)
    emitted = 0
    with open_container(path) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        time_base = stream.time_base or Fraction(1, 1000)
        start = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        position = start
        target_i = 0
        try:
            while target_i < len(targets):
                target = start + targets[target_i]
                sought = plan.should_seek(target, position)
                if sought:
                    plan.seek(container, stream, target)
                late = False
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    t = float(frame.pts * time_base)
                    if sought:  # where did the seek land?
                        sought, late = False, plan.landed_late(t, target)
                        if late:
                            break
                    position = t
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
                    if plan.should_seek(target, position):
                        break
                else:
                    late = sought  # a seek that gave no frame at all
                    if not late:
                        # End of the stream: the remaining instants lie beyond the last
                        # frame (truncated file, or a duration in the header longer than
                        # the data). Seeking again would land on the same key frame.
                        break
                if late:  # a rough seek, past the instant: from the start, no more seeks
                    plan.rewind(container, stream)
                    position = start
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
