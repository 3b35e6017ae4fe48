"""The analysis task: claim a queued analysis, run ``fakelens.analyze``, store the result.

Runs in the consumer threads of ``serve`` or in ``fakelens worker`` processes. Each row is
claimed atomically (queued -> running), so a task enqueued twice runs once; progress goes
to the database from ``analyze``'s progress callback, and a heartbeat keeps ``updated_at``
fresh while the job lives (a running row that stops changing belongs to a dead worker:
``recover`` / ``StaleSweeper`` queue it again); deleting the analysis while it runs
cancels it at the next progress report. A worker that is stopped (SIGTERM) hands its
running jobs back to the queue (``AnalysisJob.stopping``, ``hand_back``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from huey import Huey
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from fakelens.db.engine import session_scope
from fakelens.db.tables import AnalysisRow, Status, utcnow
from fakelens.errors import FakeLensError, StorageFull, error_code, user_message
from fakelens.jobs.files import (
    blob_path,
    remove_report_files,
    report_path,
    write_face_images,
    write_key_frames,
)
from fakelens.jobs.linkjob import LinkFetching
from fakelens.jobs.retry import is_disk_full, is_outage, is_transient, with_retry
from fakelens.jobs.settings import JobSettings
from fakelens.jobs.space import SpaceReserve, free_bytes, reserve_bytes
from fakelens.periodic import Periodic

log = logging.getLogger(__name__)

TASK_NAME = "fakelens.analyze"
# (start, end) of each analysis stage on the 0-100 progress scale
_STAGES = {"decode": (5, 80), "model": (80, 99)}
# an analysis of a link: its download first (stage "downloading")
_LINK_STAGES = {"downloading": (1, 30), "decode": (32, 85), "model": (85, 99)}
_MIN_WRITE_INTERVAL_S = 0.5
HAND_BACK_RETRY_S = 5.0  # a stopping worker does not wait long for the database

Enqueue = Callable[[str], object]
T = TypeVar("T")


class Cancelled(Exception):
    """The analysis was deleted (or taken over) while it ran."""


class HandedBack(Exception):
    """The worker is stopping: the analysis goes back to the queue."""


class AnalysisJob(LinkFetching):
    """The analysis task (a link's fetch: ``LinkFetching``). ``stopping`` set (the worker
    stops): each run of this process hands its job back to the queue at its next progress
    report (``hand_back``)."""

    def __init__(self, settings: JobSettings, sessions: sessionmaker[Session],
                 enqueue: Enqueue | None = None):
        self.settings = settings
        self.sessions = sessions
        self.enqueue = enqueue  # for a job handed back (else the sweeper enqueues it)
        self.stopping = threading.Event()
        self._running: dict[str, int] = {}  # public_id -> attempt, of this process' runs
        self.reserve = SpaceReserve(settings.data_dir, reserve_bytes(settings.min_free_bytes))
        self._lock = threading.Lock()

    def __call__(self, public_id: str) -> None:
        try:
            row = with_retry(lambda: self._making_room(lambda: self._claim(public_id)),
                             f"analysis {public_id}: claim", self.settings.claim_retry_s)
        except Exception as exc:  # still queued: the sweeper enqueues it again
            log.warning("analysis %s: could not be claimed; left queued", public_id,
                        exc_info=not is_outage(exc))
            return
        if row is None:
            log.info("analysis %s: not queued any more, nothing to do", public_id)
            return
        with self._lock:
            self._running[public_id] = row.attempts
        try:
            self._run(row)
        finally:
            with self._lock:
                self._running.pop(public_id, None)

    def running(self) -> dict[str, int]:
        """The runs of this process: public_id -> attempt."""
        with self._lock:
            return dict(self._running)

    def hand_back(self, public_id: str, attempt: int) -> bool:
        """Put a run of this process back in the queue (its worker stops): queued again at
        once, for any worker. The interrupted attempt stays counted (it fences this run
        off, should it go on). False if the row was not this run's any more, or the
        database did not answer (then it stays running and the stale sweep takes it)."""
        def write() -> bool:
            with session_scope(self.sessions) as s:
                return s.execute(update(AnalysisRow)
                                 .where(*self._mine(public_id, attempt))
                                 .values(status=Status.QUEUED, stage="queued", progress=0,
                                         updated_at=utcnow())).rowcount == 1

        try:
            if not with_retry(write, f"analysis {public_id}: hand back", HAND_BACK_RETRY_S):
                return False
        except Exception:  # noqa: BLE001 - stopping anyway: the stale sweep takes it
            log.warning("analysis %s: could not be handed back", public_id, exc_info=True)
            return False
        log.info("analysis %s: handed back to the queue (the worker stops)", public_id)
        if self.enqueue is not None:
            try:
                self.enqueue(public_id)
            except Exception:  # noqa: BLE001 - the row is queued: the sweeper enqueues it
                log.warning("analysis %s: handed back but not enqueued", public_id,
                            exc_info=True)
        return True

    def hand_back_all(self) -> int:
        """Hand back every run of this process still going (stuck between two progress
        reports after ``stopping``); returns how many were handed back."""
        return sum(self.hand_back(public_id, attempt)
                   for public_id, attempt in self.running().items())

    def _run(self, row: AnalysisRow) -> None:
        public_id = row.public_id
        try:
            with self._heartbeat(public_id, row.attempts):
                if self.stopping.is_set():
                    raise HandedBack(public_id)
                self._check_space()
                result = self._analyze(row)
        except Cancelled:
            log.info("analysis %s: cancelled", public_id)
            return
        except HandedBack:
            self.hand_back(public_id, row.attempts)
            return
        except FakeLensError as exc:
            log.info("analysis %s failed: %s", public_id, exc)
            own = str(exc)
            if row.media_sha256:  # "" while a link is not fetched yet
                own = own.replace(str(blob_path(self.settings, row.media_sha256)),
                                  row.filename).replace(row.media_sha256, row.filename)
            message = user_message(exc, row.filename, own)
            self._finish(public_id, row.attempts, status=Status.FAILED, stage="failed",
                         error_code=error_code(exc), error_message=message)
            return
        except Exception as exc:
            # no room for the results: the disk, or the database's (SQLite: same disk)
            if is_disk_full(exc):
                log.warning("analysis %s: disk full", public_id)
                remove_report_files(self.settings, public_id)  # nothing half-written
                self._finish(public_id, row.attempts, status=Status.FAILED, stage="failed",
                             error_code="storage_full", error_message="The server ran out "
                             "of storage space for the results. Please try again later.")
                return
            log.exception("analysis %s failed", public_id)
            self._finish(public_id, row.attempts, status=Status.FAILED, stage="failed",
                         error_code="internal_error",
                         error_message="The analysis failed unexpectedly. Please try again later.")
            return
        self._finish(public_id, row.attempts, status=Status.DONE, stage="done", progress=100,
                     verdict=str(result.verdict), score=result.score,
                     result_json=result.to_json(), reused_from=row.reused_from)

    def _check_space(self) -> None:
        """Not started on a disk with less room than uploads need (``min_free_mb``): it
        fails now with ``storage_full``, while the failure can still be written."""
        if free_bytes(self.settings.data_dir) < self.settings.min_free_bytes:
            raise StorageFull("the server is out of storage space, so the analysis was not "
                              "started; please try again later")

    def _making_room(self, write: Callable[[], T]) -> T:
        """``write()``; when it fails for lack of space, again after giving up the data
        dir's space reserve (once)."""
        try:
            return write()
        except Exception as exc:
            if not is_disk_full(exc) or not self.reserve.release():
                raise
        return write()

    def _claim(self, public_id: str) -> AnalysisRow | None:
        with session_scope(self.sessions) as s:
            claimed = s.execute(
                update(AnalysisRow)
                .where(AnalysisRow.public_id == public_id, AnalysisRow.status == Status.QUEUED)
                .values(status=Status.RUNNING, stage="starting", progress=0,
                        attempts=AnalysisRow.attempts + 1, updated_at=utcnow()))
            if claimed.rowcount != 1:
                return None
            return s.scalars(select(AnalysisRow).where(AnalysisRow.public_id == public_id)).one()

    @staticmethod
    def _mine(public_id: str, attempt: int | None) -> list:
        """The row while this run owns it: still running and, with ``attempt``, not taken
        over since (a sweeper that took this run for dead lets another claim it: the
        attempt count fences the old run off, which then stops as cancelled)."""
        where = [AnalysisRow.public_id == public_id, AnalysisRow.status == Status.RUNNING]
        if attempt is not None:
            where.append(AnalysisRow.attempts == attempt)
        return where

    @contextlib.contextmanager
    def _heartbeat(self, public_id: str, attempt: int | None = None) -> Iterator[None]:
        """Touch the running row's ``updated_at`` every ``stale_after_s / 5`` seconds, so
        that a job in a long stage without progress never looks orphaned."""
        stop = threading.Event()
        interval = heartbeat_interval(self.settings)

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    with session_scope(self.sessions) as s:
                        s.execute(update(AnalysisRow)
                                  .where(*self._mine(public_id, attempt))
                                  .values(updated_at=utcnow()))
                except Exception as exc:  # noqa: BLE001 - the next beat tries again
                    log.warning("analysis %s: heartbeat failed: %s", public_id,
                                type(exc).__name__, exc_info=not is_outage(exc))

        thread = threading.Thread(target=beat, name=f"heartbeat-{public_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _analyze(self, row: AnalysisRow):
        from dataclasses import replace

        from fakelens.analysis.pipeline import analyze_detailed
        from fakelens.reports import render_html

        last = {"percent": -1, "at": 0.0}
        stages = _LINK_STAGES if row.source_url else _STAGES

        def progress(stage: str, fraction: float) -> None:
            if self.stopping.is_set():
                raise HandedBack(row.public_id)
            lo, hi = stages.get(stage, (0, 99))
            percent = int(lo + (hi - lo) * max(0.0, min(1.0, fraction)))
            now = time.monotonic()
            if percent == last["percent"] or (now - last["at"] < _MIN_WRITE_INTERVAL_S
                                               and fraction < 1.0):
                return
            last.update(percent=percent, at=now)
            try:
                self._write_progress(row.public_id, stage, percent, row.attempts)
            except Cancelled:
                raise
            except Exception as exc:  # progress is a nicety: a database blip never fails
                if not is_transient(exc):
                    raise
                log.warning("analysis %s: progress not stored (database unavailable)",
                            row.public_id)

        source = self._fetch(row, progress) if row.source_url else None
        from fakelens.jobs.reuse import find_reusable, reuse

        earlier = find_reusable(self.sessions, self.settings, row)  # same file, analysed
        if earlier is not None:
            return reuse(self.settings, row, *earlier, source)
        detailed = analyze_detailed(blob_path(self.settings, row.media_sha256),
                                    frames=row.frames, model=row.model,
                                    settings=self.settings, progress=progress,
                                    key_frames=True)
        # the stored file's path means nothing to the owner: show the name they uploaded
        result = detailed.analysis
        media = result.media.model_copy(update={"path": row.filename})
        result = result.model_copy(update={"media": media})
        if source is not None:  # as `fakelens detect URL` says it: provenance.source...
            from fakelens.fetch.context import with_source
            from fakelens.jobs.reuse import CHOOSE_WEB

            result = with_source(result, source, source.url, CHOOSE_WEB)
        # the report needs the face crops and heatmaps, which only exist now: keep its HTML
        target = report_path(self.settings, row.public_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        final = replace(detailed, analysis=result)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(render_html(final), encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a report
        write_face_images(self.settings, row.public_id, final)
        if final.key_frames is not None:
            write_key_frames(self.settings, row.public_id, final.key_frames)
        return result

    def _write_progress(self, public_id: str, stage: str, percent: int,
                        attempt: int | None = None) -> None:
        with session_scope(self.sessions) as s:
            written = s.execute(
                update(AnalysisRow)
                .where(*self._mine(public_id, attempt))
                .values(stage=stage, progress=percent, updated_at=utcnow()))
            if written.rowcount != 1:
                raise Cancelled(public_id)

    def _finish(self, public_id: str, attempt: int | None, **values) -> None:
        def write() -> None:
            now = utcnow()
            with session_scope(self.sessions) as s:
                s.execute(update(AnalysisRow)
                          .where(*self._mine(public_id, attempt))
                          .values(updated_at=now, finished_at=now, **values))

        # given up: the row stays running without a heartbeat, the stale sweep runs it again
        with_retry(lambda: self._making_room(write), f"analysis {public_id}: store the result",
                   self.settings.claim_retry_s)


def heartbeat_interval(settings: JobSettings) -> float:
    return max(0.2, settings.stale_after_s / 5)


def register_job(huey: Huey, settings: JobSettings, sessions: sessionmaker[Session]
                 ) -> AnalysisJob:
    """Register the analysis task on ``huey``; its ``enqueue`` is ``enqueue(public_id)``."""
    job = AnalysisJob(settings, sessions)
    job.enqueue = huey.task(name=TASK_NAME, retries=0)(job)
    return job


def recover(sessions: sessionmaker[Session], enqueue: Enqueue, max_attempts: int,
            stale_after_s: float | None = None, queued: bool = True,
            queued_older_than_s: float | None = None) -> tuple[int, int]:
    """The job rows are the truth, the queue only a hint: analyses left ``running`` go back
    to the queue, or are marked failed once they were interrupted ``max_attempts`` times;
    ``queued`` ones are enqueued again (a duplicate task finds nothing to claim). With
    ``stale_after_s`` only running analyses without progress for that long count as
    orphaned (other workers may be alive); without it every running analysis is (the caller
    is the only consumer). With ``queued_older_than_s`` only queued analyses waiting that
    long are enqueued again (their wait restarts); ``queued=False`` leaves queued analyses
    alone. Returns (requeued, failed)."""
    now = utcnow()
    requeue: list[str] = []
    failed = 0
    with session_scope(sessions) as s:
        if queued:
            waiting = select(AnalysisRow.public_id).where(AnalysisRow.status == Status.QUEUED)
            if queued_older_than_s is not None:
                cutoff = now - timedelta(seconds=queued_older_than_s)
                waiting = waiting.where(AnalysisRow.updated_at < cutoff)
            ids = list(s.scalars(waiting).all())
            if ids:
                s.execute(update(AnalysisRow)
                          .where(AnalysisRow.public_id.in_(ids),
                                 AnalysisRow.status == Status.QUEUED)
                          .values(updated_at=now))
            requeue += ids
        running = select(AnalysisRow).where(AnalysisRow.status == Status.RUNNING)
        if stale_after_s is not None:
            stale: datetime = now - timedelta(seconds=stale_after_s)
            running = running.where(AnalysisRow.updated_at < stale)
        for row in s.scalars(running).all():
            if row.attempts >= max_attempts:
                row.status, row.stage = Status.FAILED, "failed"
                row.error_code = "interrupted"
                row.error_message = (f"the analysis was interrupted {row.attempts} times "
                                     "(server stopped or crashed while it ran); giving up")
                row.finished_at = row.updated_at = now
                failed += 1
            else:
                row.status, row.stage, row.progress, row.updated_at = (
                    Status.QUEUED, "queued", 0, now)
                requeue.append(row.public_id)
    for public_id in requeue:
        enqueue(public_id)
    if requeue or failed:
        log.info("recovered jobs: %d enqueued again, %d failed", len(requeue), failed)
    return len(requeue), failed


def sweep_interval(settings: JobSettings) -> float:
    return max(0.5, min(60.0, settings.stale_after_s / 4, settings.requeue_after_s / 2))


class StaleSweeper(Periodic):
    """The outbox sweeper: a thread that, every ``sweep_interval`` seconds, enqueues again
    the queued analyses waiting longer than ``requeue_after_s`` (their task never reached
    the queue, or the queue lost it) and the running analyses of workers that died (no
    heartbeat for ``stale_after_s``). Runs in ``serve`` (embedded and scale-out) and in
    every ``fakelens worker``."""

    name = "stale-sweeper"

    def __init__(self, sessions: sessionmaker[Session], enqueue: Enqueue,
                 settings: JobSettings):
        super().__init__(sweep_interval(settings))
        self.sessions, self.enqueue, self.settings = sessions, enqueue, settings
        self.reserve = SpaceReserve(settings.data_dir, reserve_bytes(settings.min_free_bytes))

    def sweep(self) -> tuple[int, int]:
        return recover(self.sessions, self.enqueue, self.settings.max_attempts,
                       self.settings.stale_after_s,
                       queued_older_than_s=self.settings.requeue_after_s)

    def tick(self) -> tuple[int, int]:
        self.reserve.ensure()  # made again once a full disk has room
        return self.sweep()


@dataclass
class Backend:
    """What the web app and a worker share: database engine, sessions, queue, enqueue, and
    the analysis task (to stop its runs)."""

    engine: Engine
    sessions: sessionmaker[Session]
    huey: Huey
    enqueue: Enqueue
    job: AnalysisJob


def open_backend(settings: JobSettings) -> Backend:
    """Data dirs made, schema migrated, queue opened and the analysis task registered."""
    from fakelens.db.engine import make_engine, make_sessionmaker, upgrade_schema
    from fakelens.jobs.queue import make_huey

    settings.prepare_dirs()
    SpaceReserve(settings.data_dir, reserve_bytes(settings.min_free_bytes)).ensure()
    engine = make_engine(settings.resolved_database_url())
    upgrade_schema(engine)
    sessions = make_sessionmaker(engine)
    huey = make_huey(settings)
    job = register_job(huey, settings, sessions)
    assert job.enqueue is not None
    return Backend(engine, sessions, huey, job.enqueue, job)
