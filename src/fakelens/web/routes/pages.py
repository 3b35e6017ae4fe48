"""Server-rendered pages: upload, job/result, history (auth pages: routes/auth.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from fakelens.db.tables import AnalysisRow, Status
from fakelens.errors import FakeLensError
from fakelens.forum.shares import shared_topic
from fakelens.jobs.tasks import face_image_path
from fakelens.types import Analysis
from fakelens.web.deps import AppSettings, DbSession, PageAnalysis, PageUser
from fakelens.web.errors import ApiError, error_code
from fakelens.web.routes.auth import Csrf
from fakelens.web.security import CSRF_FIELD, csrf_ok
from fakelens.web.templating import VERDICT_WORDS, render
from fakelens.web.timeline import timeline_svg, track_colour
from fakelens.web.uploads import accept_upload, delete_analysis

router = APIRouter(include_in_schema=False)

PER_PAGE = 20


def _models() -> list[str]:
    from fakelens.models.registry import installed_detectors

    return sorted(installed_detectors())


@router.get("/", response_class=HTMLResponse, name="upload_page")
def upload_page(request: Request, user: PageUser, settings: AppSettings) -> HTMLResponse:
    return render(request, "upload.html", user=user, models=_models(), settings=settings)


@router.post("/analyses", name="upload")
async def upload(request: Request, user: PageUser, db: DbSession,
                 settings: AppSettings) -> Response:
    def check_fields(fields: dict[str, str]) -> None:
        if not csrf_ok(request, fields.get(CSRF_FIELD)):
            raise ApiError(403, "csrf_failed", "the form expired; reload the page and try again")

    try:
        retry = request.app.state.upload_limiter.hit(f"user:{user.id}")
        if retry is not None:
            raise ApiError(429, "rate_limited", f"too many uploads; try again in "
                           f"{int(retry) // 60 + 1} minutes")
        row = await accept_upload(request, db, user.id, check_fields)
    except (ApiError, FakeLensError) as exc:
        status = exc.status if isinstance(exc, ApiError) else exc.http_status
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        code = exc.code if isinstance(exc, ApiError) else error_code(exc)
        return render(request, "upload.html", status=status, user=user, models=_models(),
                      settings=settings, errors=[message], error_code=code)
    return RedirectResponse(request.url_for("analysis_page", analysis_id=row.public_id)
                            .path, status_code=303)


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse, name="analysis_page")
def analysis_page(request: Request, row: PageAnalysis, user: PageUser,
                  db: DbSession) -> HTMLResponse:
    from fakelens.reports.provenance import provenance_view

    result = Analysis.model_validate_json(row.result_json) if row.result_json else None
    return render(request, "analysis.html", user=user, row=row, result=result,
                  finished=row.status in (Status.DONE, Status.FAILED),
                  verdict_words=VERDICT_WORDS.get(row.verdict or "", row.verdict),
                  timeline=timeline_svg(result) if result else None,
                  track_colour=track_colour, shared=shared_topic(db, row),
                  provenance=provenance_view(result.provenance)
                  if result and result.provenance else None)


@router.post("/analyses/{analysis_id}/delete", dependencies=[Csrf], name="delete_page")
def delete(row: PageAnalysis, db: DbSession, settings: AppSettings) -> Response:
    delete_analysis(db, settings, row)
    return RedirectResponse("/history", status_code=303)


@router.get("/history", response_class=HTMLResponse, name="history_page")
def history(request: Request, user: PageUser, db: DbSession,
            page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    total = db.scalar(select(func.count()).select_from(AnalysisRow)
                      .where(AnalysisRow.user_id == user.id)) or 0
    rows = db.scalars(select(AnalysisRow).where(AnalysisRow.user_id == user.id)
                      .order_by(AnalysisRow.created_at.desc(), AnalysisRow.id.desc())
                      .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render(request, "history.html", user=user, rows=rows, page=page, pages=pages,
                  total=total, verdict_words=VERDICT_WORDS)


@router.get("/analyses/{analysis_id}/faces/{track_id}-{kind}.png", name="face_image")
def face_image(row: PageAnalysis, settings: AppSettings, track_id: int,
               kind: Literal["face", "heatmap"]) -> Response:
    """A track's key face or its heatmap (owner only, like everything of an analysis)."""
    path = face_image_path(settings, row.public_id, track_id, kind)
    if not path.is_file():
        raise ApiError(404, "not_found", "no such face image")
    return FileResponse(path, media_type="image/png")
