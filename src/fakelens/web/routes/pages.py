"""Server-rendered pages: upload, job/result, history (auth pages: routes/auth.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fakelens.db.tables import AnalysisRow, Status, User
from fakelens.errors import FakeLensError
from fakelens.forum.shares import shared_topic
from fakelens.jobs.files import face_image_path, frame_image_path, key_frame_positions
from fakelens.types import Analysis
from fakelens.web.deps import (
    AppSettings,
    DbSession,
    MaybeUser,
    PageAnalysis,
    PageUser,
    live_analyses_of,
)
from fakelens.web.errors import ApiError, page_error
from fakelens.web.keyframes import key_frames_view
from fakelens.web.landing import detector_cards, sample_analysis
from fakelens.web.links import (
    MAX_URL,
    LinkRequest,
    accept_link,
    form_item,
    item_note,
    reused_view,
    wait_words,
)
from fakelens.web.params import PageNumber, PathIndex
from fakelens.web.security import CSRF_FIELD, csrf_ok
from fakelens.web.settings import WebSettings
from fakelens.web.templating import VERDICT_WORDS, flash, render
from fakelens.web.timeline import speech_timeline_svg, timeline_svg, track_colour
from fakelens.web.trash import purge_expired, trashed
from fakelens.web.uploads import accept_upload

router = APIRouter(include_in_schema=False)

PER_PAGE = 20


LANDING_TOPICS = 5


def _landing(request: Request, db: Session, user: User | None) -> HTMLResponse:
    from fakelens.forum.queries import Sort, list_topics

    cards = detector_cards()
    topics = list_topics(db, user, sort=Sort.ACTIVE).items[:LANDING_TOPICS]
    return render(request, "landing.html", user=user, cards=cards, topics=topics,
                  sample=sample_analysis(cards), settings=request.app.state.settings)


@router.get("/", response_class=HTMLResponse, name="upload_page")
def upload_page(request: Request, user: MaybeUser, db: DbSession,
                settings: AppSettings) -> HTMLResponse:
    """Signed in: the upload form; otherwise the public landing page."""
    if user is None:
        return _landing(request, db, None)
    return render(request, "upload.html", user=user, models=detector_cards(), settings=settings)


@router.get("/about", response_class=HTMLResponse, name="about_page")
def about_page(request: Request, user: MaybeUser, db: DbSession) -> HTMLResponse:
    return _landing(request, db, user)


async def _upload(request: Request, user: User, db, settings,
                  check_fields=None) -> Response:
    """Accept an upload and go to its analysis page, or show the form with the error."""
    try:
        retry = request.app.state.upload_limiter.hit(f"user:{user.id}")
        if retry is not None:
            raise ApiError(429, "rate_limited", f"Too many uploads. Try again in "
                           f"{wait_words(retry)}.")
        row = await accept_upload(request, db, user.id, check_fields)
    except (ApiError, FakeLensError) as exc:
        status, code, message = page_error(exc)
        return render(request, "upload.html", status=status, user=user, models=detector_cards(),
                      settings=settings, errors=[message], error_code=code)
    return RedirectResponse(request.url_for("analysis_page", analysis_id=row.public_id)
                            .path, status_code=303)


@router.post("/analyses", name="upload")
async def upload(request: Request, user: PageUser, db: DbSession,
                 settings: AppSettings) -> Response:
    def check_fields(fields: dict[str, str]) -> None:
        if not csrf_ok(request, fields.get(CSRF_FIELD)):
            raise ApiError(403, "csrf_failed", "The form expired. Reload the page and try "
                           "again.")

    return await _upload(request, user, db, settings, check_fields)


@router.post("/links", name="check_link")
async def check_link_form(request: Request, user: PageUser, db: DbSession,
                          settings: AppSettings) -> Response:
    """The upload form's "Check a link" button: the link (with the form's options) is
    checked and queued like the API's, and the browser goes to its analysis page (which
    shows the download, then the analysis)."""
    url, item = "", ""
    try:
        form = await request.form(max_files=0, max_fields=16, max_part_size=MAX_URL * 2)
        url = str(form.get("url") or "").strip()
        item = str(form.get("item") or "").strip()[:10]
        if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
            raise ApiError(403, "csrf_failed", "The form expired. Reload the page and try "
                           "again.")
        if not url:
            raise ApiError(422, "invalid_request", "Paste a link to check.")
        if len(url) > MAX_URL:
            raise ApiError(422, "invalid_request", f"The link is longer than {MAX_URL} "
                           "characters.")
        link = LinkRequest(url=url, item=form_item(item))
        row = await accept_link(request, db, user.id, link, {
            k: str(form.get(k) or "") for k in ("frames", "model")})
    except (ApiError, FakeLensError) as exc:
        status, code, message = page_error(exc)
        return render(request, "upload.html", status=status, user=user,
                      models=detector_cards(), settings=settings, errors=[message],
                      error_code=code, link=url[:MAX_URL], link_item=item)
    return RedirectResponse(request.url_for("analysis_page", analysis_id=row.public_id)
                            .path, status_code=303)


@router.post("/share-target", name="share_target")
async def share_target(request: Request, user: MaybeUser, db: DbSession,
                       settings: AppSettings) -> Response:
    """A file shared from another app (Web Share Target): analysed like an upload. The
    phone posts it without our CSRF token; the browser's Sec-Fetch-Site tells a share
    (same origin, or no initiator) from a cross-site form."""
    if request.headers.get("sec-fetch-site", "none") not in ("same-origin", "none"):
        raise ApiError(403, "csrf_failed", "Sharing to fakelens works only from this device.")
    if user is None:
        flash(request, "Log in, then share the file again.")
        return RedirectResponse("/login?next=/", status_code=303)
    return await _upload(request, user, db, settings)


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse, name="analysis_page")
def analysis_page(request: Request, row: PageAnalysis, user: PageUser,
                  db: DbSession, settings: AppSettings) -> HTMLResponse:
    from fakelens.reports.provenance import provenance_view

    result = Analysis.model_validate_json(row.result_json) if row.result_json else None
    return render(request, "analysis.html", user=user, row=row, result=result,
                  finished=row.status in (Status.DONE, Status.FAILED),
                  timeline=timeline_svg(result) if result else None,
                  speech_timeline=speech_timeline_svg(result) if result else None,
                  track_colour=track_colour, shared=shared_topic(db, row),
                  reused=reused_view(db, row, result), link_item=item_note(row),
                  provenance=provenance_view(result.provenance)
                  if result and result.provenance else None,
                  strips=_key_frames(settings, row.public_id, result) if result else [],
                  scenes=key_frames_view(settings, row.public_id) if result else None)


class KeyFrame(BaseModel):
    position: int
    timestamp_s: float
    score: float


class KeyFrameStrip(BaseModel):
    track_id: int
    frames: list[KeyFrame]


def _key_frames(settings: WebSettings, public_id: str, result: Analysis) -> list[KeyFrameStrip]:
    """Per face, the frames whose crops the job kept (none for older analyses)."""
    strips = []
    for tr in result.tracks:
        picks = [i for i in key_frame_positions(len(tr.frames)) if frame_image_path(
            settings, public_id, tr.track_id, i, "face").is_file()]
        if picks:
            strips.append(KeyFrameStrip(track_id=tr.track_id, frames=[KeyFrame(
                position=i, timestamp_s=tr.frames[i].timestamp_s, score=tr.frames[i].score)
                for i in picks]))
    return strips


@router.get("/history", response_class=HTMLResponse, name="history_page")
def history(request: Request, user: PageUser, db: DbSession, settings: AppSettings,
            page: PageNumber = 1) -> HTMLResponse:
    total = db.scalar(select(func.count()).select_from(AnalysisRow)
                      .where(*live_analyses_of(user))) or 0
    rows = db.scalars(select(AnalysisRow).where(*live_analyses_of(user))
                      .order_by(AnalysisRow.created_at.desc(), AnalysisRow.id.desc())
                      .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    purge_expired(db, settings, user)
    return render(request, "history.html", user=user, rows=rows, page=page, pages=pages,
                  total=total, verdict_words=VERDICT_WORDS, trash=trashed(db, user),
                  trash_days=settings.trash_days)


@router.get("/analyses/{analysis_id}/faces/{track_id}-{kind}.png", name="face_image")
def face_image(row: PageAnalysis, settings: AppSettings, track_id: PathIndex,
               kind: Literal["face", "heatmap"]) -> Response:
    """A track's key face or its heatmap (owner only, like everything of an analysis)."""
    path = face_image_path(settings, row.public_id, track_id, kind)
    if not path.is_file():
        raise ApiError(404, "not_found", "no such face image")
    return FileResponse(path, media_type="image/png")


@router.get("/analyses/{analysis_id}/frames/{track_id}-{position}-{kind}.png",
            name="frame_image")
def frame_image(row: PageAnalysis, settings: AppSettings, track_id: PathIndex,
                position: PathIndex,
                kind: Literal["face", "heatmap"]) -> Response:
    """One frame of the key-frame strip (owner only)."""
    try:
        path = frame_image_path(settings, row.public_id, track_id, position, kind)
    except ValueError:
        path = None
    if path is None or not path.is_file():
        raise ApiError(404, "not_found", "no such frame image")
    return FileResponse(path, media_type="image/png")
