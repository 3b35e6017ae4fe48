"""The Huey instance for a configuration, and the consumer that runs inside ``serve``.

SQLite (a file in the data dir) is the embedded default: no server to run, tasks persist
across restarts. With ``FAKELENS_REDIS_URL`` the queue lives in Redis and separate
``fakelens worker`` processes can consume it.

Stopping (SIGTERM from Docker, systemd or Kubernetes, SIGINT from Ctrl-C, or the end of
``serve``) never ends the process under a running job: no new job is taken, the running
ones may finish for ``stop_grace_s``, then they are handed back to the queue. (A process
that exited with a job thread inside PyTorch aborted: the interpreter's shutdown
unwinds such a thread, "FATAL: exception not rethrown", and its job stayed ``running``.)
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, BinaryIO, Self

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from huey.storage import SqliteStorage

from fakelens.jobs.retry import is_disk_full
from fakelens.jobs.settings import JobSettings
from fakelens.jobs.space import SpaceReserve, reserve_bytes

if TYPE_CHECKING:
    import threading

    from fakelens.jobs.tasks import AnalysisJob

log = logging.getLogger(__name__)

QUEUE_NAME = "fakelens"
REDIS_TIMEOUT_S = 5.0
# after the grace period: how long running jobs have to reach their next progress report
# (where they hand themselves back) before the stopping thread hands them back itself
HAND_BACK_WAIT_S = 5.0
HEALTH_CHECK_S = 10.0  # a worker thread that died is replaced


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
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.db"), results=False,
                      storage_class=DiskFullTolerantSqliteStorage,
                      reserve=SpaceReserve(settings.data_dir,
                                           reserve_bytes(settings.min_free_bytes)))


class DiskFullTolerantSqliteStorage(SqliteStorage):
    """The SQLite queue on a full disk: taking a task deletes its row, which SQLite cannot
    do without room for its journal. Huey's consumer would log a traceback for it every
    second and take nothing; here the data dir's space reserve is given up once (so the
    queued jobs can be taken and failed with ``storage_full``), the full disk is logged in
    one line, and no task is taken until there is room again (then it goes on by itself).
    Enqueueing on a full disk still raises (the request answers 507)."""

    def __init__(self, *args, reserve: SpaceReserve | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reserve = reserve
        self._full = False

    def dequeue(self):
        try:
            data = super().dequeue()
        except sqlite3.OperationalError as exc:
            if not is_disk_full(exc):
                raise
            released = self.reserve is not None and self.reserve.release()
            if not self._full:
                log.warning("the job queue cannot be read: the disk is full (%s)%s", exc,
                            "; retrying with the space reserve" if released else "")
            self._full = True
            return None
        if self._full:
            log.info("the job queue is readable again")
            self._full = False
        return data


def queue_kind(settings: JobSettings) -> str:
    return "immediate" if settings.immediate else "redis" if settings.redis_url else "sqlite"


class EmbeddedConsumer(Consumer):
    """A consumer whose worker threads run inside a program that handles the signals
    itself (the web server, ``run_worker``): Huey's own handlers would end the process at
    SIGTERM under a running job."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_consumer(huey: Huey, workers: int) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=False,
                                initial_delay=0.1, backoff=1.5, max_delay=1.0,
                                check_worker_health=False)
    consumer.start()
    log.info("job consumer started: %d thread(s)", workers)
    return consumer


def _alive(threads: list[threading.Thread]) -> bool:
    return any(t.is_alive() for t in threads)


def drain(consumer: Consumer, job: AnalysisJob, grace_s: float,
          hurry: Callable[[], bool] = lambda: False) -> bool:
    """Stop taking jobs; let the running ones finish for ``grace_s`` (less once ``hurry()``
    says so), then hand them back to the queue: each at its next progress report, or
    after ``HAND_BACK_WAIT_S`` from here (its thread, stuck in a long computation, is
    fenced off by its attempt count). True if every consumer thread has ended."""
    consumer.stop_flag.set()
    threads = [t for _, t in consumer.worker_threads] + [consumer.scheduler]
    deadline = time.monotonic() + grace_s
    while _alive(threads) and time.monotonic() < deadline and not hurry():
        time.sleep(0.05)
    if _alive(threads):
        running = len(job.running())
        if running:
            log.warning("%d job(s) still running: handing them back to the queue", running)
        job.stopping.set()
        deadline = time.monotonic() + HAND_BACK_WAIT_S
        while _alive(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        job.hand_back_all()
    return not _alive(threads)


def stop_embedded_consumer(consumer: EmbeddedConsumer, job: AnalysisJob,
                           grace_s: float) -> bool:
    """Stop the job threads of ``serve`` (``drain``)."""
    return drain(consumer, job, grace_s)


class StopSignals:
    """SIGTERM (docker stop, systemd, Kubernetes) and SIGINT (Ctrl-C) as a list the main
    thread polls: the first asks for a graceful stop, a second one to hurry. The handler
    only appends: waiting on a lock there could deadlock with the code it interrupted."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Self:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)

    def wait(self, count: int, timeout_s: float) -> bool:
        """True once ``count`` signals arrived; False after ``timeout_s`` without."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


def run_worker(huey: Huey, job: AnalysisJob, threads: int, grace_s: float) -> bool:
    """Consume the queue with ``threads`` job threads until SIGTERM or SIGINT, then
    ``drain`` (a second signal cuts the grace period short). True if every job thread
    ended; False if one is still stuck in a computation (its job handed back): the caller
    must then leave with ``os._exit``, as a normal exit would abort in that thread."""
    consumer = EmbeddedConsumer(huey, workers=threads, worker_type="thread", periodic=False)
    with StopSignals() as signals:
        consumer.start()
        while not signals.wait(1, HEALTH_CHECK_S):
            consumer.check_worker_health()
        name = signal.Signals(signals.received[0]).name
        print(f"fakelens worker: {name}: taking no new job; running ones may finish for "
              f"{grace_s:g} s, then go back to the queue", flush=True)
        return drain(consumer, job, grace_s, hurry=lambda: len(signals.received) > 1)


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
