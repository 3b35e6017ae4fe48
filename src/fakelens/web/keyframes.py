"""Key frames for reverse image search on the result page: what the page shows of the
stored key frames (``jobs.files.read_key_frames``), the links to the search engines
(``reports.keyframes.ENGINES``), and the frames' public links.

No key frame leaves the server unless its owner clicks. Without ``FAKELENS_PUBLIC_URL``
the page offers each frame as a download and links to the engines' upload pages. With it,
each engine's link goes to this server first (``/analyses/{id}/key-frames/{n}/search/
{engine}``, the owner's, from this site only), which sends the browser on to the engine
with a public link to that one frame: signed with the analysis' own random key, valid for
``LINK_TTL_S``, dead once the analysis is deleted (or in the trash)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fakelens.jobs.files import KeyFrameIndex, StoredKeyFrame, key_frame_path, read_key_frames
from fakelens.reports.keyframes import ENGINES, Engine, frame_time
from fakelens.web.downloads import download_stem
from fakelens.web.settings import WebSettings

LINK_TTL_S = 3600  # how long a key frame's public link works after the click
ENGINE_KEYS = {e.key: e for e in ENGINES}


@dataclass(frozen=True)
class KeyFrameView:
    number: int
    time: str  # m:ss.s from the start
    width: int
    height: int
    src: str  # the image (the owner's route)
    download: str  # the same, as an attachment
    searches: list[tuple[Engine, str]]  # (engine, this server's redirect to it)


@dataclass(frozen=True)
class KeyFramesView:
    frames: list[KeyFrameView]
    description: str
    public: bool  # one-click searches (the server has a public address)
    engines: tuple[Engine, ...] = ENGINES


def key_frames_view(settings: WebSettings, public_id: str) -> KeyFramesView | None:
    """The result page's key frames, or None when the analysis has none."""
    index = read_key_frames(settings, public_id)
    if index is None or not index.frames:
        return None
    base = f"/analyses/{public_id}/key-frames"
    public = settings.public_url is not None
    frames = [KeyFrameView(
        number=f.number, time=frame_time(f.timestamp_s), width=f.width, height=f.height,
        src=f"{base}/{f.number}.jpg", download=f"{base}/{f.number}.jpg?download=1",
        searches=[(e, f"{base}/{f.number}/search/{e.key}") for e in ENGINES]
        if public else []) for f in index.frames]
    return KeyFramesView(frames, index.description, public)


def stored_frame(index: KeyFrameIndex, number: int) -> StoredKeyFrame | None:
    return next((f for f in index.frames if f.number == number), None)


@dataclass(frozen=True)
class KeyFrameFile:
    index: KeyFrameIndex
    frame: StoredKeyFrame
    path: Path  # the JPEG


def key_frame_file(settings: WebSettings, public_id: str, number: int) -> KeyFrameFile | None:
    """Stored key frame ``number`` of an analysis and its JPEG, or None when there is no
    such frame (its file gone, or ``public_id`` no analysis id). Whose analysis it is,
    the route checks first."""
    index = read_key_frames(settings, public_id)
    frame = stored_frame(index, number) if index is not None else None
    if index is None or frame is None:
        return None
    path = key_frame_path(settings, public_id, frame.number)
    return KeyFrameFile(index, frame, path) if path.is_file() else None


def download_name(filename: str, frame: StoredKeyFrame) -> str:
    """``fakelens-clip_mp4-key-frame-02-at-0m12.4s.jpg``: which file, which frame, when."""
    m, s = divmod(max(0.0, frame.timestamp_s), 60)
    return (f"fakelens-{download_stem(filename)}-key-frame-{frame.number + 1:02d}"
            f"-at-{int(m)}m{s:04.1f}s.jpg")


def _signature(index: KeyFrameIndex, public_id: str, number: int, expires: int) -> str:
    message = f"{public_id}/{number}/{expires}".encode()
    return hmac.new(bytes.fromhex(index.link_key), message, hashlib.sha256).hexdigest()[:32]


def public_link(settings: WebSettings, index: KeyFrameIndex, public_id: str, number: int,
                now: float) -> str:
    """The public address of one key frame, valid ``LINK_TTL_S`` from ``now``."""
    if settings.public_url is None:
        raise ValueError("the server has no public address")
    expires = int(now) + LINK_TTL_S
    sig = _signature(index, public_id, number, expires)
    return f"{settings.public_url}/public/key-frames/{public_id}/{number}/{expires}/{sig}.jpg"


def link_valid(index: KeyFrameIndex, public_id: str, number: int, expires: int,
               signature: str, now: float) -> bool:
    if expires < now or expires > now + LINK_TTL_S:
        return False
    return hmac.compare_digest(_signature(index, public_id, number, expires),
                               signature.lower())


def search_url(engine: Engine, image_url: str) -> str:
    return engine.by_url.format(quote(image_url, safe=""))
