"""Any number of ``fakelens serve`` processes may start together on a new data dir: the
SQLite migrations run under a file lock beside the database, one process at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from servers import Service, service_env
from sqlalchemy import create_engine, text
from webhelpers import create_token, png_bytes, register, upload

from fakelens.db.engine import make_engine, upgrade_schema


def test_concurrent_sqlite_migrations_take_turns(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fakelens.db'}"
    errors: list[BaseException] = []

    def migrate() -> None:
        engine = make_engine(url)
        try:
            upgrade_schema(engine)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (tmp_path / "fakelens.db.migrate.lock").exists()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


@pytest.mark.slow
def test_three_servers_start_at_once_on_a_new_data_dir(tmp_path: Path, model_dir,
                                                       tiny_detector):
    env = service_env(tmp_path / "data", None, requeue_after_s=2, stale_after_s=10)
    servers = [Service(["serve"], env, tmp_path / f"serve-{i}.log") for i in range(3)]
    failures: list[BaseException] = []

    def start(server: Service) -> None:
        try:
            server.start()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == [], failures
        accepted = []
        for i, server in enumerate(servers):
            http = httpx.Client(base_url=server.url, timeout=30)
            assert http.get("/readyz").status_code == 200, server.output()
            assert register(http, f"user{i}@example.org").status_code == 303
            headers = {"Authorization": f"Bearer {create_token(http)}"}
            response = upload(http, headers, content=png_bytes(seed=i), model=tiny_detector)
            assert response.status_code == 202, response.text
            accepted.append((http, response.json()["status_url"], headers))
        deadline = time.monotonic() + 120
        for http, url, headers in accepted:
            while True:
                response = http.get(url, headers=headers)
                assert response.status_code in (200, 503), response.text
                body = response.json()
                if response.status_code == 200 and body["status"] in ("done", "failed"):
                    break
                assert time.monotonic() < deadline, body
                time.sleep(0.3)
            assert body["status"] == "done" or body["error"]["message"]
            http.close()
    finally:
        for server in servers:
            server.stop()
