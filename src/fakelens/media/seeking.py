"""Seeking to the sampled instants of a video: where the key frames are (from the
demuxed packets, no decoding), when a seek beats decoding on, and how to seek.

Indexed containers (MP4, Matroska, ...) seek exactly to the key frame at or before a
time. Stream formats without an index (MPEG-TS, MPEG-PS: the FFmpeg demuxers that allow
timestamp discontinuities) seek by a binary search on their clock, which lands only
roughly, often just after the key frame wanted: the decoder then drops every frame up to
the next key frame, or to the end of the file. These are sought by the byte position of
the key frame's packet instead, which is exact. Whatever the format, the caller checks
where a seek landed (``SeekPlan.landed_late``) and, when it is past the instant wanted,
rewinds and decodes on without seeking (``SeekPlan.rewind``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import av

# Without a key-frame index, a sampled instant further away than this from the current
# decode position is reached by seeking (to the key frame before it).
SEEK_GAP_S = 3.0
# FFmpeg's AVInputFormat flags: a stream format that resyncs anywhere (seek by byte) and
# one whose byte positions mean nothing to it
_TS_DISCONT = 0x0200
_NO_BYTE_SEEK = 0x8000


@dataclass(frozen=True)
class KeyFrame:
    time_s: float  # presentation time (absolute: the stream's start is not subtracted)
    pos: int | None  # byte position of its packet in the file, where known


def read_keyframes(container: av.container.InputContainer,
                   stream: av.video.stream.VideoStream) -> list[KeyFrame]:
    """The video's key frames in time order, from its packets (demuxing, no decoding)."""
    keys = []
    time_base = stream.time_base or Fraction(1, 1000)
    try:
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.pts is not None:
                pos = packet.pos if packet.pos is not None and packet.pos >= 0 else None
                keys.append(KeyFrame(float(packet.pts * time_base), pos))
    except av.FFmpegError:
        pass  # damaged tail: the key frames before it still help
    return sorted(keys, key=lambda k: k.time_s)


def seeks_by_byte(container: av.container.InputContainer) -> bool:
    """Whether to seek this container by byte position (see the module's docstring)."""
    flags = container.format.flags
    return bool(flags & _TS_DISCONT) and not flags & _NO_BYTE_SEEK


class SeekPlan:
    """Decide when seeking beats decoding on (when the key frame at or before the next
    sampled instant lies ahead of the decoder, every frame up to it would be wasted work),
    and seek."""

    def __init__(self, keys: list[KeyFrame], half_frame: float):
        self.keys, self.half_frame = keys, half_frame
        self.times = [k.time_s for k in keys]
        self.off = False  # a seek landed past its instant: decode straight on instead

    def should_seek(self, target: float, position: float) -> bool:
        if self.off:
            return False
        if len(self.keys) < 2:  # no usable index: seek only across long gaps
            return target - position > SEEK_GAP_S
        i = bisect.bisect_right(self.times, target + self.half_frame) - 1
        return i >= 0 and self.times[i] > position + self.half_frame

    def seek(self, container, stream, target: float) -> None:
        """To the key frame at or before ``target`` (absolute seconds)."""
        i = bisect.bisect_right(self.times, target + self.half_frame) - 1
        key = self.keys[i] if i >= 0 else None
        if key is not None and key.pos is not None and seeks_by_byte(container):
            container.seek(key.pos, unsupported_byte_offset=True)
            return
        time_base = stream.time_base or Fraction(1, 1000)
        container.seek(int(target / time_base), stream=stream, backward=True)

    def landed_late(self, t: float, target: float) -> bool:
        """A seek meant for ``target`` gave a frame at ``t`` first: past the instant?"""
        return t > target + self.half_frame

    def rewind(self, container, stream) -> None:
        """Back to the first frame, and no more seeking."""
        self.off = True
        if seeks_by_byte(container):
            container.seek(0, unsupported_byte_offset=True)
        else:
            container.seek(stream.start_time or 0, stream=stream, backward=True)
