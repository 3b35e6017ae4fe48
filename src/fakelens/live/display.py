"""How ``fakelens live`` shows a session: a rich live table on a terminal, one plain line
per update in a pipe, or one JSON object per update (``--jsonl``); alerts and the summary
always stand on their own lines."""

from __future__ import annotations

import json
import sys

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from fakelens.analysis.caveats import verdict_label
from fakelens.live.models import LiveSummary, LiveUpdate


def _faces(update: LiveUpdate) -> str:
    return ", ".join(f"face {f.track_id + 1} {f.score:.2f}" + (" ALERT" if f.alert else "")
                     for f in update.faces) or "no face"


def line(update: LiveUpdate) -> str:
    score = "-" if update.score is None else f"{update.score:.2f}"
    return (f"[{update.stream_time_s:7.1f} s] {verdict_label(update.verdict)} {score} | "
            f"{_faces(update)}"
            f" | {update.analysed_fps:.1f} fps, {update.frames_dropped} dropped")


class Display:
    def __init__(self, jsonl: bool = False, rich: bool | None = None, quiet: bool = False):
        self.jsonl = jsonl
        self.quiet = quiet
        self.rich = (sys.stdout.isatty() if rich is None else rich) and not jsonl and not quiet
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self._live: Live | None = None

    def __enter__(self) -> Display:
        if self.rich:
            self._live = Live(console=self.out, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live:
            self._live.__exit__(*exc)
            self._live = None

    def update(self, update: LiveUpdate) -> None:
        if self.jsonl:
            print(json.dumps({"type": "update", **update.model_dump(mode="json")}), flush=True)
        for alert in update.alerts:
            if not self.jsonl:
                (self._live.console if self._live else self.err).print(
                    f"[bold red]{escape(alert.message)}[/bold red]")
        if self._live:
            self._live.update(self._table(update))
        elif not self.jsonl and not self.quiet:
            print(line(update), flush=True)

    def _table(self, update: LiveUpdate) -> Group:
        table = Table(title=None)
        for col in ("face", "rolling score", "this frame", "frames", "above for", ""):
            table.add_column(col)
        for f in update.faces:
            table.add_row(str(f.track_id + 1), f"{f.score:.3f}",
                          "-" if f.frame_score is None else f"{f.frame_score:.3f}",
                          str(f.frames), f"{f.above_for_s:.1f} s",
                          "[bold red]ALERT[/bold red]" if f.alert else "")
        score = "-" if update.score is None else f"{update.score:.3f}"
        head = (f"[bold]{verdict_label(update.verdict)}[/bold] {score} (threshold "
                f"{update.threshold:.2f}) at {update.stream_time_s:.1f} s; "
                f"{update.analysed_fps:.1f} frames/s analysed, {update.frames_dropped} dropped")
        return Group(head, table)

    def summary(self, summary: LiveSummary, reason: str, report: str | None) -> None:
        if self.jsonl:
            print(json.dumps({"type": "summary", **summary.model_dump(mode="json"),
                              "reason": reason, "report": report}), flush=True)
            return
        score = "-" if summary.score is None else f"{summary.score:.3f}"
        lines = [f"live session ended: {summary.ended}",
                 f"summary: {verdict_label(summary.verdict)} {score} over "
                 f"{summary.frames_analysed} "
                 f"analysed frames ({summary.frames_received} received, "
                 f"{summary.frames_dropped} dropped) in {summary.elapsed_s:.1f} s; "
                 f"{len(summary.alerts)} alert(s)",
                 reason]
        lines += [a.message + f" at {a.timestamp_s:.1f} s" for a in summary.alerts]
        if report:
            lines.append(f"report: {report}")
        for text in lines:
            self.out.print(escape(text))
