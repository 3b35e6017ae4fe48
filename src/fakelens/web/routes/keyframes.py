"""Key frames for reverse image search: the image and its download (the analysis'
owner only, like every image of an analysis), the one-click search (a redirect to the
engine with a fresh public link, only with ``FAKELENS_PUBLIC_URL``) and that public link
(signed, expiring: what the search engine fetches). See ``fakelens.web.keyframes``."""

from __future__ import annotations

import re
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from fakelens.db.tables import AnalysisRow
from fakelens.web.deps import AppSettings, DbSession, PageAnalysis
from fakelens.web.downloads import attachment_headers
from fakelens.web.errors import ApiError
from fakelens.web.keyframes import (
    ENGINE_KEYS,
    KeyFrameFile,
    download_name,
    key_frame_file,
    link_valid,
    public_link,
    search_url,
)
from fakelens.web.params import PathIndex

router = APIRouter(include_in_schema=False)

EngineKey = Literal["google", "bing", "tineye", "yandex"]
# a public link that is malformed names nothing: 404 like a wrong one, never 422
MAX_EXPIRY = 2**40
SIGNATURE = re.compile("[0-9a-fA-F]{32}")


def _no_frame() -> ApiError:
    return ApiError(404, "not_found", "no such key frame")


def _frame(settings, public_id: str, number: int) -> KeyFrameFile:
    found = key_frame_file(settings, public_id, number)
    if found is None:
        raise _no_frame()
    return found


@router.get("/analyses/{analysis_id}/key-frames/{number}.jpg", name="key_frame_image")
def key_frame_image(row: PageAnalysis, settings: AppSettings, number: PathIndex,
                    download: Annotated[bool, Query()] = False) -> Response:
    """A key frame as JPEG; ``?download=1`` saves it (named after the file and the time)."""
    found = _frame(settings, row.public_id, number)
    headers = (attachment_headers(download_name(row.filename, found.frame)) if download
               else None)
    return FileResponse(found.path, media_type="image/jpeg", headers=headers)


@router.get("/analyses/{analysis_id}/key-frames/{number}/search/{engine}",
            name="key_frame_search")
def key_frame_search(request: Request, row: PageAnalysis, settings: AppSettings,
                     number: PathIndex, engine: EngineKey) -> Response:
    """The owner clicked a search link: on to the engine with a public link to this one
    frame, made now. Only from this site's own pages (another site cannot make the
    browser hand a frame to an engine) and only when the server has a public address."""
    if settings.public_url is None:
        raise ApiError(404, "not_found", "this server has no public address "
                       "(FAKELENS_PUBLIC_URL): download the key frame and upload it to "
                       "the search engine")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise ApiError(403, "cross_site", "Open the search from the analysis page.")
    found = _frame(settings, row.public_id, number)
    link = public_link(settings, found.index, row.public_id, found.frame.number, time.time())
    return RedirectResponse(search_url(ENGINE_KEYS[engine], link), status_code=303)


@router.get("/public/key-frames/{analysis_id}/{number}/{expires}/{signature}.jpg",
            name="public_key_frame")
def public_key_frame(analysis_id: str, number: PathIndex, expires: int,
                     signature: str, settings: AppSettings,
                     db: DbSession) -> Response:
    """One key frame for the search engine its owner sent it to: no login, a signed link
    that expires; nothing once the analysis is deleted or in the trash."""
    if (len(analysis_id) > 32 or settings.public_url is None
            or not 0 <= expires <= MAX_EXPIRY or not SIGNATURE.fullmatch(signature)):
        raise _no_frame()
    live = db.scalar(select(AnalysisRow.id).where(AnalysisRow.public_id == analysis_id,
                                                  AnalysisRow.deleted_at.is_(None)))
    if live is None:
        raise _no_frame()
    try:
        found = _frame(settings, analysis_id, number)
    except ValueError:  # not an analysis id
        raise _no_frame() from None
    if not link_valid(found.index, analysis_id, found.frame.number, expires, signature,
                      time.time()):
        raise _no_frame()
    return FileResponse(found.path, media_type="image/jpeg")
