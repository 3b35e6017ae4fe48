"""The job rows are the truth, the queue a hint: the sweeper enqueues again what never
reached the queue (or what the queue lost), a worker's claim rides out database blips, and
a job enqueued twice runs once. Fault injection with real Redis and PostgreSQL servers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from servers import RedisProcess, Service, service_env
from sqlalchemy import create_engine, select, update
from sqlalchemy.exc import OperationalError
from webhelpers import analysis_rows, login_token, upload, wait_for

from fakelens.db.tables import AnalysisRow, utcnow
from fakelens.jobs.retry import with_retry
from fakelens.jobs.tasks import AnalysisJob, Cancelled, StaleSweeper

VIDEO = "ffpp_original_004.mp4"


def _age(client, seconds: float) -> None:
    with client.app.state.sessions() as db:
        db.execute(update(AnalysisRow).values(updated_at=utcnow() - timedelta(seconds=seconds)))
        db.commit()


def test_sweeper_enqueues_queued_rows_that_wait_too_long(app_factory):
    # serve's own sweeper waits an hour, so only the one under test acts on the aged row
    client = app_factory(requeue_after_s=3600)
    upload(client, login_token(client))
    enqueued: list[str] = []
    sweeper = StaleSweeper(client.app.state.sessions, enqueued.append,
                           client.app.state.settings.model_copy(
                               update={"requeue_after_s": 30}))
    assert sweeper.sweep() == (0, 0) and enqueued == []  # just queued: left alone
    _age(client, 60)
    assert sweeper.sweep() == (1, 0)
    [row] = analysis_rows(client)
    assert enqueued == [row.public_id] and row.status == "queued"
    assert sweeper.sweep() == (0, 0)  # its wait started again


def test_upload_whose_enqueue_failed_runs_later(app_factory, monkeypatch):
    """The outbox in the embedded (SQLite queue) mode: the periodic sweeper of ``serve``
    enqueues the row whose task was lost."""
    client = app_factory(workers=1, requeue_after_s=0.5, stale_after_s=30)
    real = client.app.state.enqueue

    def broken(public_id: str) -> None:
        raise ConnectionError("queue down")

    client.app.state.enqueue = broken
    headers = login_token(client)
    accepted = upload(client, headers)
    assert accepted.status_code == 202, accepted.text
    client.app.state.enqueue = real
    body = wait_for(client, accepted.json()["status_url"], headers, timeout_s=60)
    assert body["status"] in ("done", "failed")
    assert body["status"] == "done" or body["error"]["message"]
    assert analysis_rows(client)[0].attempts == 1


def test_claim_retries_while_the_database_is_away():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return "claimed"

    assert with_retry(flaky, "claim", give_up_after_s=5, first_delay_s=0.01) == "claimed"
    assert len(calls) == 3
    with pytest.raises(ValueError):  # a bug is not retried
        with_retry(lambda: (_ for _ in ()).throw(ValueError("bug")), "claim")


def test_concurrent_claims_run_a_job_once(client):
    """Ten workers given the same job (re-enqueued copies): exactly one claims it."""
    upload(client, login_token(client))
    public_id = analysis_rows(client)[0].public_id
    job = AnalysisJob(client.app.state.settings, client.app.state.sessions)
    won: list[object] = []
    barrier = threading.Barrier(10)

    def claim() -> None:
        barrier.wait()
        if job._claim(public_id) is not None:
            won.append(1)

    threads = [threading.Thread(target=claim) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert (analysis_rows(client)[0].status, analysis_rows(client)[0].attempts) == ("running", 1)


def _finished(http, url: str, headers: dict[str, str], timeout_s: float = 120) -> dict:
    """Poll until the analysis is done or failed; a 503 (outage) means: ask again."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = http.get(url, headers=headers)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 200 and response.json()["status"] in ("done", "failed"):
            return response.json()
        assert time.monotonic() < deadline, response.text
        time.sleep(0.3)


def _stored(url: str) -> list[AnalysisRow]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(AnalysisRow).order_by(AnalysisRow.id)))
    finally:
        engine.dispose()


