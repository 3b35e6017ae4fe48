"""Helpers of the web tests (imported by the tests and conftest.py)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from fakelens.db.tables import AnalysisRow
from fakelens.web.settings import WebSettings

PASSWORD = "correct horse battery"

def make_settings(data_dir: Path, **overrides) -> WebSettings:
    values = dict(data_dir=data_dir, database_url=None, redis_url=None, workers=0,
                  immediate=False)
    values.update(overrides)
    return WebSettings(**values)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def register(client: TestClient, email: str, password: str = PASSWORD,
             username: str | None = None, log_in: bool = True):
    """Create an account (username: the address' part before the @ unless given) and, as
    a person would on the login form sign-up leads to, log in with it (``log_in``).
    Returns the sign-up's response."""
    token = csrf_from(client.get("/register").text)
    username = username if username is not None else email.split("@")[0]
    response = client.post("/register", data={"email": email, "password": password,
                                              "username": username, "csrf_token": token},
                           follow_redirects=False)
    if log_in and response.status_code == 303:
        page = client.get(response.headers["location"]).text
        client.post("/login", data={"email": email, "password": password,
                                    "csrf_token": csrf_from(page)}, follow_redirects=False)
    return response


def other_client(client: TestClient) -> TestClient:
    """A second browser on the same app (own cookie jar)."""
    return TestClient(client.app)


def create_token(client: TestClient, name: str = "script") -> str:
    page = client.get("/account")
    response = client.post("/account/tokens", data={"name": name,
                                                    "csrf_token": csrf_from(page.text)})
    assert response.status_code == 201
    match = re.search(r'id="new-token" class="mono" readonly value="([^"]+)"', response.text)
    assert match
    return match.group(1)


def png_bytes(seed: int = 0, size: int = 48) -> bytes:
    """A small real PNG (no face); ``seed`` changes its content (and so its sha256)."""
    img = Image.new("RGB", (size, size), (seed * 37 % 256, 120, 200))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upload(client: TestClient, headers: dict[str, str] | None = None, *,
           content: bytes | None = None, filename: str = "photo.png", **fields):
    content = png_bytes() if content is None else content
    return client.post("/api/v1/analyses", headers=headers or {},
                       files={"file": (filename, content, "application/octet-stream")},
                       data={k: str(v) for k, v in fields.items()})


def eventually(check, timeout_s: float = 30, interval_s: float = 0.05) -> bool:
    """Whether ``check()`` became true within ``timeout_s``: for what a background thread
    does in its own time (a deadline, never a fixed sleep, so a slow machine only waits)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
    return True


def wait_for(client: TestClient, url: str, headers: dict[str, str], timeout_s: float = 240,
             until=("done", "failed")) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get(url, headers=headers).json()
        if body["status"] in until:
            return body
        assert time.monotonic() < deadline, f"job still {body['status']} after {timeout_s}s"
        time.sleep(0.3)


def login_token(client: TestClient) -> dict[str, str]:
    """Register alice and return a bearer header for her."""
    assert register(client, "alice@example.org").status_code == 303
    return {"Authorization": f"Bearer {create_token(client)}"}


def analysis_rows(client: TestClient) -> list[AnalysisRow]:
    with client.app.state.sessions() as db:
        return list(db.scalars(select(AnalysisRow).order_by(AnalysisRow.id)))
