"""Database calls of the job code that ride out short outages (a restarted PostgreSQL, a
locked SQLite file): retried with exponential backoff instead of dropping the job."""

from __future__ import annotations

import errno
import logging
import sqlite3
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


SQLITE_FULL_MESSAGE = "database or disk is full"
POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_disk_full(exc: BaseException) -> bool:
    """No space left: an ``OSError`` (ENOSPC, EDQUOT), or a database or queue write that
    failed for it (SQLite's SQLITE_FULL, PostgreSQL's disk_full), bare or wrapped by
    SQLAlchemy."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's
    for err in (exc, orig):
        if isinstance(err, sqlite3.Error):
            code = getattr(err, "sqlite_errorcode", None)
            if code == sqlite3.SQLITE_FULL or SQLITE_FULL_MESSAGE in str(err):
                return True
        elif getattr(err, "sqlstate", None) == POSTGRES_DISK_FULL:
            return True
    return False


def is_outage(exc: BaseException) -> bool:
    """The database, the queue or the disk away (worth one line in a log, not a
    traceback every few seconds)."""
    import redis.exceptions

    return is_disk_full(exc) or is_transient(exc) or isinstance(
        exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
        | sqlite3.OperationalError)


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
