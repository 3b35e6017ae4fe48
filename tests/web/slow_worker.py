"""``python slow_worker.py [-v] worker ...``: the ``fakelens`` CLI whose analyses wait (for
the file ``$SLOW_JOB_RELEASE`` to exist) before they run for real, so that a test can stop
a worker in the middle of a job on any machine. While it waits the job reports progress,
unless ``SLOW_JOB_SILENT=1`` (a job inside one long computation)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import fakelens.analysis.pipeline as pipeline
from fakelens.cli import main

real = pipeline.analyze_detailed


def slow_analyze_detailed(path, *args, progress=None, **kwargs):
    release = Path(os.environ["SLOW_JOB_RELEASE"])
    silent = os.environ.get("SLOW_JOB_SILENT") == "1"
    fraction = 0.0
    while not release.exists():
        if progress is not None and not silent:
            fraction = min(0.5, fraction + 0.01)
            progress("decode", fraction)
        time.sleep(0.05)
    return real(path, *args, progress=progress, **kwargs)


pipeline.analyze_detailed = slow_analyze_detailed

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
