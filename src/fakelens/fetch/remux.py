"""A stream's joined segments (MPEG-TS) put into an MP4 file, packets copied as they are
(no re-encoding): MPEG-TS starts at an arbitrary time and seeks only roughly, MP4 starts
at 0 and has an index, so the frames sampled are those of the same video as a file.
Done with PyAV on the local file only (no network, no external program)."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger(__name__)

KINDS = ("video", "audio")


def ts_to_mp4(source: Path) -> Path | None:
    """``source`` remuxed into ``source.with_suffix('.mp4')`` (the source removed), or None
    when its streams do not fit in MP4 (then the source is kept as it is)."""
    target = source.with_suffix(".mp4")
    try:
        with av.open(str(source)) as inp:
            streams = [s for s in inp.streams if s.type in KINDS]
            if not any(s.type == "video" for s in streams):
                return None
            starts = [float(s.start_time * s.time_base) for s in streams
                      if s.start_time is not None and s.time_base]
            start = min(starts, default=0.0)
            with av.open(str(target), "w", format="mp4") as out:
                mapped = {s.index: out.add_stream_from_template(s) for s in streams}
                for packet in inp.demux(streams):
                    if packet.dts is None or packet.size == 0:
                        continue  # a flush packet, or one without a time
                    tb: Fraction = packet.time_base
                    shift = int(round(start / tb))
                    packet.dts -= shift
                    if packet.pts is not None:
                        packet.pts -= shift
                    packet.stream = mapped[packet.stream.index]
                    out.mux(packet)
    except (av.FFmpegError, ValueError, OverflowError) as exc:
        log.info("%s: kept as MPEG-TS (not remuxed: %s)", source.name, exc)
        target.unlink(missing_ok=True)
        return None
    source.unlink()
    return target
