"""What the site says about fetched media, kept in the result (``provenance.source``), and
the result of a fetched file made to name its link."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from fakelens.types import Analysis, LinkSource

MAX_TEXT = 5000  # a description longer than this is shortened (the page has it all)
REENCODED = ("Downloaded from {where}: sites re-encode what is uploaded to them, which "
             "removes the original file's metadata and content credentials (C2PA) and adds "
             "compression of their own, so the provenance found describes the site's copy, "
             "not the original. The title, uploader and date are the site's claims.")


def _text(value, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def _date(value) -> str | None:
    """yt-dlp's YYYYMMDD as YYYY-MM-DD."""
    text = str(value or "")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return None


def platform_of(info: dict) -> str:
    key = str(info.get("extractor_key") or info.get("extractor") or "generic")
    return "generic" if key.lower() in ("generic", "html5mediaembed") else key


def link_source(url: str, info: dict, sha256: str, size_bytes: int, item: int = 1,
                items: int | None = None, entries: list[str] | None = None) -> LinkSource:
    platform = platform_of(info)
    site = urlsplit(url).hostname or ""
    duration = info.get("duration")
    return LinkSource(
        url=url, page_url=_text(info.get("webpage_url"), 2000), site=site, platform=platform,
        video_id=_text(info.get("id"), 200), title=_text(info.get("title"), 500),
        description=_text(info.get("description")),
        uploader=_text(info.get("uploader"), 200), channel=_text(info.get("channel"), 200),
        upload_date=_date(info.get("upload_date")),
        duration_s=float(duration) if isinstance(duration, int | float) else None,
        view_count=_count(info.get("view_count")), like_count=_count(info.get("like_count")),
        comment_count=_count(info.get("comment_count")), item=item, items=items,
        entries=list(entries or []),
        sha256=sha256, size_bytes=size_bytes,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        note=REENCODED.format(where=site if platform == "generic" else f"{platform} ({site})"))


def display_name(source: LinkSource, suffix: str) -> str:
    """A name for the fetched file: the site's title, else the link's last part."""
    name = source.title or urlsplit(source.url).path.rstrip("/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "/\\").strip()[:150]
    name = name or source.site or "link"
    return name if name.lower().endswith(suffix.lower()) else name + suffix


CHOOSE_CLI = "--item N"


def several_warning(source: LinkSource, choose: str = CHOOSE_CLI) -> str | None:
    """The warning of a link holding several videos: which one was analysed."""
    if not source.items or source.items <= 1:
        return None
    which = "the first" if source.item == 1 else f"video {source.item}"
    return (f"this link holds {source.items} videos: {which} was analysed (choose another "
            f"with {choose})")


def with_source(analysis: Analysis, source: LinkSource, media_path: str,
                choose: str = CHOOSE_CLI) -> Analysis:
    """The result of a fetched file, naming its link: ``provenance.source``, the media's
    path (the link, or the name shown for it), a caveat on re-encoding and, when the link
    holds several videos, a warning saying which was analysed (and how to choose another:
    ``choose``)."""
    media = analysis.media.model_copy(update={"path": media_path})
    provenance = (analysis.provenance.model_copy(update={"source": source})
                  if analysis.provenance else None)
    warnings = list(analysis.warnings)
    several = several_warning(source, choose)
    if several:
        warnings.append(several)
    return analysis.model_copy(update={"media": media, "provenance": provenance,
                                       "warnings": warnings,
                                       "caveats": [*analysis.caveats, source.note]})


def without_source(analysis: Analysis) -> Analysis:
    """The result as the file's own, undoing ``with_source`` (a result reused for the same
    file fetched from another link, or uploaded, must not keep the first link's words)."""
    source = analysis.provenance.source if analysis.provenance else None
    if source is None:
        return analysis
    provenance = analysis.provenance.model_copy(update={"source": None})
    prefix = f"this link holds {source.items} videos: "
    return analysis.model_copy(update={
        "provenance": provenance,
        "warnings": [w for w in analysis.warnings if not w.startswith(prefix)],
        "caveats": [c for c in analysis.caveats if c != source.note]})
