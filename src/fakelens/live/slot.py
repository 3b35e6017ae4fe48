"""Newest wins: a one-item hand-over between a producer (decoder, WebSocket) and the
analyser. A frame that arrives while the previous one still waits replaces it and counts as
dropped, so work never queues up without limit and latency stays bounded."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class Closed(Exception):
    """The producer has finished (``reason`` says why; ``error`` for a stream problem)."""

    def __init__(self, reason: str, error: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.error = error


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed: Closed | None = None
        self.received = 0
        self.dropped = 0
        self.last_put = time.monotonic()

    def put(self, item: T) -> None:
        """Hand over ``item``, replacing (dropping) one that was not taken yet."""
        with self._cond:
            self.received += 1
            self.last_put = time.monotonic()
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify_all()

    def put_wait(self, item: T, stop: threading.Event) -> bool:
        """Hand over ``item`` after the previous one was taken (no dropping: files analysed
        as fast as possible). False when ``stop`` was set meanwhile."""
        with self._cond:
            while self._item is not None and not stop.is_set() and self._closed is None:
                self._cond.wait(0.1)
            if stop.is_set() or self._closed is not None:
                return False
            self.received += 1
            self.last_put = time.monotonic()
            self._item = item
            self._cond.notify_all()
            return True

    def get(self, timeout: float) -> T | None:
        """The newest item, or None after ``timeout`` seconds; ``Closed`` once the producer
        closed the slot and nothing is left."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._item is None:
                if self._closed is not None:
                    raise self._closed
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def close(self, reason: str, error: bool = False) -> None:
        with self._cond:
            if self._closed is None:
                self._closed = Closed(reason, error)
            self._cond.notify_all()

    @property
    def closed(self) -> Closed | None:
        return self._closed
