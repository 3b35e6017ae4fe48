"""A daemon thread that runs one piece of housekeeping every few seconds until stopped."""

from __future__ import annotations

import logging
import threading
from typing import Self

log = logging.getLogger(__name__)


class Periodic:
    """Subclasses implement ``tick``; a failing tick is logged and tried again next time
    (the database, the queue or the disk may be away for a while: one line each time, no
    traceback)."""

    name = "periodic"

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def tick(self) -> object:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - housekeeping must outlive an outage
                from fakelens.jobs.retry import is_outage

                if is_outage(exc):  # the database, the queue or the disk away: one line
                    log.warning("%s failed: %s: %s", self.name, type(exc).__name__,
                                str(exc).splitlines()[0][:200] if str(exc) else "")
                else:
                    log.warning("%s failed", self.name, exc_info=True)
