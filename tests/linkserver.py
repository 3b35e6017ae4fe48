"""A local web site for the link tests (no test reaches the internet): a clip as a direct
link, pages with and without a <video> tag, redirects, slow, stalling, oversized and
endless responses, and (given a folder made by ``make_hls``) HLS playlists: the clip cut
into segments, a live (endless) playlist, one whose segments are on 127.0.0.1 and an
encrypted one.

It listens on 127.0.0.2; ``public_loopback`` makes the fetch guard take that one address
for a public one, so that a redirect from it to 127.0.0.1 is the refused case."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.2"
MAX_SLOW_S = 30  # a slow or endless response gives up after this long anyway
HLS_TYPE = "application/vnd.apple.mpegurl"
PLAYLIST = "index.m3u8"


def make_hls(clip: Path, folder: Path, segment_s: int = 4) -> Path:
    """``clip`` cut into an HLS video-on-demand playlist (``PLAYLIST``) and MPEG-TS
    segments in ``folder`` (ffmpeg, no re-encoding). Returns the folder."""
    import pytest

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(clip), "-c", "copy",
                    "-f", "hls", "-hls_time", str(segment_s), "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(folder / "seg%d.ts"),
                    str(folder / PLAYLIST)], check=True, timeout=120)
    return folder


def _segments(playlist: str) -> list[tuple[str, str]]:
    """(#EXTINF line, segment name) of each segment of a playlist."""
    lines = playlist.splitlines()
    return [(line, lines[i + 1]) for i, line in enumerate(lines[:-1])
            if line.startswith("#EXTINF")]


_REFUSALS = {"/private.mp4": 403, "/login.mp4": 401, "/gone.mp4": 410, "/busy.mp4": 429,
             "/broken.mp4": 500}


def _page(body: str, title: str = "A clip") -> bytes:
    return (f"<!doctype html><html><head><title>{title}</title>"
            f'<meta property="og:title" content="{title}"></head>'
            f"<body>{body}</body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    clip: bytes = b""
    port: int = 0
    hls: Path | None = None
    requested: list[str] = []  # every path asked for, in order (set per site)

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, target: str) -> None:
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:  # noqa: C901 - one route table
        path = self.path.split("?", 1)[0]
        self.requested.append(path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if self.hls is not None and self._hls(path):
                pass
            elif path == "/clip.mp4":
                self._send(200, self.clip, "video/mp4")
            elif path == "/page.html":
                self._send(200, _page('<h1>Look</h1><video controls src="/clip.mp4">'
                                      "</video>"), "text/html; charset=utf-8")
            elif path == "/two.html":
                self._send(200, _page('<video src="/clip.mp4"></video>'
                                      '<video src="/copy.mp4"></video>'), "text/html")
            elif path == "/copy.mp4":
                self._send(200, self.clip, "video/mp4")
            elif path == "/rtmp.html":  # a stream yt-dlp would hand to rtmpdump
                self._send(200, _page('<video src="rtmp://127.0.0.1/live/stream"></video>',
                                      "RTMP"), "text/html")
            elif path == "/novideo.html":
                self._send(200, _page("<p>Only words here.</p>", "No video"), "text/html")
            elif path == "/missing.mp4":
                self._send(404, b"not found", "text/plain")
            elif path in _REFUSALS:  # private, login-walled, deleted videos; busy sites
                self._send(_REFUSALS[path], b"no", "text/plain")
            elif path == "/redirect":
                self._redirect("/clip.mp4")
            elif path == "/redirect-loopback":
                self._redirect(f"http://127.0.0.1:{self.port}/clip.mp4")
            elif path == "/redirect-metadata":
                self._redirect("http://169.254.169.254/latest/meta-data/")
            elif path == "/redirect-file":
                self._redirect("file:///etc/passwd")
            elif path == "/loop":
                self._redirect("/loop")
            elif path == "/big.mp4":  # declares its size: refused before it is read
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(4 * 1024 ** 3))
                self.end_headers()
                self._trickle(b"\0" * 65536, 0.0)
            elif path == "/endless.mp4":  # no length, never ends
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.end_headers()
                self._trickle(b"\0" * 65536, 0.0)
            elif path == "/slow.mp4":  # a byte now and then: never silent, never done
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(self.clip)))
                self.end_headers()
                self._trickle(b"\0", 0.2)
            elif path == "/stall.mp4":  # headers, then silence
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(self.clip)))
                self.end_headers()
                self.wfile.flush()
                time.sleep(MAX_SLOW_S)
            else:
                self._send(404, b"not found", "text/plain")

    def _hls(self, path: str) -> bool:
        """The HLS routes (False: not one of them)."""
        assert self.hls is not None
        playlist = (self.hls / PLAYLIST).read_text()
        head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        if path == f"/hls/{PLAYLIST}":
            self._send(200, playlist.encode(), HLS_TYPE)
        elif path.startswith(("/hls/", "/enc/")) and path.endswith(".ts") and \
                (self.hls / path.rsplit("/", 1)[1]).is_file():
            self._send(200, (self.hls / path.rsplit("/", 1)[1]).read_bytes(), "video/mp2t")
        elif path == "/live.m3u8":  # a live stream: no end, the window moves every second
            sequence = int(time.time())
            segments = _segments(playlist)
            lines = [f"{segments[(sequence + i) % len(segments)][0]}\n/hls/"
                     f"{segments[(sequence + i) % len(segments)][1]}" for i in range(3)]
            self._send(200, (head + f"#EXT-X-MEDIA-SEQUENCE:{sequence}\n"
                             + "\n".join(lines) + "\n").encode(), HLS_TYPE)
        elif path == "/live.html":
            self._send(200, _page('<video src="/live.m3u8"></video>', "Live"), "text/html")
        elif path == "/hls-loopback.m3u8":  # its segments on this server's own address
            body = "".join(f"{info}\nhttp://127.0.0.1:{self.port}/hls/{name}\n"
                           for info, name in _segments(playlist))
            self._send(200, (head + body + "#EXT-X-ENDLIST\n").encode(), HLS_TYPE)
        elif path == "/hls-encrypted.m3u8":  # what yt-dlp hands to ffmpeg if it can
            body = "".join(f"{info}\n/enc/{name}\n" for info, name in _segments(playlist))
            self._send(200, (head + '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="/enc/key"\n' + body
                             + "#EXT-X-ENDLIST\n").encode(), HLS_TYPE)
        else:
            return False
        return True

    def _trickle(self, chunk: bytes, pause: float) -> None:
        end = time.monotonic() + MAX_SLOW_S
        while time.monotonic() < end:
            self.wfile.write(chunk)
            self.wfile.flush()
            if pause:
                time.sleep(pause)


class LinkSite:
    def __init__(self, clip: Path, hls: Path | None = None, host: str = HOST):
        self.requested: list[str] = []
        self.host = host
        handler = type("Handler", (_Handler,), {"clip": clip.read_bytes(), "hls": hls,
                                                "requested": self.requested})
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        handler.port = self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> LinkSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def site(clip: Path, hls: Path | None = None, host: str = HOST) -> Iterator[LinkSite]:
    with LinkSite(clip, hls, host) as s:
        yield s


def public_loopback(monkeypatch) -> None:
    """The guard takes ``HOST`` (the test site) for a public address; the rest of the
    loopback range (127.0.0.1) stays refused."""
    from fakelens.fetch import guard

    real = guard.refusal

    def refusal(address, allow_private):
        return None if str(address) == HOST else real(address, allow_private)

    monkeypatch.setattr(guard, "refusal", refusal)
