"""``create_app(settings)``: the FastAPI application (nothing happens at import)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fakelens import __version__
from fakelens.analysis.caveats import verdict_caveats
from fakelens.forum import routes as forum_routes
from fakelens.jobs.queue import (
    SoleConsumerLock,
    start_embedded_consumer,
    stop_embedded_consumer,
)
from fakelens.jobs.tasks import StaleSweeper, open_backend, recover
from fakelens.web.errors import install_error_handlers
from fakelens.web.routes import api, auth, health, keyframes, live, pages, pwa, trash
from fakelens.web.routes.docs import install_docs
from fakelens.web.security import RateLimiter, SecurityHeadersMiddleware
from fakelens.web.sessions import ServerSessionMiddleware, purge_expired_sessions
from fakelens.web.settings import WebSettings
from fakelens.web.storage import TempCleaner, remove_stale_temp_files
from fakelens.web.templating import VERDICT_WORDS, template_globals
from fakelens.web.throttle import purge_stale_throttles
from fakelens.web.trash import purge_expired

log = logging.getLogger(__name__)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The application for ``settings`` (default: from ``FAKELENS_*``). Creates the data
    dir and brings the database up to date (Alembic migrations); the job
    consumer threads start with the application (lifespan) and stop with it."""
    settings = settings or WebSettings()
    backend = open_backend(settings)
    engine, sessions, huey, enqueue = (backend.engine, backend.sessions, backend.huey,
                                       backend.enqueue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = sweeper = None
        sole_consumer = SoleConsumerLock(settings.data_dir)
        with sessions() as db:  # the trash of people who never came back
            purge_expired(db, settings)
            purge_expired_sessions(db)
            purge_stale_throttles(db)
        remove_stale_temp_files(settings)  # uploads cut off by a crash
        cleaner = TempCleaner(settings).start()
        if not settings.immediate:
            # the only consumer of a SQLite queue (no other serve holds its lock): every
            # "running" job is an orphan of a previous run; otherwise other workers may be
            # alive: only jobs without recent progress or heartbeat are
            alone = (settings.workers > 0 and not settings.redis_url
                     and sole_consumer.acquire())
            recover(sessions, enqueue, settings.max_attempts,
                    None if alone else settings.stale_after_s)
            if settings.workers:
                consumer = start_embedded_consumer(huey, settings.workers)
            # the outbox: uploads whose task never reached the queue, dead workers' jobs
            sweeper = StaleSweeper(sessions, enqueue, settings).start()
        try:
            yield
        finally:
            cleaner.stop()
            if sweeper is not None:
                sweeper.stop()
            if consumer is not None:
                stop_embedded_consumer(consumer, backend.job, settings.stop_grace_s)
            sole_consumer.release()
            engine.dispose()

    app = FastAPI(title="fakelens", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="Deepfake detection: upload a video or image, get a verdict, "
                  "a score and the evidence (per face, per frame). Programs authenticate "
                  "with `Authorization: Bearer <token>` (tokens: account page). Errors are "
                  '`{"error": {"code": ..., "message": ...}}`.')
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.huey = huey
    app.state.enqueue = enqueue
    app.state.upload_limiter = RateLimiter(settings.uploads_per_hour, 3600)
    web = resources.files("fakelens.web")
    forum_templates = resources.files("fakelens.forum") / "templates"
    app.state.templates = Jinja2Templates(directory=[str(web / "templates"),
                                                     str(forum_templates)],
                                          context_processors=[template_globals])
    app.state.templates.env.globals.update(verdict_caveats=verdict_caveats,
                                           verdict_words=VERDICT_WORDS)

    app.add_middleware(ServerSessionMiddleware, sessions=sessions, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=str(web / "static")), name="static")
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(keyframes.router)
    app.include_router(trash.router)
    app.include_router(pwa.router)
    app.include_router(live.router)
    app.include_router(forum_routes.router)
    install_docs(app)
    install_error_handlers(app)
    return app
