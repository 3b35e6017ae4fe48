"""Degrading clearly: an outage of the database gives 503 with ``Retry-After`` (never a
500), a full disk 507 with nothing half-written, ``/healthz`` (liveness) and ``/readyz``
(database, queue, disk) apart, no write on the read path of token authentication, stale
upload temp files removed."""

from __future__ import annotations

import errno
import os
import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from webhelpers import create_token, eventually, register, upload

from fakelens.db.tables import AnalysisRow, ApiToken
from fakelens.web.sessions import SESSION_COOKIE


def login_token(client) -> dict[str, str]:
    register(client, "alice@example.org")
    return {"Authorization": f"Bearer {create_token(client)}"}


def _count_rows(client) -> int:
    with client.app.state.sessions() as db:
        return len(db.scalars(select(AnalysisRow)).all())


def test_healthz_is_liveness_and_readyz_checks_dependencies(app_factory):
    client = app_factory()
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "queue": "ok", "disk": "ok"}

    starved = app_factory(min_free_mb=1e12)  # "needs" a petabyte free
    ready = starved.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json()["checks"]["disk"].startswith("low")
    assert starved.get("/healthz").status_code == 200


@pytest.fixture
def database_down(client):
    """Every statement fails as if the database server had gone away (until undone)."""
    state = {"down": False}

    def fail(conn, cursor, statement, *args) -> None:
        if state["down"]:
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", fail)
    yield state
    event.remove(engine, "before_cursor_execute", fail)


def test_database_outage_gives_503_with_retry_after(client, database_down):
    headers = login_token(client)
    assert client.get("/api/v1/analyses", headers=headers).status_code == 200
    database_down["down"] = True
    for path in ("/api/v1/analyses", "/readyz"):
        response = client.get(path, headers=headers)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        assert response.headers["content-type"].startswith("application/json")
        if path != "/readyz":
            assert response.json()["error"]["code"] == "service_unavailable"
    page = client.get("/")
    assert page.status_code == 503 and "Traceback" not in page.text
    cookies = dict(client.cookies)
    client.cookies.clear()  # as a probe calls it: no session to load
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    client.cookies.update(cookies)
    database_down["down"] = False
    assert client.get("/api/v1/analyses", headers=headers).status_code == 200


ANONYMOUS_PAGES = ("/", "/login", "/forum")  # each writes a new session (a CSRF token)


def _assert_outage_page(response, status: int = 503) -> None:
    assert response.status_code == status, response.text[:500]
    if status == 503:
        assert response.headers["Retry-After"]
    assert "set-cookie" not in response.headers
    assert "Traceback" not in response.text and "already started" not in response.text


def test_pages_that_write_a_session_give_503_when_the_database_is_away(client,
                                                                       database_down):
    """The session is saved before the response starts: its failure is an outage page,
    not a 500 from a response already under way."""
    database_down["down"] = True
    for path in ANONYMOUS_PAGES:
        client.cookies.clear()
        _assert_outage_page(client.get(path))
    database_down["down"] = False
    assert client.get("/login").status_code == 200
    assert client.cookies.get(SESSION_COOKIE)


