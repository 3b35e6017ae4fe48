"""Fetch the media behind a link into a folder, with yt-dlp.

yt-dlp knows the video platforms (and changes with them: keep it updated with
``pip install -U yt-dlp``); its generic extractor takes direct media links, pages with
a ``<video>`` tag and HLS playlists (``.m3u8``: the segments are downloaded one by one,
joined and put into an MP4 file by ``remux``; a live playlist is refused). One stream is
downloaded, the best that carries both picture and sound (else the best there is), never
merged or re-encoded (no ffmpeg run), under the size, duration and time caps of the
settings. Every connection goes through ``transport.GuardedRH``: only yt-dlp's own
downloaders run (plain HTTP, HLS, DASH), never an external program (ffmpeg, rtmpdump),
which would connect past the guard. A fetch that fails raises a ``LinkError`` in plain
words and leaves nothing in the folder.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fakelens.config import Settings
from fakelens.errors import (
    LinkError,
    LinkRefused,
    LinkTimeout,
    LinkTooLarge,
    LinkUnsupported,
)
from fakelens.fetch.guard import check_link
from fakelens.fetch.transport import FetchStopped, Policy, handler_factory

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]
PAGE_BYTES = 16 * 1024 * 1024  # what the pages of a link may add to the media's budget
FORMAT = "best/bestvideo/bestaudio"  # one stream: picture and sound if one has both
MAX_ENTRIES = 50  # the videos of a link listed in the result
PLAYLIST_BYTES = 2 * 1024 * 1024  # an HLS playlist is read this far for its end tag
NO_FFMPEG = "/nonexistent/fakelens-fetch-runs-no-ffmpeg"  # yt-dlp finds no ffmpeg to run


@dataclass
class Fetched:
    path: Path
    sha256: str
    size_bytes: int
    info: dict  # yt-dlp's description of the video (see ``context.link_source``)
    items: int | None  # videos behind the link, when known
    item: int
    entries: list[str] = field(default_factory=list)  # their titles, when listed


class _Log:
    """yt-dlp's messages: kept for the error mapping, and in the debug log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _keep(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)
        if len(self.lines) < 200:
            self.lines.append(msg)

    debug = info = warning = error = _keep


def fetch_link(url: str, folder: Path, settings: Settings, *, item: int = 1,
               progress: ProgressFn | None = None) -> Fetched:
    """Download the ``item``-th video (1-based) behind ``url`` into ``folder`` (which the
    caller owns and removes). Raises ``LinkError`` (refused, unsupported, too large,
    timed out) with a message for the user."""
    if item < 1:
        raise ValueError("item is 1-based")
    url = check_link(url, settings.fetch_allow_private)
    max_bytes = int(settings.fetch_max_mb * 1024 * 1024)
    policy = Policy(allow_private=settings.fetch_allow_private,
                    max_redirects=settings.fetch_max_redirects,
                    max_bytes=max_bytes + PAGE_BYTES,
                    deadline=time.monotonic() + settings.fetch_timeout_s)
    skipped: list[str] = []
    entries: list[str] = []
    messages = _Log()
    report = progress or (lambda stage, fraction: None)

    def match(info: dict, *, incomplete: bool) -> str | None:
        if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
            skipped.append("live")
            return "a live stream"
        duration = info.get("duration")
        if duration and duration > settings.fetch_max_minutes * 60:
            skipped.append("duration")
            return "too long"
        return None

    def hook(d: dict) -> None:
        if d.get("status") != "downloading":
            return
        total = d.get("total_bytes") or d.get("total_bytes_estimate") or 0
        done = d.get("downloaded_bytes") or 0
        if done > max_bytes:  # the media alone (a stream's segments too), pages aside
            raise policy.stop(over="bytes")
        report("download", min(1.0, done / total) if total else 0.0)

    params = {
        "outtmpl": {"default": "media.%(ext)s"},
        "paths": {"home": str(folder), "temp": str(folder)},
        "format": FORMAT,
        "max_filesize": max_bytes,
        "match_filter": match,
        "playlist_items": str(item),
        "progress_hooks": [hook],
        "logger": messages,
        "quiet": True, "no_warnings": False, "noprogress": True, "color": "never",
        "socket_timeout": settings.fetch_socket_timeout_s,
        "retries": 0, "fragment_retries": 0, "extractor_retries": 0,
        "file_access_retries": 0, "skip_unavailable_fragments": False,
        "fixup": "never", "hls_prefer_native": True, "external_downloader": {},
        "postprocessors": [], "cachedir": False, "restrictfilenames": True,
        "writesubtitles": False, "writethumbnail": False, "noplaylist": False,
        "concurrent_fragment_downloads": 1, "overwrites": True, "check_formats": False,
        "ffmpeg_location": NO_FFMPEG,  # HLS with encryption would be handed to ffmpeg
    }
    folder.mkdir(parents=True, exist_ok=True)
    policy.arm()
    try:
        with _Downloader(params, policy, skipped, entries) as ydl:
            info = ydl.extract_info(url, download=True)
    except Exception as exc:  # noqa: BLE001 - yt-dlp's errors become plain LinkErrors
        _empty(folder)
        raise _link_error(url, exc, policy, skipped, messages.lines, settings) from None
    finally:
        policy.disarm()
    try:
        fetched = _result(url, info, folder, policy, skipped, messages.lines, settings, item)
        fetched.entries = entries if len(entries) > 1 else []
        return fetched
    except BaseException:
        _empty(folder)
        raise


