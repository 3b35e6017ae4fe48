"""Web fixtures: an app on a fresh data dir and a fresh database per test (every app test
runs on SQLite and on PostgreSQL), logged-in clients, throwaway PostgreSQL/Redis servers.

PostgreSQL: ``FAKELENS_TEST_POSTGRES_URL`` names an existing server (a URL that may create
databases); without it a cluster is started from the installed binaries for the session.
Redis likewise with ``FAKELENS_TEST_REDIS_URL``."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browserhelpers import CHROMIUM, launch_browser
from fastapi.testclient import TestClient
from servers import missing, postgres_server, redis_server
from sqlalchemy import create_engine, make_url, text
from webhelpers import create_token, make_settings, other_client, register

from fakelens.web.app import create_app


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    given = os.environ.get("FAKELENS_TEST_POSTGRES_URL")
    if given:
        yield make_url(given).set(drivername="postgresql+psycopg").render_as_string(False)
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("FAKELENS_TEST_REDIS_URL")
    if given:
        yield given
        return
    with redis_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    name = f"fakelens_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        yield make_url(postgres_admin_url).set(database=name).render_as_string(False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str | None:
    """The database of the app under test: None (SQLite in the data dir) or PostgreSQL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def app_factory(data_dir: Path, database_url: str | None
                ) -> Iterator[Callable[..., TestClient]]:
    """Start an app (lifespan included) on ``data_dir`` and the test's database; every one
    is closed at the end."""
    opened: list[TestClient] = []

    def start(**overrides) -> TestClient:
        overrides.setdefault("database_url", database_url)
        client = TestClient(create_app(make_settings(data_dir, **overrides)))
        client.__enter__()
        opened.append(client)
        return client

    yield start
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_factory) -> TestClient:
    return app_factory()


@pytest.fixture
def alice(client: TestClient) -> TestClient:
    assert register(client, "alice@example.org").status_code == 303
    return client


@pytest.fixture
def alice_token(alice: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(alice)}"}


@pytest.fixture
def bob_token(client: TestClient) -> dict[str, str]:
    bob = other_client(client)
    assert register(bob, "bob@example.org").status_code == 303
    return {"Authorization": f"Bearer {create_token(bob)}"}


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver per test session: the sync API cannot run two at once, so
    every browser (the shared one, a fake-camera one) is launched from this."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright", "pip install -e '.[test]'")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing(f"chromium ({CHROMIUM})", "apt-get install chromium")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's chromium (headless) driven by Playwright."""
    chromium = launch_browser(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``FAKELENS_SCREENSHOTS`` or the test's temporary dir."""
    out = Path(os.environ.get("FAKELENS_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out
