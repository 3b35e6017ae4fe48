"""Every error leaves the API as ``{"error": {"code": ..., "message": ...}}`` with a 4xx
status (5xx only for server faults); pages get the same message in an HTML page."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakelens.errors import FakeLensError, sentence, user_message

log = logging.getLogger(__name__)


def error_code(exc: BaseException) -> str:
    """``UnsupportedMedia`` -> ``unsupported_media``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


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
    return path.startswith("/api/") or path == "/healthz"


def _render(request: Request, status: int, code: str, message: str,
            headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                            headers=headers)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "code": code, "message": message},
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
        return _render(request, *page_error(exc))

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
        return _render(request, 422, "invalid_request", _validation_message(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _render(request, 500, "internal_error", "Internal server error.")
