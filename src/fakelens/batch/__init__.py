"""Archive scale: ``fakelens batch`` runs ``fakelens.analyze`` over many files on Ray
(a local cluster by default, or an existing one), streaming one line per file to JSONL
or Parquet, resumable. Modules: sources (lazy listing), sinks (output), records (the
line and the flat row), resume (what is done), worker (one file), runner (the actor
pool), progress (bar, JSON lines, summary), command (the CLI)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from fakelens.batch.progress import Display, Tally, count_in_background
from fakelens.batch.resume import ResumeIndex, pending
from fakelens.batch.sinks import open_sink
from fakelens.batch.sources import Item, iter_sources
from fakelens.batch.worker import Analyse


def run_batch(sources: Iterable[str], out: str, *, fmt: str = "jsonl",
              list_files: Iterable[str] = (), workers: int | None = None,
              gpus: int | None = None, address: str | None = None, options: dict | None = None,
              display: str = "quiet", summary: bool = False, count: bool = True,
              analyse: Analyse | None = None, verbose: bool = False) -> Tally:
    """Analyse every listed file not yet in ``out``; returns the run's counts. ``gpus``:
    one worker per GPU, each with the detectors on CUDA (``BatchError`` at once when the
    cluster has fewer GPUs)."""
    from fakelens.batch.runner import run_pool, start_ray

    sources, list_files = list(sources), list(list_files)
    sink = open_sink(out, fmt)
    tally = Tally()
    shown = Display(tally, display)
    try:
        index = ResumeIndex(sink.existing())
        if count:
            count_in_background(lambda: iter_sources(sources, list_files), tally)
        skipped = [0]

        def todo():  # the tally sees skips as they happen
            for item in pending(iter_sources(sources, list_files), index, skipped):
                tally.skipped = skipped[0]
                yield item
            tally.skipped = skipped[0]

        items = todo()
        first = next(items, None)
        if first is not None:  # nothing left to do: no cluster started
            plan = start_ray(address, workers, gpus, verbose)
            run_pool(itertools.chain([first], items), sink, tally, shown, plan=plan,
                     options=options or {}, analyse=analyse)
    finally:
        sink.close()
        shown.close(summary)
    return tally


__all__ = ["Item", "Tally", "iter_sources", "run_batch"]