class _Downloader:
    """``yt_dlp.YoutubeDL`` whose only request handler is the guarded one and whose only
    downloaders are yt-dlp's own, which use it (an external program, such as ffmpeg for a
    live stream or rtmpdump, would open its own connections)."""

    def __new__(cls, params: dict, policy: Policy, skipped: list[str], entries: list[str]):
        import yt_dlp
        from yt_dlp.downloader import get_suitable_downloader
        from yt_dlp.downloader.dash import DashSegmentsFD
        from yt_dlp.downloader.hls import HlsFD
        from yt_dlp.downloader.http import HttpFD

        class Guarded(yt_dlp.YoutubeDL):
            def build_request_director(self, handlers, preferences=None):
                return super().build_request_director([handler_factory(policy)], None)

            def process_ie_result(self, ie_result, download=True, extra_info=None):
                listed = ie_result.get("entries")  # all of them, before the one is picked
                if not entries and ie_result.get("_type") in ("playlist", "multi_video") \
                        and isinstance(listed, list):
                    entries.extend(_entry_name(e, i) for i, e in
                                   enumerate(listed[:MAX_ENTRIES], 1))
                return super().process_ie_result(ie_result, download, extra_info)

            def dl(self, name, info, subtitle=False, test=False):
                chosen = get_suitable_downloader(dict(info), self.params,
                                                 to_stdout=name == "-")
                if chosen not in (HttpFD, HlsFD, DashSegmentsFD):
                    protocol = info.get("protocol") or "unknown"
                    raise policy.stop(refused=f"{info.get('webpage_url') or 'the link'}: "
                                      f"the video is served over {protocol}, which the "
                                      "server does not download")
                if chosen is HlsFD and _is_live_playlist(self, info):
                    skipped.append("live")
                    raise FetchStopped("live")
                if chosen is HttpFD:
                    return super().dl(name, info, subtitle=subtitle, test=test)
                # a stream's segments: the progress hook counts them against the cap
                # (yt-dlp would fail the first segment over max_filesize, without a word)
                limit = self.params.pop("max_filesize", None)
                try:
                    return super().dl(name, info, subtitle=subtitle, test=test)
                finally:
                    self.params["max_filesize"] = limit

        return Guarded(params)


def _entry_name(entry, number: int) -> str:
    """One video of a link, as listed: its title, else its link."""
    entry = entry if isinstance(entry, dict) else {}
    name = entry.get("title") or entry.get("url") or entry.get("id") or f"video {number}"
    name = " ".join(str(name).split())
    return name if len(name) <= 200 else name[:199] + "…"


def _is_live_playlist(ydl, info: dict) -> bool:
    """Whether an HLS media playlist is a live one (no ``#EXT-X-ENDLIST``: segments keep
    coming). yt-dlp sees it for a direct playlist link, not for one in a page's
    ``<video>`` tag, whose download would then be a moment of the stream."""
    text = info.get("hls_media_playlist_data")
    if not text:
        with ydl.urlopen(info["url"]) as response:
            text = response.read(PLAYLIST_BYTES).decode("utf-8", "replace")
    return text.lstrip().startswith("#EXTM3U") and "#EXT-X-STREAM-INF" not in text \
        and "#EXT-X-ENDLIST" not in text


def _result(url: str, info: dict | None, folder: Path, policy: Policy, skipped: list[str],
            lines: list[str], settings: Settings, item: int) -> Fetched:
    items = None
    if info and info.get("_type") in ("playlist", "multi_video"):
        items = info.get("playlist_count") or None
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            if items is not None and item > items:
                raise LinkUnsupported(f"{url}: the link holds {items} videos: there is no "
                                      f"video {item}")
            raise _no_file(url, policy, skipped, lines, settings)
        info = entries[0]
    files = [Path(d["filepath"]) for d in (info or {}).get("requested_downloads") or []
             if d.get("filepath")]
    files = [f for f in files if f.is_file()]
    if not files:
        raise _no_file(url, policy, skipped, lines, settings)
    path = files[0]
    size = path.stat().st_size
    if size == 0:
        raise LinkUnsupported(f"{url}: the site sent an empty file")
    if size > settings.fetch_max_mb * 1024 * 1024:
        raise _too_large(url, settings)
    path = _checked(url, path, settings)
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if items is None:
        items = info.get("n_entries") or info.get("playlist_count")
    return Fetched(path, digest.hexdigest(), size, info, items, item)


