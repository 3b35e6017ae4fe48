"""The Huey instance for a configuration, and the consumer that runs inside ``serve``.

SQLite (a file in the data dir) is the embedded default: no server to run, tasks persist
across restarts. With ``FAKELENS_REDIS_URL`` the queue lives in Redis and separate
``fakelens worker`` processes can consume it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import BinaryIO

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from fakelens.jobs.settings import JobSettings

log = logging.getLogger(__name__)

QUEUE_NAME = "fakelens"
REDIS_TIMEOUT_S = 5.0


def make_huey(settings: JobSettings) -> Huey:
    """Huey for these settings; tasks keep no results (results go to the database)."""
    if settings.immediate:  # tasks run inside the enqueuing call (debugging, some tests)
        return Huey(QUEUE_NAME, results=False, immediate=True)
    if settings.redis_url:
        from redis import ConnectionPool

        # a Redis that stops answering (not only refusing) must fail calls, never hang
        # them; longer than the queue's 1 s blocking read
        pool = ConnectionPool.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                       socket_connect_timeout=REDIS_TIMEOUT_S)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"), results=False)


def queue_kind(settings: JobSettings) -> str:
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


class SoleConsumerLock:
    """An exclusive ``flock`` on ``consumer.lock`` in the data dir, held by the ``serve``
    that consumes a SQLite queue while it runs. Whoever gets it knows no other process
    consumes that queue, so every ``running`` job is an orphan of a crashed run; whoever
    does not (several ``serve`` on one data dir) must leave the others' jobs alone. The
    kernel drops the lock when its process dies, even by SIGKILL."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "consumer.lock"
        self._fh: BinaryIO | None = None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open until release()
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing drops the flock
            self._fh = None
