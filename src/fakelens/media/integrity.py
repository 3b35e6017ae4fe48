"""Whole-file checks: is a probed file complete? ``probe`` reads a header and little more;
a server runs ``check_whole`` before it accepts an upload or a fetched link, so that a cut
JPEG, GIF or WebM is refused at once like a cut MP4 or PNG."""

from __future__ import annotations

import zlib
from pathlib import Path

import av

from fakelens.errors import CorruptMedia
from fakelens.media.images import open_image
from fakelens.media.load import open_container
from fakelens.types import MediaInfo


def check_whole(path: str | Path, info: MediaInfo) -> None:
    """Raise ``CorruptMedia`` when the probed file is cut short or damaged in its data (what
    ``probe`` reads is the header and little more): every image's pixels are decoded (each
    frame of an animated one), every packet of a video demuxed, without decoding, and its
    end compared with what the header promised. What a server checks before it accepts an
    upload, so that a cut JPEG, GIF or WebM is refused at once like a cut MP4 or PNG."""
    path = Path(path)
    img = open_image(path) if info.kind in ("image", "video") else None
    if img is not None:
        with img:
            _check_image_data(img, path, every_frame=info.kind == "video")
        return
    if info.kind == "video":
        _check_container_data(path)


def _check_image_data(img, path: Path, every_frame: bool) -> None:
    try:
        for index in range(getattr(img, "n_frames", 1) if every_frame else 1):
            img.seek(index)
            img.load()
    except (OSError, ValueError, SyntaxError, EOFError, zlib.error) as exc:
        raise CorruptMedia(f"{path.name}: image data is damaged or truncated ({exc})"
                           ) from exc


_EBML_SEGMENT = b"\x18\x53\x80\x67"


def _ebml_size(data: bytes, at: int) -> tuple[int | None, int]:
    """An EBML variable-size integer at ``at``: (value, or None for "unknown"; its end)."""
    first = data[at]
    length = 8 - first.bit_length() + 1
    if first == 0 or at + length > len(data):
        raise ValueError("bad EBML size")
    value = first & ((1 << (8 - length)) - 1)
    for byte in data[at + 1:at + length]:
        value = value << 8 | byte
    return (None if value == (1 << (7 * length)) - 1 else value), at + length


def _matroska_cut(path: Path) -> bool:
    """A Matroska/WebM file shorter than its Segment says (a size written by the muxer;
    a live recording may leave it unknown)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    at = head.find(_EBML_SEGMENT)
    if not head.startswith(b"\x1a\x45\xdf\xa3") or at < 0:
        return False
    try:
        size, start = _ebml_size(head, at + len(_EBML_SEGMENT))
    except (ValueError, IndexError):
        return False
    return size is not None and start + size > path.stat().st_size


def _check_container_data(path: Path) -> None:
    cut = CorruptMedia(f"{path.name}: the file is cut short: truncated or damaged (its data "
                       "ends before what its header describes)")
    if _matroska_cut(path):
        raise cut
    with open_container(path) as container:
        start = (container.start_time or 0) / av.time_base
        promised = container.duration / av.time_base if container.duration else None
        reached = 0.0
        try:
            for packet in container.demux():
                if packet.size == 0:
                    continue
                if packet.is_corrupt:
                    raise cut
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is not None and packet.time_base is not None:
                    end = float((ts + (packet.duration or 0)) * packet.time_base) - start
                    reached = max(reached, end)
        except av.FFmpegError as exc:
            raise CorruptMedia(f"{path.name}: video data is damaged or truncated "
                               f"({exc.strerror or exc})") from exc
    # a little slack: the last packet's duration is not always written
    if promised and reached < promised * 0.95 - 0.25:
        raise cut
