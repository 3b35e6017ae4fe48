"""The versioned JSON API (``/api/v1``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import func, select

from fakelens.db.tables import AnalysisRow, Status
from fakelens.jobs.files import read_key_frames, report_path
from fakelens.web.deps import ApiAnalysis, ApiUser, AppSettings, DbSession, live_analyses_of
from fakelens.web.downloads import attachment_headers, download_stem
from fakelens.web.errors import ApiError
from fakelens.web.keyframes import download_name, key_frame_file
from fakelens.web.links import LinkRequest, accept_link, read_link_request
from fakelens.web.params import PageNumber, PathIndex
from fakelens.web.schemas import (
    AnalysisAccepted,
    AnalysisPage,
    AnalysisPublic,
    ErrorBody,
    KeyFramePublic,
    ModelPublic,
)
from fakelens.web.settings import WebSettings
from fakelens.web.uploads import FILE_FIELD, accept_upload, delete_analysis

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["analyses"],
                responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}})

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": [FILE_FIELD],
            "properties": {
                FILE_FIELD: {"type": "string", "format": "binary",
                             "description": "the video or image (type detected from content)"},
                "frames": {"type": "integer", "minimum": 1,
                           "description": "evenly spaced frames to analyse in a video"},
                "model": {"type": "string",
                          "description": "one installed detector (GET /api/v1/models) "
                                         "instead of the defaults"},
            },
        }}, "application/json": {"schema": LinkRequest.model_json_schema()}},
    }
}


def _status_url(request: Request, public_id: str) -> str:
    return str(request.app.url_path_for("get_analysis", analysis_id=public_id))


@api.post("/analyses", status_code=202, response_model=AnalysisAccepted,
          openapi_extra=_UPLOAD_BODY,
          responses={400: {"model": ErrorBody}, 413: {"model": ErrorBody},
                     415: {"model": ErrorBody}, 422: {"model": ErrorBody},
                     429: {"model": ErrorBody}})
async def create_analysis(request: Request, user: ApiUser, db: DbSession) -> JSONResponse:
    """Upload a video, image or audio file (multipart/form-data, field ``file``), or send
    a link (JSON ``{"url": "https://...", "item": 1}``: the server fetches it, checking
    the address first; links count against ``FAKELENS_FETCH_PER_HOUR`` and
    ``FAKELENS_FETCH_PER_DAY``); the analysis is queued and runs in the background: poll
    ``status_url`` (stage ``downloading`` while a link is fetched)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == \
            "application/json":
        row = await accept_link(request, db, user.id, await read_link_request(request))
    else:
        limiter = request.app.state.upload_limiter
        retry = limiter.hit(f"user:{user.id}")
        if retry is not None:
            raise ApiError(429, "rate_limited", "too many uploads; try again later",
                           headers={"Retry-After": str(int(retry))})
        row = await accept_upload(request, db, user.id)
    url = _status_url(request, row.public_id)
    body = AnalysisAccepted(id=row.public_id, status=row.status, status_url=url)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": url})


