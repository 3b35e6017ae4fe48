"""Login and registration limits, kept in the database so that every server process
counts together.

The rule (no CAPTCHA): wrong passwords lock the pair (account, client address) with
exponential backoff: ``login_free_failures`` mistakes are free, then each further one
locks that pair for 1, 2, 4 ... seconds (at most 15 minutes); a right password clears
the pair. An address is also limited as a whole (``login_per_minute`` failures a minute),
and an account as a whole (``login_account_failures`` failures an hour from anywhere),
but those wider limits only refuse attempts for accounts that have not logged in from
that address before (30 days): unknown accounts and guessers are stopped while colleagues
behind the same newsroom NAT, or the owner of an account under attack, still get in.

An attempt is counted as a failure *before* its password is checked, in one transaction
whose conditional increments refuse it once a limit is reached (and then count nothing):
parallel attempts cannot all pass the check before the first failure is recorded, so no
more passwords are checked than the limits allow. A right password takes its count back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from fakelens.db.auth_tables import AuthThrottle
from fakelens.db.engine import insert_or_ignore
from fakelens.db.tables import utcnow
from fakelens.web.settings import WebSettings

MAX_LOCK = timedelta(minutes=15)
KNOWN_FOR = timedelta(days=30)
PAIR_WINDOW = timedelta(days=1)
ACCOUNT_WINDOW = timedelta(hours=1)
ADDRESS_WINDOW = timedelta(minutes=1)
REGISTER_WINDOW = timedelta(hours=1)
FETCH_HOUR = timedelta(hours=1)
FETCH_DAY = timedelta(days=1)


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt, counted as a failure before its password is checked (or refused:
    ``retry_after`` seconds to wait, nothing counted, no password to check)."""

    ip: str
    user_id: int | None
    at: datetime
    retry_after: float | None = None
    wide: tuple[str, ...] = ()  # the address and account counters it was counted under


def _row(db: Session, key: str) -> AuthThrottle | None:
    return db.get(AuthThrottle, key, populate_existing=True)


def _count(db: Session, key: str, window: timedelta, now: datetime, *conditions
           ) -> int | None:
    """Count one failure under ``key`` (a new window once the old one is over) if the row
    meets ``conditions`` (e.g. under a limit): the new count, or None (nothing counted).
    The condition and the increment are one UPDATE, so attempts in parallel (other
    threads or processes) each see the count the others left: on PostgreSQL the row lock
    makes a waiting UPDATE evaluate its condition again, on SQLite the first write of the
    transaction takes the database's write lock."""
    insert_or_ignore(db, AuthThrottle.__table__, key=key, failures=0, window_start=now)
    db.execute(update(AuthThrottle).where(AuthThrottle.key == key,
                                          AuthThrottle.window_start <= now - window)
               .values(failures=0, window_start=now))
    return db.execute(update(AuthThrottle).where(AuthThrottle.key == key, *conditions)
                      .values(failures=AuthThrottle.failures + 1)
                      .returning(AuthThrottle.failures)).scalar()


def _under(limit: int | None) -> tuple:
    return () if limit is None else (AuthThrottle.failures < limit,)


def _lock_for(failures: int, settings: WebSettings) -> timedelta | None:
    extra = failures - settings.login_free_failures
    return min(MAX_LOCK, timedelta(seconds=2 ** min(extra - 1, 20))) if extra > 0 else None


def _pair(user_id: int, ip: str) -> str:
    return f"pair:{user_id}:{ip}"


def _known(db: Session, user_id: int, ip: str, now: datetime) -> bool:
    row = _row(db, f"known:{user_id}:{ip}")
    return row is not None and row.window_start > now - KNOWN_FOR


def _refuse(db: Session, attempt: LoginAttempt, seconds: float) -> LoginAttempt:
    db.rollback()  # nothing of a refused attempt is counted
    return LoginAttempt(attempt.ip, attempt.user_id, attempt.at, max(1.0, seconds))


