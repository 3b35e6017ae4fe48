"""Register, log in, log out, and the account page with its API tokens."""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from fakelens.db.tables import ApiToken, Role, User
from fakelens.web.credentials import (
    MAX_PASSWORD,
    login_email,
    normalize_email,
    password_problems,
    username_reserved,
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
from fakelens.web.templating import flash, render
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


def wait_words(seconds: float) -> str:
    """"1 second", "30 seconds", "2 minutes", "1 minute 30 seconds" (whole seconds, rounded
    up: a Retry-After of 0 would invite a retry that is refused again)."""
    seconds = max(1, math.ceil(seconds))
    minutes, rest = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _retry_seconds(retry: float) -> int:
    return max(1, math.ceil(retry))


def _too_many(what: str, retry: float) -> ApiError:
    return ApiError(429, "rate_limited", f"too many {what}; try again in {wait_words(retry)}",
                    headers={"Retry-After": str(_retry_seconds(retry))})


def _start_session(request: Request, user: User) -> None:
    request.session.clear()  # new session (and CSRF token) at each login
    request.session[SESSION_USER] = user.id


@router.get("/register", response_class=HTMLResponse, name="register_page")
def register_page(request: Request) -> HTMLResponse:
    return render(request, "register.html")


SIGNUP_EMAIL = "signup_email"  # session key: the address to fill in on the login form


def _signed_up(request: Request, email: str) -> Response:
    """The one answer to a valid sign-up, whether the address was free (the account is
    made) or had an account already (nothing changes): the login form, with the address
    filled in. No session starts, so the answer does not tell whether it was registered."""
    request.session[SIGNUP_EMAIL] = email
    flash(request, f"If {email} had no account, it has one now: log in with the password "
                   f"you chose. If it had one already, nothing was changed: log in with "
                   f"that account's password.")
    return RedirectResponse("/login", status_code=303)


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
    elif username_reserved(username):
        errors.append("This username is reserved (it would look like the service or its "
                      "staff): choose another one.")
    errors += password_problems(password, email, username)
    # usernames are public (the forum shows them); whether an address is registered is not
    if not errors and db.scalar(select(User.id).where(User.username == username)) is not None:
        errors.append("This username is taken: choose another one.")
    if errors:
        return render(request, "register.html", status=400, errors=errors, email=email,
                      username=username)
    password_hash = hash_password(password)  # as long for a registered address as for a new one
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        return _signed_up(request, email)
    # the first account administers the service (more admins: `fakelens users set-role`)
    first = db.scalar(select(User.id).limit(1)) is None
    db.add(User(email=email, username=username, password_hash=password_hash,
                role=Role.ADMIN if first else Role.MEMBER))
    try:
        db.commit()
    except IntegrityError:  # registered at the same moment by someone else
        db.rollback()
        if db.scalar(select(User.id).where(User.username == username)) is not None:
            return render(request, "register.html", status=400, email=email,
                          username=username, errors=["This username was just taken."])
    return _signed_up(request, email)


LOGGED_OUT = {
    "sessions": "You were logged out everywhere; the account's API tokens still work.",
    "tokens": "You were logged out everywhere and every API token of the account was "
              "revoked.",
}


@router.get("/login", response_class=HTMLResponse, name="login_page")
def login_page(request: Request, next: str | None = None,  # noqa: A002
               out: Annotated[str | None, Query(max_length=16)] = None) -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next),
                  email=request.session.pop(SIGNUP_EMAIL, None),
                  logged_out=LOGGED_OUT.get(out or ""))


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
    if attempt.retry_after is not None:  # the form stays, with when to try again
        response = render(request, "login.html", status=429, email=email,
                          next=_safe_next(next), errors=[
                              f"Too many login attempts: try again in "
                              f"{wait_words(attempt.retry_after)}."])
        response.headers["Retry-After"] = str(_retry_seconds(attempt.retry_after))
        return response
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
def log_out_everywhere(request: Request, user: PageUser, db: DbSession,
                       tokens: Annotated[str, Form(max_length=16)] = "keep") -> Response:
    """Ends every browser session of the account; ``tokens=revoke`` also revokes all its
    API tokens (``keep``, the default: programs keep working)."""
    if tokens == "revoke":
        db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        db.commit()
    revoke_all_sessions(db, user.id)
    request.session.clear()  # no session left to carry a message: the address says it
    return RedirectResponse("/login?out=" + ("tokens" if tokens == "revoke" else "sessions"),
                            status_code=303)