@api.get("/analyses", response_model=AnalysisPage)
def list_analyses(request: Request, user: ApiUser, db: DbSession,
                  page: PageNumber = 1,
                  per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> AnalysisPage:
    """The caller's analyses, newest first."""
    total = db.scalar(select(func.count()).select_from(AnalysisRow)
                      .where(*live_analyses_of(user))) or 0
    rows = db.scalars(select(AnalysisRow).where(*live_analyses_of(user))
                      .order_by(AnalysisRow.created_at.desc(), AnalysisRow.id.desc())
                      .offset((page - 1) * per_page).limit(per_page)).all()
    return AnalysisPage(items=[AnalysisPublic.from_row(r, _status_url(request, r.public_id))
                               for r in rows], page=page, per_page=per_page, total=total)


def _key_frames(request: Request, settings: WebSettings, public_id: str
                ) -> list[KeyFramePublic]:
    index = read_key_frames(settings, public_id)
    return [KeyFramePublic(
        index=f.number, time_s=f.timestamp_s, width=f.width, height=f.height,
        url=str(request.app.url_path_for("download_key_frame", analysis_id=public_id,
                                         index=str(f.number))))
        for f in (index.frames if index is not None else [])]


@api.get("/analyses/{analysis_id}", response_model=AnalysisPublic)
def get_analysis(request: Request, row: ApiAnalysis, settings: AppSettings) -> AnalysisPublic:
    """Status, progress (0-100 and stage) and, once done, the full result and the key
    frames."""
    return AnalysisPublic.from_row(row, _status_url(request, row.public_id), with_result=True,
                                   key_frames=_key_frames(request, settings, row.public_id))


@api.get("/analyses/{analysis_id}/result.json", response_class=Response,
         responses={200: {"content": {"application/json": {}}}, 409: {"model": ErrorBody}})
def download_result(row: ApiAnalysis) -> Response:
    """The result document alone (schema: ``fakelens schema``), as a download."""
    if row.status != Status.DONE or not row.result_json:
        raise ApiError(409, "not_ready", f"the analysis is {row.status}: no result to download")
    return Response(row.result_json, media_type="application/json",
                    headers=attachment_headers(f"fakelens-{download_stem(row.filename)}.json"))


@api.get("/analyses/{analysis_id}/report.{kind}", response_class=Response,
         responses={200: {"content": {"text/html": {}, "application/pdf": {},
                                      "application/json": {}}},
                     409: {"model": ErrorBody}})
def download_report(row: ApiAnalysis, settings: AppSettings,
                    kind: Annotated[Literal["html", "pdf", "json"], FastApiPath()]) -> Response:
    """The report file, as ``fakelens detect --report`` writes it: self-contained HTML,
    paginated PDF, or the JSON result."""
    if row.status != Status.DONE or not row.result_json:
        raise ApiError(409, "not_ready", f"the analysis is {row.status}: no report yet")
    if kind == "json":
        body, media_type = row.result_json.encode(), "application/json"
    else:
        try:
            html = report_path(settings, row.public_id).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ApiError(404, "report_missing", "this analysis has no stored report (it "
                           "was made before reports were kept); run it again") from exc
        if kind == "html":
            body, media_type = html.encode(), "text/html; charset=utf-8"
        else:
            from fakelens.reports import html_to_pdf

            body, media_type = html_to_pdf(html), "application/pdf"
    name = f"fakelens-report-{download_stem(row.filename)}.{kind}"
    return Response(body, media_type=media_type, headers=attachment_headers(name))


@api.get("/analyses/{analysis_id}/key-frames/{index}.jpg", response_class=Response,
         name="download_key_frame", responses={200: {"content": {"image/jpeg": {}}}})
def download_key_frame(row: ApiAnalysis, settings: AppSettings, index: PathIndex) -> Response:
    """Key frame ``index`` (see the analysis' ``key_frames``) as JPEG, as a download named
    after the file and the time."""
    found = key_frame_file(settings, row.public_id, index)
    if found is None:
        raise ApiError(404, "not_found", "no such key frame")
    return FileResponse(found.path, media_type="image/jpeg",
                        headers=attachment_headers(download_name(row.filename, found.frame)))


@api.delete("/analyses/{analysis_id}", status_code=204, response_class=Response)
def remove_analysis(row: ApiAnalysis, db: DbSession, settings: AppSettings) -> Response:
    """Delete the analysis, its result and the uploaded file (a running job stops)."""
    delete_analysis(db, settings, row)
    return Response(status_code=204)


@api.get("/models", response_model=list[ModelPublic], tags=["models"])
def list_models() -> list[ModelPublic]:
    """The installed detectors an upload can name as ``model`` (no login needed)."""
    from fakelens.models.registry import DEFAULT_DETECTORS, installed_detectors

    return [ModelPublic(name=d.config.name, version=d.config.version, task=d.config.task,
                        applies_to=list(d.config.applies_to),
                        description=d.config.description,
                        default=d.config.name in DEFAULT_DETECTORS)
            for _, d in sorted(installed_detectors().items())]


router.include_router(api)
