"""The Live check WebSocket: only signed-in users from our own pages; frame size and rate
limits; sessions per user; a stopped session saved as a normal analysis (history, result
page, timeline, key faces, report), with nothing else of the stream kept."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from types import SimpleNamespace

import av
import pytest
from fastapi.testclient import TestClient
from forumhelpers import form
from starlette.websockets import WebSocketDisconnect
from webhelpers import other_client, register

from fakelens.types import Analysis
from fakelens.web.live import FrameGate, FrameRefused

pytestmark = [pytest.mark.realdata]

ORIGIN = {"origin": "http://testserver"}
CLIP = "live-swap/Albica_Johns_0__right_fake.mp4"


@pytest.fixture
def database_url() -> None:  # SQLite only: the socket does not depend on the database
    return None


@pytest.fixture(scope="module")
def jpegs(samples: Path) -> list[bytes]:
    """A dozen frames of a live-swap clip as the page sends them (JPEG)."""
    out = []
    with av.open(str(samples / CLIP)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 3 == 0:
                buf = io.BytesIO()
                frame.to_image().save(buf, format="JPEG", quality=80)
                out.append(buf.getvalue())
            if len(out) == 12:
                break
    return out


def _frame(jpeg: bytes, t: float = 1.0) -> bytes:
    return struct.pack(">d", t) + jpeg


def _until(ws, kind: str, limit: int = 200) -> dict:
    for _ in range(limit):
        doc = json.loads(ws.receive_text())
        if doc["type"] == kind:
            return doc
    raise AssertionError(f"no {kind} message")


def test_anonymous_clients_are_refused(client: TestClient, model_dir):
    with pytest.raises(WebSocketDisconnect) as refused, \
            client.websocket_connect("/live/ws", headers=ORIGIN):
        pass
    assert refused.value.code == 1008
    assert client.get("/live", follow_redirects=False).status_code in (302, 303, 307)


@pytest.mark.parametrize("origin", [{"origin": "http://evil.example"}, {}])
def test_cross_origin_clients_are_refused(alice: TestClient, model_dir, origin):
    with pytest.raises(WebSocketDisconnect) as refused, \
            alice.websocket_connect("/live/ws", headers=origin):
        pass
    assert refused.value.code == 1008


def test_the_page_may_use_the_camera(alice: TestClient, model_dir):
    page = alice.get("/live")
    assert page.status_code == 200 and 'id="live-camera"' in page.text
    assert "camera=(self)" in page.headers["permissions-policy"]
    assert "camera=()" in alice.get("/history").headers["permissions-policy"]


def test_oversize_frames_close_the_session(app_factory, model_dir):
    client = app_factory(live_max_frame_kb=16)
    assert register(client, "alice@example.org").status_code == 303
    with client.websocket_connect("/live/ws", headers=ORIGIN) as ws:
        _until(ws, "ready")
        ws.send_bytes(_frame(b"\xff" * (17 * 1024)))
        assert "too large" in _until(ws, "error")["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1009


def test_a_burst_of_held_up_frames_is_not_a_flood():
    """Two seconds of frames at the page's rate, held up and delivered at once (a patchy
    link), pass; a page sending over twice its rate for the whole window does not."""
    gate = FrameGate(SimpleNamespace(live_max_frame_kb=16, live_max_fps=10))
    for i in range(20):
        gate.check(_frame(b"jpeg", t=i))
    with pytest.raises(FrameRefused) as refused:
        for i in range(20, 200):
            gate.check(_frame(b"jpeg", t=i))
    assert refused.value.code == 1008 and "too many frames" in refused.value.message


def test_floods_close_the_session(app_factory, model_dir, jpegs):
    client = app_factory(live_max_fps=2)
    assert register(client, "alice@example.org").status_code == 303
    with client.websocket_connect("/live/ws", headers=ORIGIN) as ws:
        _until(ws, "ready")
        for _ in range(20):  # over 2 x 2 fps x 3 s at once
            ws.send_bytes(_frame(jpegs[0]))
        assert "too many frames" in _until(ws, "error")["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_text()
        assert closed.value.code == 1008


def test_one_session_per_user_by_default(alice: TestClient, model_dir):
    with alice.websocket_connect("/live/ws", headers=ORIGIN) as first:
        _until(first, "ready")
        second_client = TestClient(alice.app, cookies=alice.cookies)
        with second_client.websocket_connect("/live/ws", headers=ORIGIN) as second:
            assert "already run a live check" in _until(second, "error")["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_text()
            assert closed.value.code == 1013
        first.send_text(json.dumps({"type": "stop", "save": False}))


def test_the_server_says_when_it_drops_frames(app_factory, model_dir, jpegs):
    client = app_factory(live_max_fps=30)
    assert register(client, "alice@example.org").status_code == 303
    with client.websocket_connect("/live/ws", headers=ORIGIN) as ws:
        _until(ws, "ready")
        for i in range(24):  # faster than they can be analysed, under the flood limit
            ws.send_bytes(_frame(jpegs[i % len(jpegs)], float(i)))
        dropping = _until(ws, "dropping")
        assert 0 < dropping["dropped"] < dropping["received"] <= 24
        ws.send_text(json.dumps({"type": "stop", "save": False}))


def test_sessions_per_server_are_capped(app_factory, model_dir):
    client = app_factory(live_sessions=1, live_sessions_per_user=2)
    assert register(client, "alice@example.org").status_code == 303
    bob = other_client(client)
    assert register(bob, "bob@example.org").status_code == 303
    with client.websocket_connect("/live/ws", headers=ORIGIN) as first:
        _until(first, "ready")
        with bob.websocket_connect("/live/ws", headers=ORIGIN) as second:
            assert "as many live checks as it can" in _until(second, "error")["message"]
        first.send_text(json.dumps({"type": "stop", "save": False}))


def test_garbage_frames_are_reported_not_fatal_at_first(alice: TestClient, model_dir, jpegs):
    with alice.websocket_connect("/live/ws", headers=ORIGIN) as ws:
        _until(ws, "ready")
        ws.send_bytes(_frame(b"not a jpeg at all"))
        ws.send_text(json.dumps({"type": "stop", "save": True}))
        assert "No frame was analysed" in _until(ws, "error")["message"]


def test_a_stopped_session_is_saved_as_an_analysis(alice: TestClient, model_dir, jpegs,
                                                    data_dir: Path):
    with alice.websocket_connect("/live/ws?source=screen", headers=ORIGIN) as ws:
        ready = _until(ws, "ready")
        assert 0 < ready["threshold"] < 1
        results = []
        for i, jpeg in enumerate(jpegs):
            ws.send_bytes(_frame(jpeg, float(i)))
            results.append(_until(ws, "frame"))  # one at a time: nothing is dropped
        ws.send_text(json.dumps({"type": "stop", "save": True}))
        saved = _until(ws, "saved")
    faces = [f for r in results for f in r["faces"] if f["box"]]
    assert len(faces) >= 10 and all(0 <= f["score"] <= 1 for f in faces)
    assert [r["t"] for r in results] == [float(i) for i in range(len(jpegs))]
    print("live scores (websocket):", [round(f["score"], 3) for f in faces])

    page = alice.get(saved["url"])
    assert page.status_code == 200 and "Live check (shared screen or window)" in page.text
    assert "svg" in page.text and "timeline" in page.text
    history = alice.get("/history").text
    assert saved["id"] in history
    result = Analysis.model_validate_json(
        alice.get(f"/api/v1/analyses/{saved['id']}/result.json").content)
    assert result.media.format == "live" and result.frames_sampled == len(jpegs)
    # what it was, not a file: no size, no hash, provenance not applicable (not "too old")
    assert result.media.live.source == "shared screen or window"
    assert result.media.sha256 is None and result.media.size_bytes is None
    assert "Not applicable: a live session of" in page.text
    assert "before fakelens read provenance" not in page.text
    assert "<dt>SHA-256</dt>" not in page.text and "0 bytes" not in page.text
    assert result.tracks and len(result.tracks[0].frames) == len(jpegs)
    reports = data_dir / "reports"
    assert (reports / f"{saved['id']}.html").is_file()
    assert (reports / f"{saved['id']}-0-face.png").is_file()
    # nothing of the stream itself is kept: no upload blob
    assert not any((data_dir / "uploads").rglob("*")) if (data_dir / "uploads").exists() \
        else True
    # another user cannot see it
    bob = other_client(alice)
    assert register(bob, "bob@example.org").status_code == 303
    assert bob.get(saved["url"]).status_code == 404
    # shared on the forum like any other analysis
    response = form(alice, f"{saved['url']}/share", f"{saved['url']}/share",
                    category="help-me-verify", title="Is this call real?",
                    body="Checked live.", tags="")
    assert response.status_code == 303, response.text
    topic = bob.get(response.headers["location"]).text
    assert "Shared analysis" in topic and "Live check" in topic
