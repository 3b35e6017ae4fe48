"""Live analysis: analysed frames per second, frame-to-score latency through the Live check
WebSocket, and a 30 fps 720p stream followed in real time (lag and memory over time).

    python benchmarks/bench_live.py                      # all three, 5 minute soak
    python benchmarks/bench_live.py --soak-seconds 60    # shorter soak
    python benchmarks/bench_live.py --only fps,latency

Media are made with ffmpeg in a temporary folder from a ``live-swap`` clip (one face),
scaled to 1280x720 at 30 fps; the stream is served by ffmpeg on 127.0.0.1 (HTTP,
MPEG-TS, looped, played at its own speed). Run by hand; figures go to docs/BENCHMARKS.md.

Targets (issue "Live analysis", 2 cores, one face): >= 8 analysed frames/s; <= 1 s from a
frame reaching the server to its score on the page; a 30 fps 720p stream followed in real
time without growing latency over 5 minutes; memory flat over that time.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("FAKELENS_SAMPLES", REPO.parent / "shared" / "data"))
CLIP = SAMPLES / "live-swap" / "Albica_Johns_0__right_fake.mp4"


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_720p(out: Path, seconds: float = 7) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", str(seconds),
                    "-vf", "scale=1280:720", "-r", "30", "-an", "-c:v", "libx264",
                    "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def bench_fps(clip: Path) -> None:
    """Frames of the 720p clip analysed back to back (decode excluded)."""
    import av

    from fakelens.live import LiveAnalyser
    from fakelens.media.frames import Frame

    with av.open(str(clip)) as c:
        rgbs = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:120]
    an = LiveAnalyser("bench")
    an.analyse(Frame(0, 0.0, rgbs[0]))  # warm-up
    start = time.perf_counter()
    for i, rgb in enumerate(rgbs):
        an.analyse(Frame(i, i / 30, rgb))
    took = time.perf_counter() - start
    busy = {k: round(1000 * v / (len(rgbs) + 1), 1) for k, v in an.busy_s.items()}
    print(f"fps: {len(rgbs) / took:.1f} analysed frames/s (1280x720, one face, "
          f"{len(rgbs)} frames); ms per frame by stage: {busy}")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def sign_in(client) -> None:
    """Sign up and then log in through the pages, as a person does (sign-up alone leads to
    the login form)."""
    account = {"email": "b@example.org", "password": "correct horse battery"}
    response = client.post("/register", data={**account, "username": "bench",
                                              "csrf_token": _csrf(client.get("/register").text)},
                           follow_redirects=False)
    login_page = client.get(response.headers.get("location", "/login")).text
    client.post("/login", data={**account, "csrf_token": _csrf(login_page)},
                follow_redirects=False)
    if client.get("/account", follow_redirects=False).status_code != 200:
        raise SystemExit("could not sign in to the app")


def bench_latency(clip: Path, seconds: float, fps: float) -> None:
    """Frames sent at ``fps`` through the WebSocket of the real app (in process): time from
    sending a frame to receiving its score."""
    import av
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from fakelens.web.app import create_app
    from fakelens.web.settings import WebSettings

    jpegs = []
    with av.open(str(clip)) as c:
        for f in c.decode(video=0):
            img = f.to_image()
            img.thumbnail((640, 640))  # what the page sends
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=80)
            jpegs.append(buf.getvalue())
    with tempfile.TemporaryDirectory() as tmp:
        settings = WebSettings(data_dir=Path(tmp), workers=0, secret_key="bench")
        with TestClient(create_app(settings)) as client:
            sign_in(client)
            latencies, sent = [], {}
            with client.websocket_connect("/live/ws",
                                          headers={"origin": "http://testserver"}) as ws:
                ws.receive_json()  # ready
                done = threading.Event()

                def receive() -> None:
                    while not done.is_set():
                        try:
                            doc = ws.receive_json()
                        except WebSocketDisconnect:
                            return
                        if doc["type"] == "frame":
                            latencies.append(time.perf_counter() - sent[doc["t"]])
                        if doc["type"] in ("saved", "error"):
                            return

                reader = threading.Thread(target=receive, daemon=True)
                reader.start()
                start = time.perf_counter()
                i = 0
                while time.perf_counter() - start < seconds:
                    sent[float(i)] = time.perf_counter()
                    ws.send_bytes(struct.pack(">d", float(i)) + jpegs[i % len(jpegs)])
                    i += 1
                    time.sleep(max(0.0, start + i / fps - time.perf_counter()))
                ws.send_text('{"type": "stop", "save": false}')
                done.set()
                reader.join(10)
    lat = sorted(latencies)
    print(f"latency: {len(lat)} of {i} frames scored at {fps:g} frames/s sent; "
          f"median {1000 * statistics.median(lat):.0f} ms, p95 "
          f"{1000 * lat[int(0.95 * (len(lat) - 1))]:.0f} ms, max {1000 * lat[-1]:.0f} ms")


def bench_soak(clip: Path, seconds: float) -> None:
    """A looped 30 fps 720p HTTP stream followed in real time: lag of each analysed frame
    behind the stream (wall clock since the first frame minus the frame's stream time; the
    first frame comes after the stream's start-up buffering, so the figures are relative:
    what matters is that they do not grow) and the process' RSS, per minute."""
    from fakelens.live.runner import run_live
    from fakelens.live.sources import parse_source

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/live.ts"
    server = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i",
                               str(clip), "-c:v", "copy", "-f", "mpegts", "-listen", "1", url])
    time.sleep(1.5)
    samples: list[tuple[float, float, float]] = []  # (wall since start, lag, rss)
    first: list[float] = []

    def on_frame(result) -> None:
        now = time.monotonic()
        if not first:
            first.append(now - result.timestamp_s)
        samples.append((now - first[0], now - first[0] - result.timestamp_s, rss_mb()))

    try:
        result = run_live(parse_source(url), on_frame=on_frame, max_seconds=seconds,
                          stall_s=10)
    finally:
        server.kill()
        server.wait()
    s = result.summary
    print(f"soak: {seconds:g} s of a 30 fps 1280x720 stream: {s.frames_received} frames "
          f"received, {s.frames_analysed} analysed ({s.frames_analysed / s.elapsed_s:.1f}/s), "
          f"{s.frames_dropped} dropped (newest wins); ended: {s.ended}")
    for minute in range(int(seconds // 60) + 1):
        part = [x for x in samples if minute * 60 <= x[0] < (minute + 1) * 60]
        if part:
            lags = [x[1] for x in part]
            print(f"  minute {minute + 1}: lag vs the first frame: median "
                  f"{1000 * statistics.median(lags):.0f} ms, max {1000 * max(lags):.0f} ms; "
                  f"RSS {part[-1][2]:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="fps,latency,soak")
    parser.add_argument("--soak-seconds", type=float, default=300)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--send-fps", type=float, default=8)
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        print("ffmpeg is needed", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_720p(Path(tmp) / "live-720p.mp4")
        parts = set(args.only.split(","))
        if "fps" in parts:
            bench_fps(clip)
        if "latency" in parts:
            bench_latency(clip, args.latency_seconds, args.send_fps)
        if "soak" in parts:
            bench_soak(clip, args.soak_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
