"""Server-side sessions: the cookie carries only a random id; the database keeps its
sha256, the session's data (user, CSRF token, flash message), when and from where it was
used. Logging out deletes the row, so a copied cookie stops working at once; the account
page lists a user's sessions and revokes one or all of them.

``ServerSessionMiddleware`` fills ``scope["session"]`` (the dict that ``request.session``
returns) like Starlette's cookie sessions did, so CSRF tokens and flash messages work as
before. The id changes whenever the logged-in user changes (no session fixation).

The session is saved when the application starts its response, before anything reaches
the client: when the database (or its disk) is away then, the page is replaced by the
503 (``Retry-After``) or 507 every other outage gets, never a 500 on a page that was
already half sent. Purging expired rows is housekeeping: when it fails, the request goes
on and the purge is tried again a minute later."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fakelens.db.auth_tables import WebSession
from fakelens.db.tables import utcnow
from fakelens.web.errors import outage_response
from fakelens.web.proxies import client_ip, is_https
from fakelens.web.settings import WebSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "fakelens_session"
SESSION_USER = "user_id"
ROW_KEY = "fakelens.session_row"  # scope key: id of the row this request's cookie names
ANONYMOUS_TTL = timedelta(days=1)  # a CSRF token before login; purged after
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often
PURGE_EVERY_S = 600.0
PURGE_RETRY_S = 60.0  # after a failed purge (the database away, its disk full)
# health probes must answer from the process alone (a database outage is for /readyz to say)
NO_SESSION_PATHS = ("/static/", "/docs-assets/", "/healthz", "/readyz")


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class _Loaded:
    row_id: int
    user_id: int | None
    data: dict
    last_seen_at: datetime


def purge_expired_sessions(db: Session, now: datetime | None = None) -> int:
    result = db.execute(delete(WebSession).where(WebSession.expires_at <= (now or utcnow())))
    db.commit()
    return result.rowcount or 0


def user_sessions(db: Session, user_id: int) -> list[WebSession]:
    return list(db.scalars(select(WebSession).where(
        WebSession.user_id == user_id, WebSession.expires_at > utcnow())
        .order_by(WebSession.last_seen_at.desc())))


def revoke_session(db: Session, user_id: int, row_id: int) -> bool:
    result = db.execute(delete(WebSession).where(WebSession.id == row_id,
                                                 WebSession.user_id == user_id))
    db.commit()
    return bool(result.rowcount)


def revoke_all_sessions(db: Session, user_id: int) -> int:
    result = db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    db.commit()
    return result.rowcount or 0


class ServerSessionMiddleware:
    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session], settings: WebSettings):
        self.app, self.sessions, self.settings = app, sessions, settings
        self.max_age = timedelta(days=settings.session_days)
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope.get("path", "").startswith(NO_SESSION_PATHS):  # no database round trip
            scope["session"], scope[ROW_KEY] = {}, None
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        loaded = await run_in_threadpool(self._load, raw) if raw else None
        scope["session"] = dict(loaded.data) if loaded else {}
        scope[ROW_KEY] = loaded.row_id if loaded else None
        initial = json.dumps(scope["session"], sort_keys=True)
        if scope["type"] == "websocket":  # read only: nothing to send back
            await self.app(scope, receive, send)
            return

        replaced = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal replaced
            if replaced:  # the rest of a response that an outage page replaced
                return
            if message["type"] == "http.response.start":
                try:
                    cookie = await run_in_threadpool(self._save_and_purge, scope, raw,
                                                     loaded, initial)
                except Exception as exc:
                    # nothing was sent yet: answer the outage instead of the page (plain
                    # HTML: the page templates may need the database themselves)
                    outage = outage_response(Request(scope), exc, plain=True)
                    if outage is None:
                        raise
                    replaced = True
                    await outage(scope, receive, send)
                    return
                if cookie:
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, raw: str) -> _Loaded | None:
        with self.sessions() as db:
            row = db.scalar(select(WebSession).where(
                WebSession.token_hash == hash_session_id(raw),
                WebSession.expires_at > utcnow()))
            if row is None:
                return None
            try:
                data = json.loads(row.data)
            except ValueError:
                data = {}
            if not isinstance(data, dict):
                data = {}
            # the row's user is the truth (revoked or reassigned sessions carry no user)
            data.pop(SESSION_USER, None)
            if row.user_id is not None:
                data[SESSION_USER] = row.user_id
            return _Loaded(row.id, row.user_id, data, row.last_seen_at)

    def _cookie(self, scope: Scope, value: str, max_age: int) -> str:
        cookie = (f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; "
                  "SameSite=Lax")
        secure = self.settings.secure_cookies
        if secure is None:
            secure = is_https(scope, self.settings.trusted_proxies)
        return cookie + "; Secure" if secure else cookie

    def _save_and_purge(self, scope: Scope, raw: str | None, loaded: _Loaded | None,
                        initial: str) -> str | None:
        cookie = self._save(scope, raw, loaded, initial)
        self._maybe_purge()
        return cookie

    def _save(self, scope: Scope, raw: str | None, loaded: _Loaded | None,
              initial: str) -> str | None:
        data: dict = scope["session"]
        now = utcnow()
        with self.sessions() as db:
            if not data:
                if loaded is not None:
                    db.execute(delete(WebSession).where(WebSession.id == loaded.row_id))
                    db.commit()
                return self._cookie(scope, "", 0) if raw else None
            user_id = data.get(SESSION_USER)
            user_id = user_id if isinstance(user_id, int) else None
            if loaded is not None and user_id == loaded.user_id:
                values: dict = {}
                encoded = json.dumps(data, sort_keys=True)
                if encoded != initial:
                    values["data"] = encoded
                if now - loaded.last_seen_at >= TOUCH_EVERY:
                    values["last_seen_at"] = now
                if values:
                    db.execute(update(WebSession).where(WebSession.id == loaded.row_id)
                               .values(**values))
                    db.commit()
                return None
            # new session, or another user than before: a new id (the old one dies)
            if loaded is not None:
                db.execute(delete(WebSession).where(WebSession.id == loaded.row_id))
            session_id = secrets.token_urlsafe(32)
            ttl = self.max_age if user_id is not None else ANONYMOUS_TTL
            headers = Headers(scope=scope)
            db.add(WebSession(token_hash=hash_session_id(session_id), user_id=user_id,
                              data=json.dumps(data, sort_keys=True),
                              user_agent=headers.get("user-agent", "")[:200],
                              ip=client_ip(scope, self.settings.trusted_proxies)[:64],
                              created_at=now, last_seen_at=now, expires_at=now + ttl))
            db.commit()
            return self._cookie(scope, session_id, int(ttl.total_seconds()))

    def _maybe_purge(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_S
        try:
            with self.sessions() as db:
                purge_expired_sessions(db)
        except SQLAlchemyError as exc:  # the request does not depend on it
            self._next_purge = time.monotonic() + PURGE_RETRY_S
            log.warning("expired sessions not purged (retried in %.0f s): %s",
                        PURGE_RETRY_S, type(exc).__name__)
