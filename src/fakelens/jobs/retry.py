"""Database calls of the job code that ride out short outages (a restarted PostgreSQL, a
locked SQLite file): retried with exponential backoff instead of dropping the job."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """A lost connection or an unreachable/locked database (not a bug in a statement)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError)
                                                 and exc.connection_invalidated)


def with_retry(call: Callable[[], T], what: str, give_up_after_s: float = 60.0,
               first_delay_s: float = 0.1, max_delay_s: float = 5.0) -> T:
    """``call()``, again after each transient database error (0.1 s, 0.2 s, ... at most
    ``max_delay_s`` apart) until ``give_up_after_s`` has passed; then the last error is
    raised (the job row is unchanged, so the sweeper enqueues it again later)."""
    deadline = time.monotonic() + give_up_after_s
    delay = first_delay_s
    while True:
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: database unavailable (%s); retrying in %.1f s", what,
                        type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(max_delay_s, delay * 2)
