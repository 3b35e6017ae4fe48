"""Progress of a batch: a rich bar on a terminal (files/s, ETA, failures), JSON lines for
machines (``--jsonl-progress``), and the counts behind ``--summary``."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable


class Tally:
    """Counts of one run: analysed by verdict, errors by type, skipped (done before)."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.skipped = 0
        self.started = time.monotonic()
        self.total: int | None = None  # files listed, once the counting pass is through

    @property
    def done(self) -> int:
        return sum(self.verdicts.values()) + sum(self.errors.values())

    def add(self, doc: dict) -> None:
        if "error" in doc:
            self.errors[doc["error"]["type"]] += 1
        else:
            self.verdicts[doc["verdict"]] += 1

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def summary(self) -> dict:
        return {"analysed": self.done, "skipped": self.skipped,
                "failed": sum(self.errors.values()), "verdicts": dict(self.verdicts),
                "errors": dict(self.errors),
                "seconds": round(time.monotonic() - self.started, 2),
                "files_per_s": round(self.rate(), 3)}


def count_in_background(items: Callable[[], Iterable], tally: Tally) -> threading.Thread:
    """A second, counting pass over the listing (nothing kept) so that the bar has a
    total and an ETA; the run does not wait for it."""
    def work() -> None:
        n = 0
        for _ in items():
            n += 1
        tally.total = n

    thread = threading.Thread(target=work, name="fakelens-batch-count", daemon=True)
    thread.start()
    return thread


class Display:
    """``mode``: 'bar' (rich, on stderr), 'jsonl' (one object per event on stdout) or
    'quiet'."""

    def __init__(self, tally: Tally, mode: str = "bar"):
        self.tally, self.mode = tally, mode
        self._bar = self._task = None
        if mode == "bar":
            import rich.progress as rp
            from rich.console import Console

            self._bar = rp.Progress(rp.TextColumn("batch"), rp.BarColumn(),
                                    rp.MofNCompleteColumn(),
                                    rp.TextColumn("{task.fields[rate]:.2f} files/s"),
                                    rp.TextColumn("[red]{task.fields[failed]} failed"),
                                    rp.TimeElapsedColumn(), rp.TimeRemainingColumn(),
                                    console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task("batch", total=None, rate=0.0, failed=0)
            self._bar.start()

    def _emit(self, event: dict) -> None:
        print(json.dumps(event), flush=True)

    def update(self, doc: dict | None = None) -> None:
        t = self.tally
        if self.mode == "jsonl":
            event = {"event": "file", "file": doc["file"],
                     "status": "error" if "error" in doc else doc["verdict"]} if doc else {
                "event": "progress"}
            self._emit(event | {"done": t.done, "skipped": t.skipped,
                                "failed": sum(t.errors.values()), "total": t.total,
                                "files_per_s": round(t.rate(), 3)})
        elif self._bar is not None:
            self._bar.update(self._task, completed=t.done + t.skipped, total=t.total,
                             rate=t.rate(), failed=sum(t.errors.values()))

    def close(self, summary: bool = False) -> None:
        if self._bar is not None:
            self.update()
            self._bar.stop()
        if summary:
            s = self.tally.summary()
            if self.mode == "jsonl":
                self._emit({"event": "summary"} | s)
            else:
                print(format_summary(s), file=sys.stdout, flush=True)


def format_summary(s: dict) -> str:
    lines = [f"analysed {s['analysed']} files in {s['seconds']:.1f} s "
             f"({s['files_per_s']:.2f} files/s), skipped {s['skipped']} already done, "
             f"{s['failed']} failed"]
    for verdict, n in sorted(s["verdicts"].items()):
        lines.append(f"  {verdict:<10} {n}")
    for kind, n in sorted(s["errors"].items()):
        lines.append(f"  error {kind:<20} {n}")
    return "\n".join(lines)
