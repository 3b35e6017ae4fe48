"""The Huey instance for a configuration, and the consumer that runs inside ``serve``.

SQLite (a file in the data dir) is the embedded default: no server to run, tasks persist
across restarts. With ``FAKELENS_REDIS_URL`` the queue lives in Redis and separate
``fakelens worker`` processes can consume it.
"""

from __future__ import annotations

import logging

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from fakelens.web.settings import WebSettings

log = logging.getLogger(__name__)

QUEUE_NAME = "fakelens"


def make_huey(settings: WebSettings) -> Huey:
    """Huey for these settings; tasks keep no results (results go to the database)."""
    if settings.immediate:  # tasks run inside the enqueuing call (debugging, some tests)
        return Huey(QUEUE_NAME, results=False, immediate=True)
    if settings.redis_url:
        return RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"), results=False)


def queue_kind(settings: WebSettings) -> str:
    return "immediate" if settings.immediate else "redis" if settings.redis_url else "sqlite"


class EmbeddedConsumer(Consumer):
    """A consumer whose worker threads run inside another program (the web server): it
    leaves signal handling to that program."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_consumer(huey: Huey, workers: int) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=False,
                                initial_delay=0.1, backoff=1.5, max_delay=1.0,
                                check_worker_health=False)
    consumer.start()
    log.info("job consumer started: %d thread(s)", workers)
    return consumer


def stop_embedded_consumer(consumer: EmbeddedConsumer, timeout_s: float = 5.0) -> None:
    """Stop taking jobs; a job still running after ``timeout_s`` is left to the startup
    recovery of the next run (its worker thread is a daemon)."""
    consumer.shutdown_timeout = timeout_s
    consumer.stop(graceful=True)