def login_attempt(db: Session, settings: WebSettings, ip: str,
                  user_id: int | None) -> LoginAttempt:
    """Count this attempt (check its password only if ``retry_after`` is None). Keys are
    always taken in the order pair, account, address: parallel transactions never wait for
    each other in a circle."""
    now = utcnow()
    attempt = LoginAttempt(ip, user_id, now)
    db.commit()  # a transaction of its own, begun by a write (SQLite: the write lock)
    known = False
    if user_id is not None:
        pair = _pair(user_id, ip)
        failures = _count(db, pair, PAIR_WINDOW, now, (AuthThrottle.locked_until.is_(None))
                          | (AuthThrottle.locked_until <= now))
        if failures is None:
            return _refuse(db, attempt, (_row(db, pair).locked_until - now).total_seconds())
        lock = _lock_for(failures, settings)
        if lock is not None:  # parallel attempts see it at once
            db.execute(update(AuthThrottle).where(AuthThrottle.key == pair)
                       .values(locked_until=now + lock))
        known = _known(db, user_id, ip, now)
        account = f"account:{user_id}"
        if _count(db, account, ACCOUNT_WINDOW, now,
                  *_under(None if known else settings.login_account_failures)) is None:
            return _refuse(db, attempt, 60.0)
    address = f"ip:{ip}"
    if _count(db, address, ADDRESS_WINDOW, now,
              *_under(None if known else settings.login_per_minute)) is None:
        row = _row(db, address)
        return _refuse(db, attempt, (row.window_start + ADDRESS_WINDOW - now).total_seconds())
    db.commit()
    wide = (address,) if user_id is None else (f"account:{user_id}", address)
    return LoginAttempt(ip, user_id, now, wide=wide)


def login_failed(db: Session, settings: WebSettings, attempt: LoginAttempt) -> None:
    """The attempt is counted already; a pair over its free mistakes is locked again from
    now (its lock started when the attempt was counted)."""
    if attempt.user_id is None:
        return
    pair = _pair(attempt.user_id, attempt.ip)
    row = _row(db, pair)
    lock = _lock_for(row.failures, settings) if row is not None else None
    if lock is not None:
        db.execute(update(AuthThrottle).where(AuthThrottle.key == pair)
                   .values(locked_until=utcnow() + lock))
    db.commit()


def login_succeeded(db: Session, attempt: LoginAttempt) -> None:
    """Clear the pair, remember the address as known, and take the attempt back from the
    address and account counts (unless their window started again since)."""
    assert attempt.user_id is not None
    now = utcnow()
    db.execute(delete(AuthThrottle).where(
        AuthThrottle.key == _pair(attempt.user_id, attempt.ip)))
    key = f"known:{attempt.user_id}:{attempt.ip}"
    if not insert_or_ignore(db, AuthThrottle.__table__, key=key, failures=0,
                            window_start=now):
        db.execute(update(AuthThrottle).where(AuthThrottle.key == key)
                   .values(window_start=now))
    for key in attempt.wide:
        db.execute(update(AuthThrottle).where(AuthThrottle.key == key,
                                              AuthThrottle.window_start <= attempt.at,
                                              AuthThrottle.failures > 0)
                   .values(failures=AuthThrottle.failures - 1))
    db.commit()


def registration_refused_for(db: Session, settings: WebSettings, ip: str) -> float | None:
    """Count a registration attempt from ``ip``; seconds to wait if over the limit (then
    nothing is counted)."""
    now, key = utcnow(), f"register:{ip}"
    db.commit()
    if _count(db, key, REGISTER_WINDOW, now, *_under(settings.registrations_per_hour)) is None:
        row = _row(db, key)
        db.rollback()
        return max(1.0, (row.window_start + REGISTER_WINDOW - now).total_seconds())
    db.commit()
    return None


def link_fetch_refused_for(db: Session, settings: WebSettings, user_id: int
                           ) -> tuple[float, str] | None:
    """Count a link fetch of ``user_id`` against ``fetch_per_hour`` and ``fetch_per_day``
    (one transaction: refused, nothing is counted); (seconds to wait, which limit) if over
    a limit. Kept in the database like the login limits: every server process counts
    together, and deleting an analysis gives no fetch back."""
    now = utcnow()
    db.commit()
    for key, window, limit, which in (
            (f"fetch-hour:{user_id}", FETCH_HOUR, settings.fetch_per_hour, "hour"),
            (f"fetch-day:{user_id}", FETCH_DAY, settings.fetch_per_day, "day")):
        if _count(db, key, window, now, *_under(limit)) is None:
            row = _row(db, key)
            db.rollback()
            return max(1.0, (row.window_start + window - now).total_seconds()), which
    db.commit()
    return None


def purge_stale_throttles(db: Session) -> int:
    now = utcnow()
    result = db.execute(delete(AuthThrottle).where(
        AuthThrottle.window_start < now - KNOWN_FOR - timedelta(days=1),
        (AuthThrottle.locked_until.is_(None)) | (AuthThrottle.locked_until < now)))
    db.commit()
    return result.rowcount or 0
