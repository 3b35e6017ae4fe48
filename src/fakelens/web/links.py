"""Links (issue 26) in the web app and the API: a link is checked when it is submitted
(the fetch guard: http(s) only, no private, loopback, link-local or metadata address),
counted against the user's fetch limits, and queued as an analysis that names it; the job
worker fetches it (``fakelens.jobs.tasks``), stores the file under its sha256 like an
upload, and runs the usual analysis (or reuses the user's earlier analysis of the same
file: ``fakelens.jobs.reuse``). Also what the result page says of both."""

from __future__ import annotations

import json
import logging
import math
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from fakelens.db.tables import AnalysisRow
from fakelens.errors import LinkError, error_code, user_message
from fakelens.types import Analysis, LinkSource
from fakelens.web.errors import ApiError
from fakelens.web.settings import WebSettings
from fakelens.web.throttle import link_fetch_refused_for
from fakelens.web.uploads import MAX_NAME, _options, _whole_number

log = logging.getLogger(__name__)

MAX_URL = 2000
MAX_BODY = 16 * 1024
MAX_ITEM = 1000
PENDING_KIND = "link"  # media_kind until the file is fetched (then video, image or audio)


class LinkRequest(BaseModel):
    """``POST /api/v1/analyses`` with a JSON body: the media behind a link."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL,
                     description="an http(s) link to a video page, a post or a media file")
    item: int = Field(1, ge=1, le=MAX_ITEM, description="which video, when the link holds "
                      "several (a playlist, a post with clips); 1-based")
    frames: int | None = Field(None, ge=1, description="evenly spaced frames to analyse in "
                               "a video")
    model: str | None = Field(None, description="one installed detector (GET "
                              "/api/v1/models) instead of the defaults")


async def read_link_request(request: Request) -> LinkRequest:
    """The JSON body (at most ``MAX_BODY`` bytes) as a ``LinkRequest``, else 400/422."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, "request_too_large", "the JSON body is too large")
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", 'send a JSON object: {"url": "https://..."}')
    try:
        return LinkRequest.model_validate(data)
    except ValidationError as exc:
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                 for e in exc.errors()[:5]]
        raise ApiError(422, "invalid_request", "; ".join(parts)) from None


def link_label(url: str) -> str:
    """The analysis' name until the site tells its title: the link's host and path."""
    parts = urlsplit(url)
    text = "".join(c for c in (parts.hostname or "") + parts.path.rstrip("/")
                   if c.isprintable()).strip()
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def check_submitted(url: str, settings: WebSettings) -> str:
    """The fetch guard at submit time: the link stripped, or ``ApiError`` 422 saying why
    it will not be fetched (the worker checks every connection again)."""
    from fakelens.fetch.guard import check_link

    try:
        return check_link(url, settings.fetch_allow_private)
    except LinkError as exc:
        raise ApiError(422, error_code(exc), user_message(exc)) from None


def check_quota(db: Session, settings: WebSettings, user_id: int) -> None:
    """Count one fetch for ``user_id``; 429 with Retry-After when over a limit."""
    refused = link_fetch_refused_for(db, settings, user_id)
    if refused is None:
        return
    seconds, which = refused
    limit = settings.fetch_per_hour if which == "hour" else settings.fetch_per_day
    raise ApiError(429, "fetch_limit", f"You have checked {limit} links this {which}, the "
                   f"most allowed. Try again in {wait_words(seconds)}.",
                   headers={"Retry-After": str(int(seconds) + 1)})


def wait_words(seconds: float) -> str:
    """A wait of minutes to a day in words, rounded up (never "0 minutes", never sooner
    than the limit allows): "1 minute", "45 minutes", "2 hours"."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(seconds / 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


async def accept_link(request: Request, db: Session, user_id: int, link: LinkRequest,
                      fields: dict[str, str] | None = None) -> AnalysisRow:
    """Check, count and queue one link; returns the new (queued) analysis. ``fields``:
    the upload form's options (frames, model) as typed, instead of the link's."""
    settings: WebSettings = request.app.state.settings
    url = await run_in_threadpool(check_submitted, link.url, settings)
    if fields is None:
        fields = {"frames": str(link.frames) if link.frames is not None else "",
                  "model": link.model or ""}
    frames, model = _options(fields, settings)
    await run_in_threadpool(check_quota, db, settings, user_id)

    def insert() -> AnalysisRow:
        row = AnalysisRow(user_id=user_id, filename=link_label(url), media_sha256="",
                          media_size=0, media_kind=PENDING_KIND, frames=frames, model=model,
                          source_url=url, source_item=link.item)
        db.add(row)
        db.commit()
        return row

    row = await run_in_threadpool(insert)
    try:
        await run_in_threadpool(request.app.state.enqueue, row.public_id)
    except Exception:  # the row is queued: the sweeper enqueues it again
        log.exception("analysis %s: the job queue is unavailable", row.public_id)
    return row


def form_item(raw: str) -> int:
    """The link box's "which video" number (empty: the first), else 422."""
    raw = raw.strip()
    item = _whole_number(raw) if raw else 1
    if item is None or not 1 <= item <= MAX_ITEM:
        raise ApiError(422, "invalid_request", "Which video must be a whole number from 1 "
                       f"to {MAX_ITEM}.")
    return item


def item_note(row: AnalysisRow) -> str | None:
    """Which video of the link the analysis is of ("video 2 of 4 behind this link"), once
    the link said how many it holds; None for a file or a link's only video."""
    from fakelens.reports.provenance import item_words

    if not row.source_url:
        return None
    items = None
    if row.source_json:
        try:
            items = LinkSource.model_validate_json(row.source_json).items
        except ValueError:
            items = None
    return item_words(row.source_item or 1, items)


class ReusedView(BaseModel):
    """An analysis whose result is an earlier one's (``fakelens.jobs.reuse``)."""

    analysed_at: str  # when the result was made, e.g. "2026-12-06 14:05 UTC"
    url: str | None  # the earlier analysis' page, while it exists


def reused_view(db: Session, row: AnalysisRow, result: Analysis | None) -> ReusedView | None:
    from datetime import UTC, datetime

    if not row.reused_from or result is None:
        return None
    try:
        made = datetime.fromisoformat(result.created_at).astimezone(UTC)
        when = made.strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        when = result.created_at
    earlier = db.scalar(select(AnalysisRow.public_id).where(
        AnalysisRow.public_id == row.reused_from, AnalysisRow.user_id == row.user_id,
        AnalysisRow.deleted_at.is_(None)))
    return ReusedView(analysed_at=when, url=f"/analyses/{earlier}" if earlier else None)
