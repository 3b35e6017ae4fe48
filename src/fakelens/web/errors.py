"""Every error leaves the API as ``{"error": {"code": ..., "message": ...}}`` with a 4xx
status (5xx only for server faults); pages get the same message in an HTML page."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fakelens.errors import FakeLensError, error_code, sentence, user_message
from fakelens.web.params import names_nothing

if TYPE_CHECKING:
    from fakelens.db.tables import User

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a request caused, with its HTTP status and a stable code."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def page_error(exc: ApiError | FakeLensError, filename: str | None = None
               ) -> tuple[int, str, str]:
    """(status, code, message) of an error shown to a person; the exception's own text
    (which may quote a decoder library) goes to the log."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code, sentence(exc.message)
    message = user_message(exc, filename or getattr(exc, "filename", None))
    if message != sentence(str(exc)):
        log.info("%s shown as %r: %s", type(exc).__name__, message, exc)
    return exc.http_status, error_code(exc), message


class LoginRequired(Exception):
    """A page needs a logged-in user: redirect to the login page."""


def _status_code_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/healthz", "/readyz")


RETRY_AFTER_S = 5  # told to clients while the database or the queue is away


def _signed_in(request: Request, status: int) -> User | None:
    """The signed-in user an error page shows in its navigation, or None (no session; or
    the database or the disk is away: that is what the page is about)."""
    from sqlalchemy.exc import SQLAlchemyError

    from fakelens.db.tables import User
    from fakelens.web.deps import SESSION_USER

    if status in (503, 507) or "session" not in request.scope:
        return None
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    try:
        with request.app.state.sessions() as db:
            return db.get(User, user_id)
    except SQLAlchemyError:
        log.warning("error page without its user: the database failed", exc_info=True)
        return None


def _render(request: Request, status: int, code: str, message: str,
            headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                            headers=headers)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "code": code, "message": message,
                                       "user": _signed_in(request, status)},
                                      status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _render(request, exc.status, exc.code, sentence(exc.message), exc.headers)

    @app.exception_handler(FakeLensError)
    async def _fakelens_error(request: Request, exc: FakeLensError) -> Response:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.http_status == 503 else None
        return _render(request, *page_error(exc), headers)

    install_outage_handlers(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(request.app.url_path_for("login_page") + "?next="
                                + quote(request.url.path), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return _render(request, exc.status_code, _status_code_name(exc.status_code), message,
                       getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if names_nothing(exc.errors()):  # /forum/t/99999999999999999999, /forum/p/-1
            return _render(request, 404, "not_found",
                           "Nothing here: no item has the number in this address.")
        return _render(request, 422, "invalid_request", _validation_message(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        outage = outage_response(request, exc)  # e.g. raised in a middleware
        if outage is not None:
            return outage
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _render(request, 500, "internal_error", "Internal server error.")


def outage_response(request: Request, exc: BaseException, plain: bool = False
                    ) -> Response | None:
    """503 with ``Retry-After`` when the database or the queue is away, 507 when the disk
    is full; None for any other error."""
    import redis.exceptions

    from fakelens.jobs.retry import is_transient
    from fakelens.web.storage import is_disk_full

    if is_disk_full(exc):  # before is_transient: SQLite's "disk is full" is operational
        log.warning("%s %s: disk full", request.method, request.url.path)
        status, code = 507, "storage_full"
        message = "The server is out of storage space. Please try again later."
    elif is_transient(exc) or isinstance(exc, redis.exceptions.ConnectionError
                                         | redis.exceptions.TimeoutError):
        log.warning("%s %s: service unavailable: %s", request.method, request.url.path,
                    type(exc).__name__)
        status, code = 503, "service_unavailable"
        message = "The service is temporarily unavailable. Please try again shortly."
    else:
        return None
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    if plain and not _wants_json(request):
        return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{message}</h1>",
                            status_code=status, headers=headers)
    return _render(request, status, code, message, headers)


def install_outage_handlers(app: FastAPI) -> None:
    """The database or the queue away: 503; the disk full: 507. Never a 500 for those."""
    import redis.exceptions
    from sqlalchemy.exc import DBAPIError

    async def _outage(request: Request, exc: Exception) -> Response:
        response = outage_response(request, exc)
        if response is not None:
            return response
        log.error("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return _render(request, 500, "internal_error", "Internal server error.")

    for cls in (DBAPIError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                OSError):
        app.add_exception_handler(cls, _outage)
    app.add_middleware(OutageMiddleware)  # added last: outside the other middlewares


class OutageMiddleware:
    """Outermost: an outage raised outside the routes (a middleware that loads the session,
    an error page that queries the database) still gets its 503/507, as plain HTML for
    pages (the page templates may need the database themselves)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            request = Request(scope)
            response = None if started else outage_response(request, exc, plain=True)
            if response is None:
                raise
            await response(scope, receive, send)