@pytest.mark.realdata
@pytest.mark.slow
def test_redis_stopped_during_uploads_and_restarted_empty(tmp_path: Path, postgres_url,
                                                          videos, model_dir, tiny_detector):
    redis = RedisProcess().start()
    # stale_after_s long: a running job's heartbeat may be starved on a loaded machine,
    # and this test is about queued rows whose task was lost, not about stale workers
    env = service_env(tmp_path / "data", postgres_url, redis.url, requeue_after_s=1,
                      stale_after_s=60)
    server = Service(["serve", "--threads", "0"], env, tmp_path / "serve.log")
    worker = Service(["worker", "--threads", "1"], env, tmp_path / "worker.log")
    try:
        server.start()
        http = httpx.Client(base_url=server.url, timeout=30)
        headers = login_token(http)
        content = (videos / VIDEO).read_bytes()
        urls, statuses = [], []

        def send(n: int) -> None:
            for _ in range(n):
                r = upload(http, headers, content=content + b"\0" * len(urls),
                           filename=VIDEO, frames=2, model=tiny_detector)
                statuses.append(r.status_code)
                if r.status_code == 202:
                    urls.append(r.json()["status_url"])

        send(1)
        redis.stop()  # queue down: uploads are still accepted (the row is the truth)
        send(3)
        assert http.get("/readyz").status_code == 503
        redis.start()  # back, but empty: every task sent before is gone
        send(1)
        worker.start()
        assert len(urls) == 5, statuses
        for url in urls:
            body = _finished(http, url, headers)
            assert body["status"] == "done" or body["error"]["message"], body
        assert all(s in (202, 503) for s in statuses), statuses
        assert all(r.attempts == 1 for r in _stored(postgres_url))
        http.close()
    finally:
        worker.stop()
        server.stop()
        redis.close()


@pytest.mark.realdata
@pytest.mark.slow
def test_postgres_stopped_while_a_worker_claims(tmp_path: Path, videos, model_dir,
                                                tiny_detector):
    """PostgreSQL goes away with a job in the queue and comes back: the worker's claim is
    retried (the job is neither dropped nor run twice); the server answers 503 meanwhile."""
    from servers import postgres_control, postgres_server

    with postgres_server() as url:
        # stale_after_s long: the worker may have claimed the job before the database went
        # down, and no heartbeat can be written while it is; the claim's retry is tested
        env = service_env(tmp_path / "data", url, None, workers=1, requeue_after_s=1,
                          stale_after_s=60)
        server = Service(["serve"], env, tmp_path / "serve.log")
        try:
            server.start()
            http = httpx.Client(base_url=server.url, timeout=30)
            headers = login_token(http)
            content = (videos / VIDEO).read_bytes()
            accepted = upload(http, headers, content=content, filename=VIDEO, frames=2,
                              model=tiny_detector)
            assert accepted.status_code == 202
            postgres_control(url, "stop")
            down = http.get(accepted.json()["status_url"], headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["Retry-After"] and down.json()["error"]["code"]
            time.sleep(1.5)
            postgres_control(url, "start")
            body = _finished(http, accepted.json()["status_url"], headers)
            assert body["status"] == "done" or body["error"]["message"], body
            assert [r.attempts for r in _stored(url)] == [1]
            http.close()
        finally:
            server.stop()


def test_a_run_taken_over_by_a_sweep_is_fenced_off(client):
    """A worker that only looked dead (a long database blip) loses its job to the next
    claim: its progress cancels it, its result is not stored over the new run's."""
    upload(client, login_token(client))
    public_id = analysis_rows(client)[0].public_id
    job = AnalysisJob(client.app.state.settings, client.app.state.sessions)
    old = job._claim(public_id)
    with client.app.state.sessions() as db:  # what the sweeper does to a silent run
        db.execute(update(AnalysisRow).values(status="queued"))
        db.commit()
    new = job._claim(public_id)
    assert (old.attempts, new.attempts) == (1, 2)
    with pytest.raises(Cancelled):
        job._write_progress(public_id, "decode", 50, old.attempts)
    job._finish(public_id, old.attempts, status="failed", stage="failed")
    assert analysis_rows(client)[0].status == "running"
    job._finish(public_id, new.attempts, status="done", stage="done")
    assert analysis_rows(client)[0].status == "done"


def _insert_running(client) -> str:
    """A job some live ``serve`` runs right now (fresh heartbeat), never enqueued here: a
    worker of this app must not pick the upload up before the row says ``running``."""
    real = client.app.state.enqueue
    client.app.state.enqueue = lambda public_id: None
    try:
        upload(client, login_token(client))
    finally:
        client.app.state.enqueue = real
    with client.app.state.sessions() as db:
        db.execute(update(AnalysisRow).values(status="running", stage="decode", attempts=1,
                                              updated_at=utcnow()))
        db.commit()
    return analysis_rows(client)[0].public_id


def test_second_serve_on_a_data_dir_leaves_running_jobs_alone(app_factory):
    """Only the serve holding the SQLite queue's consumer lock takes every running job for
    an orphan at start; a second one on the same data dir must not run it twice."""
    first = app_factory(workers=1, stale_after_s=600)
    public_id = _insert_running(first)
    app_factory(workers=1, stale_after_s=600)
    assert [(r.public_id, r.status) for r in analysis_rows(first)] == [(public_id, "running")]


def test_sole_serve_recovers_running_jobs_at_start(app_factory):
    first = app_factory(workers=0)
    _insert_running(first)
    first.__exit__(None, None, None)  # as if it had crashed mid-job
    second = app_factory(workers=1, stale_after_s=600)
    deadline = time.monotonic() + 30
    while analysis_rows(second)[0].attempts < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert analysis_rows(second)[0].attempts == 2  # queued again at start, claimed again
