"""Stopping ``fakelens worker`` (SIGTERM from Docker, systemd or Kubernetes; SIGINT from
Ctrl-C) in the middle of a job: it takes no new job, lets the running one finish within
``FAKELENS_STOP_GRACE_S`` or hands it back to the queue, and exits 0. It used to die at
once (exit -6, "FATAL: exception not rethrown") and leave the job ``running`` until the
stale window passed. A real worker process on the test's database (SQLite, PostgreSQL)
and SQLite queue; its analyses wait for the test's word (``slow_worker.py``)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import Service, service_env
from webhelpers import analysis_rows, login_token, png_bytes, upload

import fakelens.analysis.pipeline as pipeline
from fakelens.db.tables import AnalysisRow
from fakelens.jobs.tasks import heartbeat_interval, sweep_interval
from fakelens.web.settings import WebSettings

pytestmark = pytest.mark.slow

SLOW_WORKER = Path(__file__).with_name("slow_worker.py")
TIMEOUT_S = 120  # generous: only a broken worker takes this long


@pytest.fixture
def start_worker(data_dir: Path, database_url: str | None, tmp_path: Path):
    """``start_worker(name, silent=False, **settings)``: a slow-job worker on the test's
    data dir and database; every one is stopped at the end."""
    started: list[Service] = []

    def start(name: str, silent: bool = False, **settings: object) -> Service:
        env = service_env(data_dir, database_url, **settings)
        env.update(SLOW_JOB_RELEASE=str(tmp_path / "release"),
                   SLOW_JOB_SILENT="1" if silent else "0")
        service = Service(["worker", "--threads", "1"], env, tmp_path / f"{name}.log",
                          script=SLOW_WORKER)
        started.append(service)
        return service.start()

    yield start
    for service in started:
        service.stop()


def release_jobs(tmp_path: Path) -> None:
    (tmp_path / "release").touch()


def wait_row(client, public_id: str, ready: Callable[[AnalysisRow], bool],
             worker: Service) -> AnalysisRow:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        [row] = [r for r in analysis_rows(client) if r.public_id == public_id]
        if ready(row):
            return row
        assert time.monotonic() < deadline, (row.status, worker.output())
        time.sleep(0.1)


def wait_output(worker: Service, text: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while text not in worker.output():
        assert worker.proc.poll() is None, worker.output()
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)


def exit_code(worker: Service) -> int:
    return worker.proc.wait(TIMEOUT_S)


@pytest.mark.parametrize("silent", [False, True], ids=["reporting", "silent"])
def test_stopped_worker_hands_its_job_back(app_factory, start_worker, tmp_path, silent):
    """Past the grace period the job goes back to the queue at once (not after the stale
    window): at its next progress report, or, stuck in one long computation, from the
    stopping thread (and the process leaves without waiting for that one)."""
    client = app_factory()
    public_id = upload(client, login_token(client)).json()["id"]
    worker = start_worker("worker", silent=silent, stop_grace_s=1)
    wait_row(client, public_id, lambda r: r.status == "running", worker)
    worker.proc.send_signal(signal.SIGTERM)
    assert exit_code(worker) == 0, worker.output()
    [row] = analysis_rows(client)
    assert (row.status, row.attempts) == ("queued", 1), worker.output()
    assert "handed back to the queue" in worker.output()

    release_jobs(tmp_path)  # the next worker runs it to the end
    worker = start_worker("next")
    row = wait_row(client, public_id, lambda r: r.status in ("done", "failed"), worker)
    assert row.attempts == 2 and row.status == "done", (row.error_message, worker.output())
    worker.proc.send_signal(signal.SIGTERM)
    assert exit_code(worker) == 0, worker.output()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_stopped_worker_finishes_its_job_and_takes_no_other(app_factory, start_worker,
                                                            tmp_path, signum):
    client = app_factory()
    headers = login_token(client)
    first = upload(client, headers, content=png_bytes(1)).json()["id"]
    worker = start_worker("worker", stop_grace_s=600)
    wait_row(client, first, lambda r: r.status == "running", worker)
    second = upload(client, headers, content=png_bytes(2)).json()["id"]
    worker.proc.send_signal(signum)
    wait_output(worker, "taking no new job")
    assert worker.proc.poll() is None  # waits for its job (600 s of grace)
    release_jobs(tmp_path)
    assert exit_code(worker) == 0, worker.output()
    rows = {r.public_id: r for r in analysis_rows(client)}
    assert (rows[first].status, rows[first].attempts) == ("done", 1), worker.output()
    assert (rows[second].status, rows[second].attempts) == ("queued", 0), worker.output()
    assert "handed back" not in worker.output()


def test_killed_workers_jobs_are_retried_within_about_a_minute():
    """The default stale window: a job whose worker was killed (no heartbeat any more) is
    queued again about a minute after its last heartbeat, not fifteen."""
    settings = WebSettings()
    assert settings.stale_after_s <= 90
    assert heartbeat_interval(settings) <= 15  # several beats per window
    assert settings.stale_after_s + sweep_interval(settings) <= 90


def test_stopping_serve_hands_back_its_running_job(app_factory, monkeypatch):
    """The job threads inside ``serve`` stop the same way (after ``stop_grace_s``)."""
    release = threading.Event()

    def waiting(path, *args, progress=None, **kwargs):
        while not release.wait(0.05):
            progress("decode", 0.1)
        raise AssertionError("released: the job should have been handed back")

    monkeypatch.setattr(pipeline, "analyze_detailed", waiting)
    client = app_factory(workers=1, stop_grace_s=0.5)
    public_id = upload(client, login_token(client)).json()["id"]
    deadline = time.monotonic() + TIMEOUT_S
    while analysis_rows(client)[0].status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        client.__exit__(None, None, None)  # the end of serve (SIGTERM to uvicorn)
        [row] = analysis_rows(client)
        assert (row.public_id, row.status, row.attempts) == (public_id, "queued", 1)
    finally:
        release.set()
