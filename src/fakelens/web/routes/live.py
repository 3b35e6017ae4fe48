"""The Live check page and its WebSocket.

Why a WebSocket and not WebRTC: the page sends a few JPEG frames a second (not a video
call's stream), the server must see every frame's bytes to check and drop them, and a
WebSocket passes through the same origin, cookie session and proxies as the pages, with no
STUN/TURN or media stack (aiortc) on the server.

Protocol: the page sends binary messages (an 8-byte big-endian float timestamp in ms, then
a JPEG) and text messages ``{"type": "stop", "save": true}``; the server answers with JSON:
``ready``, ``frame`` (faces with boxes and scores, the page's timestamp echoed back),
``update`` (once a second: the rolling verdict), ``dropping`` (frames skipped because they
came faster than they could be analysed), ``saved`` (the new analysis) and ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from fakelens.analysis.caveats import verdict_label
from fakelens.errors import FakeLensError, user_message
from fakelens.live.slot import Closed
from fakelens.web.deps import SESSION_USER, PageUser
from fakelens.web.live import FrameGate, FrameRefused, Registry, WebLiveSession
from fakelens.web.templating import VERDICT_WORDS, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
_registry_lock = threading.Lock()


def registry_of(app) -> Registry:
    """The app's running live sessions (per process; the settings cap them)."""
    with _registry_lock:
        if not hasattr(app.state, "live_registry"):
            app.state.live_registry = Registry()
        return app.state.live_registry

# this page alone may use the camera and screen capture (every other page denies them)
_PERMISSIONS = "camera=(self), display-capture=(self), microphone=(), geolocation=()"


@router.get("/live", response_class=HTMLResponse, name="live_page")
def live_page(request: Request, user: PageUser) -> HTMLResponse:
    settings = request.app.state.settings
    response = render(request, "live.html", user=user, max_fps=settings.live_max_fps,
                      max_side=min(settings.live_max_side, 1280), verdict_words=VERDICT_WORDS)
    response.headers["Permissions-Policy"] = _PERMISSIONS
    return response


def same_origin(websocket: WebSocket) -> bool:
    """The page that opened the socket is one of ours (browsers always send Origin)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if not origin or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


@router.websocket("/live/ws")
async def live_socket(websocket: WebSocket) -> None:
    app = websocket.app
    settings = app.state.settings
    user_id = websocket.session.get(SESSION_USER) if "session" in websocket.scope else None
    if not same_origin(websocket) or not isinstance(user_id, int):
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        return
    await websocket.accept()
    send_lock = asyncio.Lock()

    async def send(doc: dict) -> None:
        async with send_lock:
            await websocket.send_text(json.dumps(doc))

    registry = registry_of(app)
    try:
        registry.acquire(user_id, settings)
    except FakeLensError as exc:
        await send({"type": "error", "message": user_message(exc)})
        await websocket.close(code=1013)
        return
    try:
        await _run(websocket, send, settings, user_id)
    finally:
        registry.release(user_id)


async def _run(websocket: WebSocket, send, settings, user_id: int) -> None:
    source = websocket.query_params.get("source", "camera")
    try:
        live = await asyncio.to_thread(WebLiveSession, settings, source)
    except FakeLensError as exc:
        await send({"type": "error", "message": user_message(exc)})
        await websocket.close(code=1011)
        return
    await send({"type": "ready", "threshold": live.analyser.threshold,
                "max_fps": settings.live_max_fps,
                "max_frame_kb": settings.live_max_frame_kb})
    gate = FrameGate(settings)
    worker = asyncio.create_task(_work(live, send))
    save, ended, close_code = False, "the page disconnected", 1000
    try:
        while True:
            if worker.done():  # the analysis failed or the time limit came
                save = True
                ended = (worker.result() if not worker.exception()
                         else "the analysis failed")
                break
            try:
                message = await asyncio.wait_for(websocket.receive(), timeout=1.0)
            except TimeoutError:
                continue
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                live.slot.put(gate.check(message["bytes"]))
            elif message.get("text") is not None:
                doc = _json(message["text"])
                if doc.get("type") == "stop":
                    save, ended = bool(doc.get("save", True)), "stopped by the user"
                    break
    except FrameRefused as exc:
        close_code, ended = exc.code, exc.message
        with contextlib.suppress(Exception):
            await send({"type": "error", "message": f"Live check stopped: {exc.message}."})
    except WebSocketDisconnect:
        pass
    finally:
        live.slot.close(ended)
        with contextlib.suppress(Exception):
            await worker
    if save and live.analyser.analysed:
        try:
            public_id = await asyncio.to_thread(live.save, websocket.app.state.sessions,
                                                user_id, ended)
        except Exception:  # noqa: BLE001 - the page gets a message, the log the details
            log.exception("saving a live check failed")
            with contextlib.suppress(Exception):
                await send({"type": "error", "message": "The live check could not be saved."})
        else:
            with contextlib.suppress(Exception):
                await send({"type": "saved", "id": public_id, "url": f"/analyses/{public_id}"})
    elif save:
        with contextlib.suppress(Exception):
            await send({"type": "error", "message": "No frame was analysed: nothing to save."})
    with contextlib.suppress(Exception):
        await websocket.close(code=close_code)


def _json(text: str) -> dict:
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


async def _work(live: WebLiveSession, send) -> str:
    """Analyse the newest frame, again and again; send each result, and once a second the
    rolling state (and whether frames are being dropped). Returns why it stopped."""
    next_update = time.monotonic() + 1.0
    while True:
        if live.expired():
            await send({"type": "error", "message": "The live check reached its time limit "
                                                    "and was stopped."})
            return "the session reached its time limit"
        try:
            got = await asyncio.to_thread(live.analyse_next, 0.25)
        except Closed as closed:
            return closed.reason
        except FakeLensError as exc:
            await send({"type": "error", "message": user_message(exc)})
            return "the page sent frames that could not be decoded"
        if got is not None:
            packet, result = got
            await send({"type": "frame", "t": packet.client_ms,
                        "server_ms": 1000 * (time.monotonic() - packet.received_at),
                        **result.model_dump(mode="json")})
        if time.monotonic() >= next_update:
            next_update = time.monotonic() + 1.0
            update = live.analyser.update(live.slot.received, live.slot.dropped)
            await send({"type": "update", **update.model_dump(mode="json"),
                        "label": verdict_label(update.verdict)})
            if live.slot.dropped > live.reported_drops:
                await send({"type": "dropping", "dropped": live.slot.dropped,
                            "received": live.slot.received,
                            "analysed_fps": update.analysed_fps})
                live.reported_drops = live.slot.dropped
