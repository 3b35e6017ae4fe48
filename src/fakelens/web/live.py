"""Live check sessions of the web app: the limits (sessions per user and per server, frame
size, frame rate), JPEG frames decoded only when their turn comes (newest wins), and a
finished session saved as a normal analysis in the owner's history.

Nothing of the stream is stored: frames live in memory until analysed; the saved analysis
keeps what any analysis keeps (boxes, scores, a bounded set of face crops for key faces and
reports)."""

from __future__ import annotations

import io
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session, sessionmaker

from fakelens.db.engine import session_scope
from fakelens.db.tables import AnalysisRow, Status, utcnow
from fakelens.errors import LiveLimit, MediaError
from fakelens.live.analyser import LiveAnalyser, LiveOptions
from fakelens.live.models import FrameResult
from fakelens.live.slot import LatestSlot
from fakelens.live.summary import build_analysis
from fakelens.media.frames import Frame
from fakelens.media.images import refuse_truncated_images
from fakelens.web.settings import WebSettings

HEADER = struct.Struct(">d")  # each binary message: client timestamp (ms), then the JPEG
SOURCES = {"camera": "camera", "screen": "shared screen or window"}


class Registry:
    """Running sessions per user and in all (this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[int, int] = {}

    def acquire(self, user_id: int, settings: WebSettings) -> None:
        with self._lock:
            if sum(self._by_user.values()) >= settings.live_sessions:
                raise LiveLimit("the server is running as many live checks as it can; try "
                                "again in a few minutes")
            if self._by_user.get(user_id, 0) >= settings.live_sessions_per_user:
                raise LiveLimit("you already run a live check (in another tab?): stop it "
                                "first")
            self._by_user[user_id] = self._by_user.get(user_id, 0) + 1

    def release(self, user_id: int) -> None:
        with self._lock:
            left = self._by_user.get(user_id, 0) - 1
            if left > 0:
                self._by_user[user_id] = left
            else:
                self._by_user.pop(user_id, None)

    def running(self) -> int:
        with self._lock:
            return sum(self._by_user.values())


class FrameRefused(Exception):
    """The page broke a limit: ``code`` is the WebSocket close code to use."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Packet:
    """A received frame, still encoded."""

    client_ms: float
    data: bytes
    received_at: float


class FrameGate:
    """Size and rate limits on incoming frames (checked before anything is decoded).

    The rate is counted over a few seconds, not one: frames held up by a patchy network
    or a busy server arrive in a burst, and a page that keeps to its rate must not be cut
    off for that."""

    WINDOW_S = 3.0

    def __init__(self, settings: WebSettings):
        self.max_bytes = settings.live_max_frame_kb * 1024
        self.flood = max(2, int(2 * settings.live_max_fps * self.WINDOW_S))
        self._times: deque[float] = deque()

    def check(self, message: bytes) -> Packet:
        now = time.monotonic()
        if len(message) > self.max_bytes + HEADER.size:
            raise FrameRefused(1009, f"frame too large (over {self.max_bytes // 1024} KB)")
        self._times.append(now)
        while self._times and self._times[0] <= now - self.WINDOW_S:
            self._times.popleft()
        if len(self._times) > self.flood:
            raise FrameRefused(1008, f"too many frames (over {self.flood} in "
                                     f"{self.WINDOW_S:g} seconds)")
        if len(message) <= HEADER.size:
            raise FrameRefused(1003, "a frame is a timestamp followed by a JPEG image")
        (client_ms,) = HEADER.unpack_from(message)
        return Packet(client_ms, message[HEADER.size:], now)


def decode_jpeg(data: bytes, max_side: int) -> np.ndarray:
    """RGB pixels of a JPEG or PNG frame; its size is checked before it is decoded (a cut
    frame is refused, even after WeasyPrint's import told Pillow to pad such frames)."""
    refuse_truncated_images()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                raise MediaError("a frame must be a JPEG, PNG or WebP image")
            if max(img.size) > max_side:
                raise MediaError(f"frame larger than {max_side} px")
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError("a frame could not be decoded as an image") from exc


class WebLiveSession:
    """One page's session: frames in (newest wins), results out, saved at the end."""

    def __init__(self, settings: WebSettings, source: str):
        self.settings = settings
        self.source = SOURCES.get(source, "camera")
        self.analyser = LiveAnalyser(f"live check ({self.source})", LiveOptions(),
                                     settings)
        self.slot: LatestSlot[Packet] = LatestSlot()
        self.started = time.monotonic()
        self.bad_frames = 0
        self.reported_drops = 0

    def analyse_next(self, timeout: float) -> tuple[Packet, FrameResult] | None:
        """Take the newest waiting frame, decode and analyse it (blocking: a worker
        thread); None when no frame came within ``timeout``."""
        packet = self.slot.get(timeout)
        if packet is None:
            return None
        try:
            rgb = decode_jpeg(packet.data, self.settings.live_max_side)
        except MediaError:
            self.bad_frames += 1
            if self.bad_frames > 10 and self.bad_frames > self.analyser.analysed:
                raise
            return None
        t = time.monotonic() - self.started
        frame = Frame(self.analyser.analysed, t, rgb)
        return packet, self.analyser.analyse(frame)

    def expired(self) -> bool:
        return time.monotonic() - self.started > self.settings.live_max_minutes * 60

    def save(self, sessions: sessionmaker[Session], user_id: int, ended: str) -> str:
        """The session as a finished analysis of ``user_id`` (report and key faces
        written as for uploads); returns its public id."""
        from fakelens.analysis.pipeline import DetailedAnalysis
        from fakelens.jobs.files import report_path, write_face_images
        from fakelens.reports import render_html

        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        label = f"Live check ({self.source}), {stamp}"
        detailed = build_analysis(self.analyser, received=self.slot.received,
                                  dropped=self.slot.dropped, ended=ended, label=label,
                                  source=self.source)
        result = detailed.analysis
        now = utcnow()
        with session_scope(sessions) as s:
            row = AnalysisRow(user_id=user_id, status=Status.DONE, stage="done", progress=100,
                              # no file is kept: no hash, no size
                              filename=label, media_sha256="", media_size=0,
                              media_kind="video", frames=result.frames_sampled,
                              verdict=str(result.verdict), score=result.score,
                              result_json=result.to_json(), finished_at=now, updated_at=now)
            s.add(row)
            s.flush()
            public_id = row.public_id
        target = report_path(self.settings, public_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        final = DetailedAnalysis(result, detailed.evidence)
        target.write_text(render_html(final), encoding="utf-8")
        # key faces and key frames, exactly as for an uploaded file
        write_face_images(self.settings, public_id, final)
        return public_id
