"""Live sources through PyAV/FFmpeg: a camera (``/dev/video0``), a stream URL (RTSP, RTMP,
HLS, HTTP...) or a file (played at its own speed with ``realtime``, else as fast as the
analyser takes frames). Decoding runs in its own thread and hands frames to a
``LatestSlot``; whatever goes wrong ends up as the slot's closing reason, never as a raised
exception in the thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import av

from fakelens.errors import MediaNotFound, StreamError
from fakelens.live.slot import LatestSlot
from fakelens.media.frames import Frame

log = logging.getLogger(__name__)

STREAM_SCHEMES = {"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "hls", "udp", "tcp",
                  "srt", "rtp"}


@dataclass(frozen=True)
class SourceSpec:
    """What SOURCE names: ``kind`` is 'camera', 'stream' or 'file'."""

    text: str
    kind: str
    realtime: bool

    @property
    def label(self) -> str:
        if self.kind != "stream":
            return self.text
        parts = urlsplit(self.text)  # never show credentials from the URL
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"


def parse_source(text: str, realtime: bool | None = None) -> SourceSpec:
    """Classify SOURCE; cameras and streams are always followed in real time, files only
    with ``realtime``."""
    scheme = urlsplit(text).scheme.lower()
    if scheme in STREAM_SCHEMES:
        return SourceSpec(text, "stream", True)
    if text.startswith("/dev/video"):
        return SourceSpec(text, "camera", True)
    path = Path(text)
    if not path.exists():
        raise MediaNotFound(f"{text}: no such file, camera or stream URL")
    if not path.is_file():
        raise MediaNotFound(f"{text}: not a regular file")
    return SourceSpec(text, "file", bool(realtime))


def open_container(spec: SourceSpec, timeout_s: float):
    """The opened container (with a read timeout for cameras and streams)."""
    try:
        if spec.kind == "camera":
            return av.open(spec.text, format="v4l2", timeout=timeout_s)
        if spec.kind == "stream":
            return av.open(spec.text, timeout=(timeout_s, timeout_s),
                           options={"rw_timeout": str(int(timeout_s * 1e6))})
        return av.open(spec.text)
    except av.error.FFmpegError as exc:
        raise StreamError(f"{spec.label}: could not be opened as a video source "
                          f"({_words(exc)})") from exc
    except OSError as exc:
        raise StreamError(f"{spec.label}: could not be opened ({exc})") from exc


def _words(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() if ":" in text and len(text) > 80 else text


class Decoder:
    """Decodes ``spec`` in a daemon thread into ``slot`` (newest wins for real-time
    sources; files analysed as fast as possible wait for the analyser instead)."""

    def __init__(self, spec: SourceSpec, slot: LatestSlot[Frame], *, timeout_s: float = 10.0,
                 max_fps: float | None = None):
        self.spec = spec
        self.slot = slot
        self.timeout_s = timeout_s
        self.max_fps = max_fps
        self.width = 0
        self.height = 0
        self.fps: float | None = None
        self._stop = threading.Event()
        self._container = open_container(spec, timeout_s)
        streams = self._container.streams.video
        if not streams:
            self._container.close()
            raise StreamError(f"{spec.label}: has no video")
        self._stream = streams[0]
        self._stream.thread_type = "AUTO"
        ctx = self._stream.codec_context
        self.width, self.height = ctx.width or 0, ctx.height or 0
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._thread = threading.Thread(target=self._run, name=f"live-decode-{spec.kind}",
                                        daemon=True)

    def start(self) -> Decoder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._decode()
        except (av.error.ExitError, TimeoutError) as exc:  # PyAV's read timeout
            log.info("live source %s: %s", self.spec.label, exc)
            self.slot.close(f"the stream stalled: no data for {self.timeout_s:g} s", error=True)
        except av.error.FFmpegError as exc:
            log.info("live source %s: %s", self.spec.label, exc)
            self.slot.close(f"the stream could not be decoded any more ({_words(exc)})",
                            error=True)
        except Exception as exc:  # noqa: BLE001 - the thread must end with a reason
            log.exception("live source %s failed", self.spec.label)
            self.slot.close(f"the source failed ({type(exc).__name__})", error=True)
        finally:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001
                log.debug("closing %s", self.spec.label, exc_info=True)

    def _decode(self) -> None:
        started = time.monotonic()
        first_pts: float | None = None
        last_t = -1e9
        index = 0
        errors = 0
        packets = self._container.demux(self._stream)
        while not self._stop.is_set():
            try:
                packet = next(packets)
            except StopIteration:
                break
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                errors += 1  # a damaged packet: skip it, unless nothing decodes at all
                if errors > 50 and index == 0:
                    raise
                continue
            for frame in frames:
                t = float(frame.time) if frame.time is not None else index / (self.fps or 25)
                first_pts = t if first_pts is None else first_pts
                t -= first_pts
                if self.spec.realtime and self.spec.kind == "file":
                    delay = started + t - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                if self.max_fps and t - last_t < 1.0 / self.max_fps - 1e-6:
                    index += 1
                    continue
                last_t = t
                rgb = frame.to_ndarray(format="rgb24")
                self.width, self.height = rgb.shape[1], rgb.shape[0]
                item = Frame(index, t, rgb)
                index += 1
                if self.spec.realtime:
                    self.slot.put(item)
                elif not self.slot.put_wait(item, self._stop):
                    return
        if self._stop.is_set():
            return
        if index == 0:
            self.slot.close("the source ended before a single frame could be decoded",
                            error=True)
        elif self.spec.kind == "file":
            self.slot.close("the end of the file was reached")
        else:
            self.slot.close("the stream ended", error=False)
