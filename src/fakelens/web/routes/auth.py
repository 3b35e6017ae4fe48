"""Register, log in, log out, and the account page with its API tokens."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fakelens.db.tables import ApiToken, Role, User
from fakelens.web.credentials import (
    MAX_PASSWORD,
    login_email,
    normalize_email,
    password_problems,
)
from fakelens.web.deps import SESSION_USER, AppSettings, DbSession, PageUser
from fakelens.web.errors import ApiError
from fakelens.web.params import PathId
from fakelens.web.proxies import client_ip
from fakelens.web.security import (
    csrf_ok,
    hash_password,
    new_api_token,
    verify_password,
)
from fakelens.web.sessions import (
    ROW_KEY,
    revoke_all_sessions,
    revoke_session,
    user_sessions,
)
from fakelens.web.templating import render
from fakelens.web.throttle import (
    login_attempt,
    login_failed,
    login_succeeded,
    registration_refused_for,
)

router = APIRouter(include_in_schema=False)

USERNAME = re.compile(r"^[a-z0-9_]{3,20}$")


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    if not csrf_ok(request, csrf_token):
        raise ApiError(403, "csrf_failed", "the form expired or came from another site; "
                       "reload the page and try again")


Csrf = Depends(check_csrf)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _client_key(request: Request, settings: AppSettings) -> str:
    return client_ip(request.scope, settings.trusted_proxies)


def _too_many(what: str, retry: float) -> ApiError:
    return ApiError(429, "rate_limited", f"too many {what}; try again in {int(retry)} seconds",
                    headers={"Retry-After": str(int(retry))})


def _start_session(request: Request, user: User) -> None:
    request.session.clear()  # new session (and CSRF token) at each login
    request.session[SESSION_USER] = user.id


@router.get("/register", response_class=HTMLResponse, name="register_page")
def register_page(request: Request) -> HTMLResponse:
    return render(request, "register.html")


@router.post("/register", dependencies=[Csrf], name="register")
def register(request: Request, db: DbSession, settings: AppSettings,
             email: Annotated[str, Form(max_length=254)],
             password: Annotated[str, Form(max_length=MAX_PASSWORD)],
             username: Annotated[str, Form(max_length=64)] = "") -> Response:
    retry = registration_refused_for(db, settings, _client_key(request, settings))
    if retry is not None:
        raise _too_many("registrations from your address", retry)
    typed, username = email.strip().lower(), username.strip().lower()
    errors = []
    email = normalize_email(typed)
    if email is None:
        errors.append("Enter a valid e-mail address.")
        email = typed
    if not USERNAME.match(username):
        errors.append("Choose a username of 3 to 20 letters, digits or underscores.")
    errors += password_problems(password, email, username)
    if not errors and db.scalar(select(User.id).where(User.email == email)) is not None:
        errors.append("An account with this e-mail address exists already: log in.")
    if not errors and db.scalar(select(User.id).where(User.username == username)) is not None:
        errors.append("This username is taken: choose another one.")
    if errors:
        return render(request, "register.html", status=400, errors=errors, email=email,
                      username=username)
    # the first account administers the service (more admins: `fakelens users set-role`)
    first = db.scalar(select(User.id).limit(1)) is None
    user = User(email=email, username=username, password_hash=hash_password(password),
                role=Role.ADMIN if first else Role.MEMBER)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:  # registered at the same moment by someone else
        db.rollback()
        return render(request, "register.html", status=400, email=email, username=username,
                      errors=["This e-mail address or username was just taken."])
    _start_session(request, user)
    return RedirectResponse("/", status_code=303)


@router.get("/login", response_class=HTMLResponse, name="login_page")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login", dependencies=[Csrf], name="login")
def login(request: Request, db: DbSession, settings: AppSettings,
          email: Annotated[str, Form(max_length=254)],
          password: Annotated[str, Form(max_length=MAX_PASSWORD)],
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    ip = _client_key(request, settings)
    email = login_email(email)
    user = db.scalar(select(User).where(User.email == email))
    user_id = user.id if user else None
    # counted as a failure before the password is checked: parallel guesses cannot all
    # pass the limits before the first failure is recorded
    attempt = login_attempt(db, settings, ip, user_id)
    if attempt.retry_after is not None:
        raise _too_many("login attempts", attempt.retry_after)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        login_failed(db, settings, attempt)
        return render(request, "login.html", status=400, email=email, next=_safe_next(next),
                      errors=["Wrong e-mail address or password."])
    login_succeeded(db, attempt)
    _start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Csrf], name="logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _account(request: Request, user: User, db, status: int = 200, **extra) -> HTMLResponse:
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                        .order_by(ApiToken.created_at.desc())).all()
    return render(request, "account.html", status=status, user=user, tokens=tokens,
                  sessions=user_sessions(db, user.id), this_session=request.scope.get(ROW_KEY),
                  **extra)


@router.get("/account", response_class=HTMLResponse, name="account_page")
def account_page(request: Request, user: PageUser, db: DbSession) -> HTMLResponse:
    return _account(request, user, db)


@router.post("/account/tokens", dependencies=[Csrf], name="create_token")
def create_token(request: Request, user: PageUser, db: DbSession,
                 name: Annotated[str, Form(max_length=100)] = "") -> HTMLResponse:
    name = name.strip() or "API token"
    token, prefix, digest = new_api_token()
    db.add(ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=digest))
    db.commit()
    # shown once, in this response only; the database keeps its hash
    return _account(request, user, db, status=201, new_token=token, new_token_name=name)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Csrf], name="revoke_token")
def revoke_token(token_id: PathId, user: PageUser, db: DbSession) -> Response:
    row = db.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                           ApiToken.user_id == user.id))
    if row is None:
        raise ApiError(404, "not_found", "no such token")
    db.delete(row)
    db.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/{session_id}/revoke", dependencies=[Csrf],
             name="revoke_session")
def revoke_one_session(request: Request, session_id: PathId, user: PageUser,
                       db: DbSession) -> Response:
    if not revoke_session(db, user.id, session_id):
        raise ApiError(404, "not_found", "no such session")
    if session_id == request.scope.get(ROW_KEY):  # this browser's own session
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/revoke-all", dependencies=[Csrf], name="revoke_all_sessions")
def log_out_everywhere(request: Request, user: PageUser, db: DbSession) -> Response:
    revoke_all_sessions(db, user.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
