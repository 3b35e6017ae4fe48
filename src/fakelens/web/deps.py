"""Request dependencies: database session, the authenticated user, owned analyses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fakelens.db.tables import AnalysisRow, ApiToken, User, utcnow
from fakelens.web.errors import ApiError, LoginRequired
from fakelens.web.security import CSRF_HEADER, csrf_ok, hash_token
from fakelens.web.settings import WebSettings

SESSION_USER = "user_id"
TOKEN_TOUCH_S = 300  # an API token's last_used_at is this precise at best
TOKEN_TOUCH = timedelta(seconds=TOKEN_TOUCH_S)
log = logging.getLogger(__name__)
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[WebSettings, Depends(get_settings)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or ""


def _token_user(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        return None
    _touch_token(db, row)
    return db.get(User, row.user_id)


def _touch_token(db: Session, row: ApiToken) -> None:
    """Record when a token was used, at most every ``TOKEN_TOUCH_S``, in its own short
    transaction: authenticating reads, and a busy or read-only database never fails it."""
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < TOKEN_TOUCH:
        return
    try:
        with db.get_bind().begin() as conn:
            conn.execute(update(ApiToken)
                         .where(ApiToken.id == row.id,
                                or_(ApiToken.last_used_at.is_(None),
                                    ApiToken.last_used_at < now - TOKEN_TOUCH))
                         .values(last_used_at=now))
    except Exception:  # noqa: BLE001 - a nicety: the request goes on
        log.warning("token %s: last use not recorded", row.prefix, exc_info=True)


def session_user(request: Request, db: Session) -> User | None:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    user = db.get(User, user_id)
    if user is None:
        request.session.clear()
    return user


# declares the scheme in the OpenAPI schema (Swagger's "Authorize"); api_user reads the
# header itself, so that a missing or bad token gets this API's own error body
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name="apiToken",
                            description="an API token from the account page")
BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)]


def api_user(request: Request, db: DbSession, _documented: BearerDoc = None) -> User:
    """The caller of an API route: bearer token, or the browser's session cookie (then
    unsafe methods need the session's CSRF token in the X-CSRF-Token header)."""
    token = _bearer(request)
    if token is not None:
        user = _token_user(db, token) if token else None
        if user is None:
            raise ApiError(401, "invalid_token", "the API token is invalid or was revoked",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return user
    user = session_user(request, db)
    if user is None:
        raise ApiError(401, "unauthorized", "log in or send an API token "
                       "(Authorization: Bearer ...)", headers={"WWW-Authenticate": "Bearer"})
    if request.method in _UNSAFE and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf_failed", "cookie-authenticated requests that change data "
                       "need the X-CSRF-Token header")
    return user


def page_user(request: Request, db: DbSession) -> User:
    """The logged-in user of a page, or a redirect to the login page."""
    user = session_user(request, db)
    if user is None:
        raise LoginRequired()
    return user


def maybe_page_user(request: Request, db: DbSession) -> User | None:
    """The logged-in user of a page anyone may read, or None."""
    return session_user(request, db)


ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]
MaybeUser = Annotated[User | None, Depends(maybe_page_user)]
AnalysisId = Annotated[str, Path(description="the id returned when the upload was accepted")]


def live_analyses_of(user: User) -> tuple:
    """WHERE clauses: the user's analyses that are not in the trash."""
    return AnalysisRow.user_id == user.id, AnalysisRow.deleted_at.is_(None)


def _owned(analysis_id: str, user: User, db: Session, trashed: bool = False) -> AnalysisRow:
    """The user's analysis (in the trash when ``trashed``, else not in it)."""
    row = db.scalar(select(AnalysisRow).where(
        AnalysisRow.public_id == analysis_id, AnalysisRow.user_id == user.id,
        AnalysisRow.deleted_at.is_not(None) if trashed else AnalysisRow.deleted_at.is_(None)))
    if row is None:  # someone else's analysis looks exactly like a missing one
        raise ApiError(404, "not_found", "no such analysis")
    return row


def api_owned_analysis(analysis_id: AnalysisId, user: ApiUser, db: DbSession) -> AnalysisRow:
    return _owned(analysis_id, user, db)


def page_owned_analysis(analysis_id: AnalysisId, user: PageUser, db: DbSession) -> AnalysisRow:
    return _owned(analysis_id, user, db)


def page_trashed_analysis(analysis_id: AnalysisId, user: PageUser, db: DbSession
                          ) -> AnalysisRow:
    return _owned(analysis_id, user, db, trashed=True)


ApiAnalysis = Annotated[AnalysisRow, Depends(api_owned_analysis)]
PageAnalysis = Annotated[AnalysisRow, Depends(page_owned_analysis)]
TrashedAnalysis = Annotated[AnalysisRow, Depends(page_trashed_analysis)]