def _checked(url: str, path: Path, settings: Settings) -> Path:
    """The fetched file, its duration checked (a direct link does not say how long its
    video is: the file does); a stream's joined segments (MPEG-TS, which yt-dlp names
    .mp4) put into MP4 (``remux``), or named .ts where they do not fit."""
    from fakelens.errors import MediaError
    from fakelens.media import probe

    try:
        info = probe(path, allow_audio=True)
    except MediaError:
        return path  # the analysis says what is wrong with the file
    if info.duration_s and info.duration_s > settings.fetch_max_minutes * 60:
        raise LinkTooLarge(f"{url}: the video lasts {info.duration_s / 60:.0f} minutes, more "
                           f"than the {settings.fetch_max_minutes:g} minutes allowed")
    if info.format == "mpegts":
        from fakelens.fetch.remux import ts_to_mp4

        if path.suffix.lower() != ".ts":
            path = path.rename(path.with_suffix(".ts"))
        path = ts_to_mp4(path) or path
    return path


def _empty(folder: Path) -> None:
    """Nothing half-stored: whatever the fetch left in its folder goes."""
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _too_large(url: str, settings: Settings) -> LinkTooLarge:
    return LinkTooLarge(f"{url}: the media is larger than the {settings.fetch_max_mb:g} MB "
                        "allowed (or an endless stream)")


def _no_file(url: str, policy: Policy, skipped: list[str], lines: list[str],
             settings: Settings) -> LinkError:
    """Why yt-dlp ended without a file (it skips rather than fails for its filters)."""
    if policy.refused or policy.over:
        return _stopped(url, policy, settings)
    if "live" in skipped:
        return LinkTooLarge(f"{url}: this is a live stream, which never ends: use "
                            "`fakelens live` for streams")
    if "duration" in skipped:
        return LinkTooLarge(f"{url}: the video is longer than the "
                            f"{settings.fetch_max_minutes:g} minutes allowed")
    if _over_size(lines):
        return _too_large(url, settings)
    return LinkUnsupported(f"{url}: no video could be downloaded from this link")


def _over_size(lines: list[str]) -> bool:
    """yt-dlp said the file (or a stream's segment) is over ``max_filesize``."""
    return any("max-filesize" in line or "larger than max" in line for line in lines)


def _stopped(url: str, policy: Policy, settings: Settings) -> LinkError:
    if policy.refused:
        return LinkRefused(policy.refused)
    if policy.over == "time":
        return LinkTimeout(f"{url}: the download took longer than the "
                           f"{settings.fetch_timeout_s:g} s allowed")
    return _too_large(url, settings)


# yt-dlp's words -> ours (checked in order, on the lower-cased message)
_MESSAGES = (
    ("unsupported url", "no video was found at this link: the page has no video, or the site "
                        "is not supported"),
    ("no video formats", "no video was found at this link"),
    ("private video", "the video is private"),
    ("sign in", "the site asks for a login to see this video"),
    ("login", "the site asks for a login to see this video"),
    ("not available in your country", "the video is blocked in the server's country"),
    ("geo", "the video is blocked in the server's country"),
    ("removed", "the video was removed"),
    ("http error 404", "the site answered 404 Not Found: the link is wrong or the video was "
                       "deleted"),
    ("http error 410", "the video was deleted (410 Gone)"),
    ("http error 401", "the site refused access (401): a login is needed"),
    ("http error 403", "the site refused access (403): the video may be private, blocked "
                       "in the server's country or behind a login"),
    ("http error 429", "the site is limiting requests (429): try again later"),
    ("http error 5", "the site had an error: try again later"),
    ("timed out", None),
    ("connection refused", "the site could not be reached (connection refused)"),
    ("name or service not known", "the site could not be found"),
    ("redirect loop", "the link redirects too many times"),
    ("ffmpeg could not be found", "the stream is encrypted or uses features that the server "
                                  "does not download"),
    ("drm protected", "the video is protected by DRM (copy protection)"),
    ("http error 30", "it redirects to a link that is not http(s)"),
)


def _link_error(url: str, exc: Exception, policy: Policy, skipped: list[str],
                lines: list[str], settings: Settings) -> LinkError:
    if isinstance(exc, LinkError):
        return exc
    if policy.refused or policy.over or skipped or _over_size(lines):
        return _no_file(url, policy, skipped, lines, settings)
    # yt-dlp's message without the link and the video's id, which may hold any word
    text = re.sub(r"\[[^]]*\] [^:]*: ", "", str(exc).replace(url, "")).lower()
    for needle, words in _MESSAGES:
        if needle in text:
            if words is None:
                return LinkTimeout(f"{url}: the site did not answer for "
                                   f"{settings.fetch_socket_timeout_s:g} s")
            cls = LinkRefused if needle == "http error 30" else LinkUnsupported
            return cls(f"{url}: {words}")
    log.info("fetch of %s failed: %s", url, exc)
    return LinkUnsupported(f"{url}: the media could not be downloaded from this link")