def test_a_failing_session_purge_never_fails_a_request(app_factory):
    """The first request of a process purges expired sessions: a failing purge is logged
    and tried again later, the request itself (it needs no database) answers."""
    client = app_factory()
    engine = client.app.state.engine

    def refuse(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM WEB_SESSIONS"):
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        assert client.get("/api/v1/models").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def test_session_save_on_a_full_database_disk_gives_507(client):
    """SQLite's "database or disk is full" while saving a new session: 507."""
    import sqlite3

    def full(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO WEB_SESSIONS"):
            raise OperationalError(statement, {},
                                   sqlite3.OperationalError("database or disk is full"))

    event.listen(client.app.state.engine, "before_cursor_execute", full)
    try:
        for path in ANONYMOUS_PAGES:
            client.cookies.clear()
            _assert_outage_page(client.get(path), 507)
        api = client.get("/api/v1/analyses", headers={"Authorization": "Bearer nope"})
        assert api.status_code == 401  # no session to save: not concerned
    finally:
        event.remove(client.app.state.engine, "before_cursor_execute", full)


@pytest.mark.slow
def test_anonymous_pages_with_postgres_stopped_give_503(tmp_path):
    """A real outage: the PostgreSQL server stopped under a running app, then back."""
    from fastapi.testclient import TestClient
    from servers import postgres_control, postgres_server
    from webhelpers import make_settings

    from fakelens.web.app import create_app

    with postgres_server() as url, TestClient(create_app(make_settings(
            tmp_path / "data", database_url=url))) as client:
        assert client.get("/login").status_code == 200
        postgres_control(url, "stop")
        try:
            for path in ANONYMOUS_PAGES:
                client.cookies.clear()
                _assert_outage_page(client.get(path))
            response = client.get("/api/v1/analyses",
                                  headers={"Authorization": "Bearer flk_unknown"})
            assert response.status_code == 503 and response.headers["Retry-After"]
            assert response.json()["error"]["code"] == "service_unavailable"
        finally:
            postgres_control(url, "start")
        client.cookies.clear()
        assert client.get("/login").status_code == 200


def test_token_use_is_recorded_at_most_every_few_minutes(client):
    headers = login_token(client)
    writes: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(client.app.state.engine, "before_cursor_execute", record)
    for _ in range(5):
        assert client.get("/api/v1/analyses", headers=headers).status_code == 200
    event.remove(client.app.state.engine, "before_cursor_execute", record)
    assert len(writes) == 1
    with client.app.state.sessions() as db:
        assert db.scalar(select(ApiToken)).last_used_at is not None


def test_a_failing_token_touch_never_fails_the_request(client):
    headers = login_token(client)

    def refuse(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            raise OperationalError(statement, {}, Exception("database is locked"))

    event.listen(client.app.state.engine, "before_cursor_execute", refuse)
    try:
        assert client.get("/api/v1/analyses", headers=headers).status_code == 200
    finally:
        event.remove(client.app.state.engine, "before_cursor_execute", refuse)


def _du(path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_small_disk_gives_507_and_leaves_nothing_behind(app_factory, data_dir, monkeypatch):
    """A 40 MB disk (a quota on the data dir): an upload that would fill it is refused
    while it streams in; the temp file goes, no analysis row is made."""
    client = app_factory(min_free_mb=1)
    headers = login_token(client)
    quota = _du(data_dir) + 40 * 1024 * 1024
    monkeypatch.setattr("fakelens.web.storage.free_bytes", lambda path: quota - _du(data_dir))
    big = os.urandom(45 * 1024 * 1024)
    response = upload(client, headers, content=big, filename="big.mp4")
    assert response.status_code == 507, response.text
    assert response.json()["error"]["code"] == "storage_full"
    assert "storage" in response.json()["error"]["message"]
    assert list((data_dir / "tmp").iterdir()) == []
    assert _count_rows(client) == 0
    assert upload(client, headers).status_code == 202  # a small one still fits


def test_disk_full_while_writing_gives_507(client, data_dir, monkeypatch):
    headers = login_token(client)

    def full(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("fakelens.web.uploads._Receiver.flush", full)
    response = upload(client, headers)
    assert response.status_code == 507, response.text
    assert response.json()["error"]["code"] == "storage_full"
    assert list((data_dir / "tmp").iterdir()) == []
    assert _count_rows(client) == 0


def test_stale_upload_temp_files_are_removed_at_start(app_factory, data_dir):
    tmp = data_dir / "tmp"
    tmp.mkdir(parents=True)
    stale, fresh, other = tmp / "upload-crashed", tmp / "upload-running", tmp / "keep.txt"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    app_factory()
    assert not stale.exists() and fresh.exists() and other.exists()


def test_disk_full_during_a_job_fails_it_with_a_reason(client, monkeypatch):
    from fakelens.jobs.tasks import AnalysisJob

    upload(client, login_token(client))
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow))

    def full(self, row):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AnalysisJob, "_analyze", full)
    AnalysisJob(client.app.state.settings, client.app.state.sessions)(row.public_id)
    with client.app.state.sessions() as db:
        done = db.scalar(select(AnalysisRow))
    assert (done.status, done.error_code) == ("failed", "storage_full")
    assert "storage space" in done.error_message


def test_queue_outage_in_a_request_gives_503(client):
    import redis.exceptions

    def boom() -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    client.app.add_api_route("/api/v1/test-queue-outage", boom)
    response = client.get("/api/v1/test-queue-outage")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "6379" not in response.text


def test_temp_cleaner_removes_stale_files_periodically(client, data_dir):
    from fakelens.web.storage import TempCleaner

    stale = data_dir / "tmp" / "upload-cut-off"
    stale.write_bytes(b"x")
    cleaner = TempCleaner(client.app.state.settings, interval_s=0.05, older_than_s=0).start()
    try:
        assert eventually(lambda: not stale.exists())
    finally:
        cleaner.stop()
