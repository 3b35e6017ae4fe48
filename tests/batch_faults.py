"""Faults for the batch tests, run inside Ray actors (pickled by value): a worker that
dies on a file every time, or only the first time."""

from __future__ import annotations

import os
from pathlib import Path


def crashing_analyse(item, options):
    from fakelens.batch.worker import analyse_item

    name = Path(item.file).name
    if name.startswith("crash-always"):
        os._exit(1)
    if name.startswith("crash-once"):
        marker = Path(str(item.file) + ".crashed")
        if not marker.exists():
            marker.write_text("x")
            os._exit(1)
    return analyse_item(item, options)
