"""A live session from a source named on the command line: decode in one thread, analyse
the newest frame in this one, make an update every second, end on the stream's end, a
stall, a decoding failure or ``stop`` (Ctrl-C), always with a summary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fakelens.analysis.pipeline import DetailedAnalysis
from fakelens.live.analyser import LiveAnalyser, LiveOptions
from fakelens.live.models import FrameResult, LiveSummary, LiveUpdate
from fakelens.live.slot import Closed, LatestSlot
from fakelens.live.sources import Decoder, SourceSpec
from fakelens.live.summary import build_analysis, summarise
from fakelens.media.frames import Frame


@dataclass
class LiveResult:
    detailed: DetailedAnalysis
    summary: LiveSummary


def run_live(spec: SourceSpec, *, options: LiveOptions | None = None, settings=None,
             on_update: Callable[[LiveUpdate], None] | None = None,
             on_frame: Callable[[FrameResult], None] | None = None,
             stop: threading.Event | None = None, stall_s: float = 10.0,
             max_fps: float | None = None, update_every_s: float = 1.0,
             max_seconds: float | None = None) -> LiveResult:
    """Follow ``spec`` until it ends (or ``stop`` is set, or ``max_seconds`` pass)."""
    stop = stop or threading.Event()
    analyser = LiveAnalyser(spec.label, options, settings)  # models load before the source
    slot: LatestSlot[Frame] = LatestSlot()
    decoder = Decoder(spec, slot, timeout_s=stall_s, max_fps=max_fps).start()
    ended, error = "stopped", False
    next_update = time.monotonic() + update_every_s
    try:
        while True:
            if stop.is_set():
                ended = "stopped by the user"
                break
            if max_seconds is not None and time.monotonic() - analyser.started >= max_seconds:
                ended = f"stopped after {max_seconds:g} s"
                break
            try:
                frame = slot.get(timeout=0.2)
            except Closed as closed:
                ended, error = closed.reason, closed.error
                break
            if frame is not None:
                result = analyser.analyse(frame)
                if on_frame:
                    on_frame(result)
            elif time.monotonic() - slot.last_put > stall_s:
                ended, error = f"the stream stalled: no frame for {stall_s:g} s", True
                break
            if on_update and time.monotonic() >= next_update:
                next_update += update_every_s * max(1, int((time.monotonic() - next_update)
                                                           / update_every_s) + 1)
                on_update(analyser.update(slot.received, slot.dropped))
    except KeyboardInterrupt:
        ended = "stopped by the user (Ctrl-C)"
    finally:
        decoder.stop()
    if on_update:
        on_update(analyser.update(slot.received, slot.dropped))
    detailed = build_analysis(analyser, received=slot.received, dropped=slot.dropped,
                              ended=ended)
    summary = summarise(analyser, detailed.analysis, received=slot.received,
                        dropped=slot.dropped, ended=ended, error=error)
    decoder.join(2.0)
    return LiveResult(detailed, summary)
