"""Live test media made with ffmpeg in a temp dir from a ``live-swap`` clip: short clips,
a .y4m for Chromium's fake camera, and local streams on 127.0.0.1 (served by ffmpeg, or by
a tiny server that stalls or sends garbage)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CLIP = "live-swap/Albica_Johns_0__right_fake.mp4"


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        if os.environ.get("FAKELENS_REQUIRE_SERVICES"):
            pytest.fail("ffmpeg is not installed (scripts/test.sh installs it)")
        pytest.skip("ffmpeg is not installed")
    return path


def make_clip(src: Path, out: Path, seconds: float, *, fps: int | None = None,
              size: str | None = None) -> Path:
    args = [ffmpeg(), "-v", "error", "-y", "-i", str(src), "-t", str(seconds), "-an"]
    if fps:
        args += ["-r", str(fps)]
    if size:
        args += ["-vf", f"scale={size}"]
    if out.suffix == ".y4m":
        args += ["-pix_fmt", "yuv420p"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*args, str(out)], check=True, timeout=120)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def ffmpeg_http_stream(clip: Path, *, loop: bool = False) -> Iterator[tuple[str, subprocess.Popen]]:
    """ffmpeg serving ``clip`` as an MPEG-TS live stream (played at its own speed) to one
    HTTP client on 127.0.0.1; yields (url, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/live.ts"
    args = [ffmpeg(), "-v", "error", "-re"] + (["-stream_loop", "-1"] if loop else []) + [
        "-i", str(clip), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-an", "-f", "mpegts", "-listen", "1", url]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, proc)
        yield url, proc
    finally:
        proc.kill()
        proc.wait(10)


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("ffmpeg exited before it listened")
        # ffmpeg -listen serves one client: probe with a bare TCP bind test, not a connect
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return  # the port is taken: ffmpeg listens
        time.sleep(0.1)
    raise RuntimeError("ffmpeg did not listen in time")


@contextlib.contextmanager
def raw_http_server(body_then: bytes, *, hold_s: float = 0.0) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers every request with ``body_then`` (as a
    video/mp2t stream) and then keeps the connection open, silent, for ``hold_s`` seconds
    (a stalled stream) before closing it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\n"
                                 b"Connection: close\r\n\r\n" + body_then)
                    stop.wait(hold_s)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/live.ts"
    finally:
        stop.set()
        thread.join(5)
        server.close()


@contextlib.contextmanager
def hls_stream(clip: Path, folder: Path) -> Iterator[str]:
    """ffmpeg writing a live HLS playlist of ``clip`` (at its own speed) into ``folder``,
    served over HTTP on 127.0.0.1; yields the playlist's URL."""
    import functools
    import http.server

    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [ffmpeg(), "-v", "error", "-re", "-i", str(clip), "-c:v", "libx264", "-preset",
         "ultrafast", "-g", "15", "-an", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
         str(folder / "live.m3u8")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not (folder / "live.m3u8").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield f"http://127.0.0.1:{server.server_address[1]}/live.m3u8"
    finally:
        proc.kill()
        proc.wait(10)
        server.shutdown()
        server.server_close()
