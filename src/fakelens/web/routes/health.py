"""``/healthz`` (liveness: the process answers) and ``/readyz`` (readiness: database, job
queue and disk space checked), for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from fakelens import __version__
from fakelens.jobs.queue import queue_kind
from fakelens.web.schemas import Health, Readiness
from fakelens.web.settings import WebSettings
from fakelens.web.storage import free_bytes

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> Health:
    """Always 200 while the process serves requests; no dependency is touched."""
    return Health(status="ok", version=__version__,
                  queue=queue_kind(request.app.state.settings))


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def _database(request: Request) -> str:
    def probe() -> None:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return _check(probe)


def _queue(request: Request) -> str:
    settings: WebSettings = request.app.state.settings
    if settings.immediate:
        return "ok"
    return _check(request.app.state.huey.pending_count)


def _disk(settings: WebSettings) -> str:
    try:
        free = free_bytes(settings.data_dir)
    except OSError as exc:
        return f"unavailable ({exc.strerror})"
    if free < settings.min_free_bytes:
        return f"low ({free // (1024 * 1024)} MB free)"
    return "ok"


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> JSONResponse:
    """200 when the database, the job queue and the data dir's free space are fine;
    503 (with ``Retry-After``) saying which is not."""
    settings: WebSettings = request.app.state.settings
    checks = {"database": _database(request), "queue": _queue(request),
              "disk": _disk(settings)}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ok" if ready else "unavailable", version=__version__,
                     queue=queue_kind(settings), checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": "5"})
