"""What the JSON API accepts and returns (pydantic; these make the OpenAPI schema)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from fakelens.db.tables import AnalysisRow
from fakelens.types import Analysis


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable, e.g. 'unsupported_media'")
    message: str = Field(description="meant for the person who caused it")


class ErrorBody(BaseModel):
    error: ErrorDetail


class AnalysisAccepted(BaseModel):
    id: str
    status: str
    status_url: str


class KeyFramePublic(BaseModel):
    """A scene-change key frame (the first frame of a shot; a still's is the image itself),
    for reverse image search."""

    index: int = Field(ge=0, description="its place among the analysis' key frames, from 0")
    time_s: float = Field(ge=0, description="seconds from the start of the video")
    width: int = Field(ge=1, description="of the image, in pixels")
    height: int = Field(ge=1, description="of the image, in pixels")
    url: str = Field(description="the image (JPEG), as a download, with the same "
                     "credentials as this API")


class AnalysisPublic(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed")
    stage: str = Field(description="queued, starting, downloading (a link), decode, model, "
                       "done or failed")
    progress: int = Field(ge=0, le=100)
    filename: str = Field(description="the uploaded file's name (display only)")
    media_kind: str = Field(description="video, image or audio; 'link' until a link's "
                            "media is fetched")
    size_bytes: int | None = Field(description="null for a saved live check (no file kept)")
    sha256: str | None = Field(description="of the uploaded file; null for a saved live "
                               "check (no file kept)")
    frames: int | None = Field(description="frames requested for a video; null for an image or an "
                        "audio file")
    model: str | None
    verdict: str | None
    score: float | None
    error: ErrorDetail | None = None
    created_at: datetime
    finished_at: datetime | None
    status_url: str
    result: Analysis | None = Field(None, description="the analysis, once status is done")
    reused_from: str | None = Field(None, description="the id of the caller's earlier "
                                    "analysis of the same file (sha256) with the same "
                                    "options, whose result this one reuses instead of "
                                    "running again; null when it was run")
    key_frames: list[KeyFramePublic] | None = Field(
        None, description="the scene-change key frames, once done (empty for audio, a "
        "live check, or before the analysis is done); null in the listing: GET the "
        "analysis")

    @classmethod
    def from_row(cls, row: AnalysisRow, status_url: str, with_result: bool = False,
                 key_frames: list[KeyFramePublic] | None = None) -> AnalysisPublic:
        result = None
        if with_result and row.result_json:
            result = Analysis.model_validate_json(row.result_json)
        error = (ErrorDetail(code=row.error_code, message=row.error_message or "")
                 if row.error_code else None)
        return cls(id=row.public_id, status=row.status, stage=row.stage, progress=row.progress,
                   filename=row.filename, media_kind=row.media_kind,
                   size_bytes=row.media_size if row.media_sha256 else None,
                   sha256=row.media_sha256 or None,
                   frames=row.frames if row.media_kind == "video" else None, model=row.model,
                   verdict=row.verdict, score=row.score, error=error,
                   created_at=_utc(row.created_at), finished_at=_utc(row.finished_at),
                   status_url=status_url, result=result, reused_from=row.reused_from,
                   key_frames=key_frames)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


class AnalysisPage(BaseModel):
    items: list[AnalysisPublic]
    page: int
    per_page: int
    total: int


class ModelPublic(BaseModel):
    name: str
    version: str
    task: str
    applies_to: list[str]
    description: str
    default: bool = Field(description="used when an upload names no model")


class Health(BaseModel):
    """Liveness: the process answers (nothing else is checked)."""

    status: str
    version: str
    queue: str


class Readiness(BaseModel):
    """Readiness: each dependency ``ok`` or why not; 503 unless all are."""

    status: str
    version: str
    queue: str
    checks: dict[str, str]
