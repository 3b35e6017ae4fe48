"""The embedded default (SQLite database and SQLite queue in the data dir) on a disk that
fills up to the last byte: pages answer 507, uploads 507, /readyz 503; queued and running
jobs fail with ``storage_full`` (a small space reserve is given up so that the failure can
be written and the queue read) instead of waiting for good behind a traceback a second;
once there is room again everything goes on by itself and the reserve is made again.

The real thing needs a small disk: a tmpfs mounted for the test (root only; skipped
elsewhere). The same paths are also checked with the failures simulated."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from webhelpers import analysis_rows, login_token, make_settings, png_bytes, upload

from fakelens.db.tables import AnalysisRow
from fakelens.jobs.space import RESERVE_NAME
from fakelens.web.app import create_app

DISK_FULL = sqlite3.OperationalError("database or disk is full")


@pytest.fixture
def database_url() -> None:  # the embedded default: SQLite in the data dir
    return None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB tmpfs of its own (mounting needs root: skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a small disk of its own needs root (mount -t tmpfs)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full (to the last byte)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            for block in (1 << 20, 4096, 512, 1):
                chunk = b"\0" * block
                while True:
                    out.write(chunk)
        except OSError:
            pass
    for block in (4096, 512, 1):  # what the bigger writes left
        try:
            with open(filler, "ab", buffering=0) as out:
                while True:
                    out.write(b"\0" * block)
        except OSError:
            continue
    return filler


def wait_until(condition, timeout_s: float = 180, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"no {what} after {timeout_s} s"
        time.sleep(0.2)


def _states(client) -> list[tuple[str, str | None]]:
    return [(r.status, r.error_code) for r in analysis_rows(client)]


def test_a_full_disk_fails_jobs_with_a_reason_and_recovers(small_disk, tiny_detector,
                                                          model_dir, caplog):
    from fakelens.jobs.queue import start_embedded_consumer

    caplog.set_level(logging.INFO)
    data_dir = small_disk / "data"
    client = TestClient(create_app(make_settings(
        data_dir, min_free_mb=8, stale_after_s=4, requeue_after_s=2, claim_retry_s=5)))
    consumer = None
    with client:
        try:
            reserve = data_dir / RESERVE_NAME
            assert reserve.is_file()  # held from the start
            headers = login_token(client)
            for seed in (1, 2):  # queued, no consumer yet
                assert upload(client, headers, model=tiny_detector,
                              content=png_bytes(seed)).status_code == 202
            filler = fill(small_disk)
            caplog.clear()

            anonymous = TestClient(client.app)
            page = anonymous.get("/")
            assert page.status_code == 507 and "Traceback" not in page.text
            refused = upload(client, headers, model=tiny_detector, content=png_bytes(3))
            assert refused.status_code == 507
            assert refused.json()["error"]["code"] == "storage_full"
            assert client.get("/readyz").status_code == 503

            consumer = start_embedded_consumer(client.app.state.huey, 1)
            wait_until(lambda: _states(client) == [("failed", "storage_full")] * 2,
                       what="jobs failed with storage_full")
            with client.app.state.sessions() as db:
                assert all("storage space" in r.error_message
                           for r in db.scalars(select(AnalysisRow)))
            tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records
                          if r.exc_info]
            assert tracebacks == []

            filler.unlink()  # room again: nothing to restart
            accepted = upload(client, headers, model=tiny_detector, content=png_bytes(4))
            assert accepted.status_code == 202, accepted.text
            wait_until(lambda: _states(client)[-1][0] in ("done", "failed"),
                       what="a new job")
            assert _states(client)[-1] == ("done", None)
            wait_until(reserve.is_file, what="the reserve made again")
            assert anonymous.get("/").status_code == 200
            assert client.get("/readyz").status_code == 200
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)


def test_a_job_on_a_disk_below_the_margin_fails_at_once(client, monkeypatch):
    """Less room than uploads need (min_free_mb): the job does not start, it fails with
    storage_full while that can still be written."""
    from fakelens.jobs.tasks import AnalysisJob

    upload(client, login_token(client))
    ran = []
    monkeypatch.setattr("fakelens.jobs.tasks.free_bytes", lambda path: 0)
    monkeypatch.setattr(AnalysisJob, "_analyze", lambda self, row: ran.append(row))
    AnalysisJob(client.app.state.settings, client.app.state.sessions)(
        analysis_rows(client)[0].public_id)
    assert ran == [] and _states(client) == [("failed", "storage_full")]


def _full_once(engine, prefix: str) -> list[str]:
    """The next statement starting with ``prefix`` fails as SQLite does on a full disk."""
    failed: list[str] = []

    def refuse(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(prefix) and not failed:
            failed.append(statement)
            raise OperationalError(statement, {}, DISK_FULL)

    event.listen(engine, "before_cursor_execute", refuse)
    return failed


def test_the_failure_is_written_after_giving_up_the_reserve(client, data_dir, monkeypatch):
    """Writing "failed: storage_full" itself fails for lack of space: the reserve goes,
    the write is tried again at once and succeeds."""
    from fakelens.jobs.tasks import AnalysisJob

    upload(client, login_token(client))
    reserve = data_dir / RESERVE_NAME
    assert reserve.is_file()

    def full(self, row):
        _full_once(client.app.state.engine, "UPDATE ANALYSES")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(AnalysisJob, "_analyze", full)
    AnalysisJob(client.app.state.settings, client.app.state.sessions)(
        analysis_rows(client)[0].public_id)
    assert _states(client) == [("failed", "storage_full")]
    assert not reserve.exists()


def test_reading_the_queue_on_a_full_disk_takes_nothing_and_says_it_once(data_dir, caplog):
    from huey.storage import SqliteStorage

    from fakelens.jobs.queue import make_huey

    huey = make_huey(make_settings(data_dir))
    huey.storage.enqueue(b"task")
    reserve = data_dir / RESERVE_NAME
    reserve.write_bytes(b"\0" * 1024)
    original = SqliteStorage.dequeue
    SqliteStorage.dequeue = lambda self: (_ for _ in ()).throw(DISK_FULL)
    caplog.set_level(logging.INFO)
    try:
        assert [huey.storage.dequeue() for _ in range(5)] == [None] * 5
    finally:
        SqliteStorage.dequeue = original
    warnings = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1 and not warnings[0].exc_info
    assert not reserve.exists()  # given up for the next try
    assert huey.storage.dequeue() == b"task"  # room again: goes on
    assert any("readable again" in r.getMessage() for r in caplog.records)


def test_housekeeping_on_a_full_disk_logs_a_line_not_a_traceback(caplog):
    from fakelens.periodic import Periodic

    class Full(Periodic):
        name = "full"

        def tick(self) -> None:
            raise OperationalError("UPDATE analyses", {}, DISK_FULL)

    with caplog.at_level(logging.WARNING):
        task = Full(0.01).start()
        wait_until(lambda: caplog.records, 30, "a log line")
        task.stop()
    assert all(not r.exc_info for r in caplog.records)
    assert "database or disk is full" in caplog.records[0].getMessage()
