"""Web fixtures: an app on a fresh SQLite data dir per test, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from webhelpers import create_token, make_settings, other_client, register

from fakelens.web.app import create_app


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def app_factory(data_dir: Path) -> Iterator[Callable[..., TestClient]]:
    """Start an app (lifespan included) on ``data_dir``; every one is closed at the end."""
    opened: list[TestClient] = []

    def start(**overrides) -> TestClient:
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
