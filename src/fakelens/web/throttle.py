"""Login and registration limits, kept in the database so that every server process
counts together.

The rule (no CAPTCHA): wrong passwords lock the pair (account, client address) with
exponential backoff: ``login_free_failures`` mistakes are free, then each further one
locks that pair for 1, 2, 4 ... seconds (at most 15 minutes); a right password clears
the pair. An address is also limited as a whole (``login_per_minute`` failures a minute),
and an account as a whole (``login_account_failures`` failures an hour from anywhere),
but those wider limits only refuse attempts for accounts that have not logged in from
that address before (30 days): unknown accounts and guessers are stopped while colleagues
behind the same newsroom NAT, or the owner of an account under attack, still get in."""

from __future__ import annotations

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


def _row(db: Session, key: str) -> AuthThrottle | None:
    return db.get(AuthThrottle, key, populate_existing=True)


def _failures(db: Session, key: str, window: timedelta, now: datetime) -> int:
    row = _row(db, key)
    return row.failures if row and row.window_start > now - window else 0


def _locked_for(db: Session, key: str, now: datetime) -> float | None:
    row = _row(db, key)
    if row and row.locked_until and row.locked_until > now:
        return max(1.0, (row.locked_until - now).total_seconds())
    return None


def _fail(db: Session, key: str, window: timedelta, now: datetime) -> int:
    """Count one failure under ``key`` (a new window once the old one is over)."""
    insert_or_ignore(db, AuthThrottle.__table__, key=key, failures=0, window_start=now)
    db.execute(update(AuthThrottle).where(AuthThrottle.key == key,
                                          AuthThrottle.window_start <= now - window)
               .values(failures=0, window_start=now))
    db.execute(update(AuthThrottle).where(AuthThrottle.key == key)
               .values(failures=AuthThrottle.failures + 1))
    db.commit()
    return _row(db, key).failures


def _pair(user_id: int, ip: str) -> str:
    return f"pair:{user_id}:{ip}"


def _known(db: Session, user_id: int, ip: str, now: datetime) -> bool:
    row = _row(db, f"known:{user_id}:{ip}")
    return row is not None and row.window_start > now - KNOWN_FOR


def login_refused_for(db: Session, settings: WebSettings, ip: str,
                      user_id: int | None) -> float | None:
    """Seconds to wait before this attempt may be checked, or None (check it)."""
    now = utcnow()
    if user_id is not None:
        locked = _locked_for(db, _pair(user_id, ip), now)
        if locked is not None:
            return locked
        if _known(db, user_id, ip, now):
            return None
        if _failures(db, f"account:{user_id}", timedelta(hours=1), now) >= (
                settings.login_account_failures):
            return 60.0
    if _failures(db, f"ip:{ip}", timedelta(minutes=1), now) >= settings.login_per_minute:
        row = _row(db, f"ip:{ip}")
        return max(1.0, (row.window_start + timedelta(minutes=1) - now).total_seconds())
    return None


def login_failed(db: Session, settings: WebSettings, ip: str, user_id: int | None) -> None:
    now = utcnow()
    _fail(db, f"ip:{ip}", timedelta(minutes=1), now)
    if user_id is None:
        return
    _fail(db, f"account:{user_id}", timedelta(hours=1), now)
    failures = _fail(db, _pair(user_id, ip), PAIR_WINDOW, now)
    extra = failures - settings.login_free_failures
    if extra > 0:
        lock = min(MAX_LOCK, timedelta(seconds=2 ** min(extra - 1, 20)))
        db.execute(update(AuthThrottle).where(AuthThrottle.key == _pair(user_id, ip))
                   .values(locked_until=now + lock))
        db.commit()


def login_succeeded(db: Session, user_id: int, ip: str) -> None:
    now = utcnow()
    db.execute(delete(AuthThrottle).where(AuthThrottle.key == _pair(user_id, ip)))
    key = f"known:{user_id}:{ip}"
    if not insert_or_ignore(db, AuthThrottle.__table__, key=key, failures=0,
                            window_start=now):
        db.execute(update(AuthThrottle).where(AuthThrottle.key == key)
                   .values(window_start=now))
    db.commit()


def registration_refused_for(db: Session, settings: WebSettings, ip: str) -> float | None:
    """Count a registration attempt from ``ip``; seconds to wait if over the limit."""
    now, key = utcnow(), f"register:{ip}"
    if _failures(db, key, timedelta(hours=1), now) >= settings.registrations_per_hour:
        row = _row(db, key)
        return max(1.0, (row.window_start + timedelta(hours=1) - now).total_seconds())
    _fail(db, key, timedelta(hours=1), now)
    return None


def purge_stale_throttles(db: Session) -> int:
    now = utcnow()
    result = db.execute(delete(AuthThrottle).where(
        AuthThrottle.window_start < now - KNOWN_FOR - timedelta(days=1),
        (AuthThrottle.locked_until.is_(None)) | (AuthThrottle.locked_until < now)))
    db.commit()
    return result.rowcount or 0

