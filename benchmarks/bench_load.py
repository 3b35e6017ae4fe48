"""Load on the web service: N clients, each with its own account and API token, upload
videos at once and wait for their analyses.

    python benchmarks/bench_load.py --clients 10 --uploads 3 [--video PATH] [--threads 2]

Starts ``fakelens serve`` (SQLite, embedded queue) on a fresh data dir, prints accepted /
rejected / completed / failed counts, the upload (accept) latency and the time from
upload to a finished analysis (p50 / p95), the throughput, and every 5xx seen. A script,
not a test: run it by hand on an idle machine and record the figures in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("FAKELENS_SAMPLES", REPO.parent / "shared" / "data"))
DEFAULT_VIDEO = SAMPLES / "videos" / "talking_head_d10.mp4"
PASSWORD = "load test: correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def _account(base: str, n: int) -> str:
    """Register user ``n`` through the pages, log in and return a new API token."""
    with httpx.Client(base_url=base, timeout=60) as web:
        token = _csrf(web.get("/register").text)
        r = web.post("/register", data={"email": f"load{n}@example.org", "password": PASSWORD,
                                        "username": f"load{n}", "csrf_token": token})
        if r.status_code >= 400:
            raise RuntimeError(f"registration {n}: {r.status_code} {r.text[:200]}")
        # sign-up leads to the login form; log in as a person would
        login = web.get(r.headers.get("location", "/login")).text
        web.post("/login", data={"email": f"load{n}@example.org", "password": PASSWORD,
                                 "csrf_token": _csrf(login)})
        page = web.get("/account")
        r = web.post("/account/tokens", data={"name": "load", "csrf_token": _csrf(page.text)})
        match = re.search(r'id="new-token" class="mono" readonly value="([^"]+)"', r.text)
        if not match:
            raise RuntimeError(f"token {n}: {r.status_code}")
        return match.group(1)


def _one(base: str, token: str, video: bytes, name: str, frames: int,
         timeout_s: float) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict = {}
    with httpx.Client(base_url=base, timeout=120) as api:
        t0 = time.perf_counter()
        r = api.post("/api/v1/analyses", headers=headers, data={"frames": str(frames)},
                     files={"file": (name, video, "application/octet-stream")})
        out["accept_s"] = time.perf_counter() - t0
        out["code"] = r.status_code
        if r.status_code != 202:
            return out
        url = r.json()["status_url"]
        while time.perf_counter() - t0 < timeout_s:
            body = api.get(url, headers=headers)
            if body.status_code >= 500:
                out.setdefault("poll_5xx", 0)
                out["poll_5xx"] += 1
            elif body.json()["status"] in ("done", "failed"):
                out["status"] = body.json()["status"]
                out["done_s"] = time.perf_counter() - t0
                return out
            time.sleep(0.5)
        out["status"] = "timeout"
        return out


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--uploads", type=int, default=3, help="uploads per client")
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="analysis threads of the server")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()

    video = args.video.read_bytes()
    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        env = dict(os.environ, FAKELENS_DATA_DIR=data_dir, FAKELENS_ALLOW_DOWNLOAD="0",
                   FAKELENS_REGISTRATIONS_PER_HOUR="100000",
                   FAKELENS_UPLOADS_PER_HOUR="100000")
        log = open(Path(data_dir) / "serve.log", "wb")  # noqa: SIM115 (closed below)
        server = subprocess.Popen([sys.executable, "-m", "fakelens", "serve", "--port",
                                   str(port), "--threads", str(args.threads)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.3)
            tokens = [_account(base, n) for n in range(args.clients)]
            jobs = [(tokens[c], f"client{c}-upload{u}.mp4") for c in range(args.clients)
                    for u in range(args.uploads)]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                results = list(pool.map(lambda j: _one(base, j[0], video, j[1], args.frames,
                                                       args.timeout), jobs))
            wall = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(30)
            log.close()

    accepted = [r for r in results if r["code"] == 202]
    done = [r for r in accepted if r.get("status") == "done"]
    codes: dict[int, int] = {}
    for r in results:
        codes[r["code"]] = codes.get(r["code"], 0) + 1
    five = sum(n for c, n in codes.items() if c >= 500) + sum(r.get("poll_5xx", 0)
                                                              for r in results)
    print(f"clients {args.clients} x uploads {args.uploads} = {len(results)} uploads of "
          f"{args.video.name} ({len(video) / 1e6:.1f} MB), {args.frames} frames, "
          f"server threads {args.threads}, {os.cpu_count()} CPUs")
    print(f"accepted {len(accepted)}; status codes {dict(sorted(codes.items()))}; 5xx {five}")
    print(f"completed {len(done)} done, "
          f"{sum(r.get('status') == 'failed' for r in accepted)} failed, "
          f"{sum(r.get('status') == 'timeout' for r in accepted)} timed out")
    accept = [r["accept_s"] for r in results]
    finish = [r["done_s"] for r in done]
    print(f"upload accepted in p50 {_pct(accept, 0.5)}, p95 {_pct(accept, 0.95)}; "
          f"finished analysis p50 {_pct(finish, 0.5)}, p95 {_pct(finish, 0.95)}")
    if finish:
        print(f"throughput {len(done) / wall * 60:.1f} analyses a minute "
              f"(median accept {statistics.median(accept):.2f} s, wall {wall:.0f} s)")
    return 0 if five == 0 and len(done) == len(accepted) else 1


if __name__ == "__main__":
    raise SystemExit(main())
