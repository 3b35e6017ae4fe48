"""Typed results that cross module borders (all JSON-serialisable through pydantic)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class Verdict(StrEnum):
    REAL = "REAL"
    FAKE = "FAKE"
    UNCERTAIN = "UNCERTAIN"
    NO_FACE = "NO_FACE"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Box(_Frozen):
    """Face box in pixels of the (rotation-corrected) frame."""

    x: float
    y: float
    w: float
    h: float


class MediaInfo(_Frozen):
    path: str
    kind: str = Field(description="'video' or 'image'")
    format: str = Field(description="container or image format as detected from content")
    size_bytes: int
    sha256: str
    width: int
    height: int
    codec: str | None = None
    fps: float | None = None
    duration_s: float | None = None
    frame_count: int | None = Field(None, description="frames in the stream (estimated if absent)")
    rotation: int = Field(0, description="degrees applied to honour rotation metadata")
    has_audio: bool = False


class FrameScore(_Frozen):
    frame_index: int = Field(description="index among the decoded frames of the stream")
    timestamp_s: float
    box: Box
    landmarks: list[tuple[float, float]] = Field(description="eyes, nose, mouth corners")
    detector_confidence: float
    score: float = Field(description="probability that this face in this frame is fake")


class ModelScore(_Frozen):
    model: str
    score: float


class Track(_Frozen):
    track_id: int
    frames: list[FrameScore]
    frame_score: float = Field(description="robust mean of the per-frame scores")
    temporal_score: float | None = Field(None, description="temporal head over the whole track")
    model_scores: list[ModelScore] = Field(default_factory=list)
    score: float = Field(description="probability that this face is manipulated")
    decisive: bool = Field(description="long enough to take part in the media verdict")


class ModelInfo(_Frozen):
    name: str
    version: str
    task: str
    threshold: float


class StageTimings(_Frozen):
    decode_s: float = 0.0
    detect_s: float = 0.0
    crop_s: float = 0.0
    model_s: float = 0.0
    total_s: float = 0.0


class Analysis(BaseModel):
    """Everything fakelens found out about one file."""

    schema_version: str = SCHEMA_VERSION
    fakelens_version: str
    verdict: Verdict
    score: float | None = Field(description="probability that the media is fake; null if no face")
    threshold: float
    uncertain_band: float
    reason: str = Field(description="plain-language summary derived from the numbers")
    media: MediaInfo
    tracks: list[Track]
    models: list[ModelInfo]
    face_detector: str
    frames_sampled: int
    sampling: str
    warnings: list[str] = Field(default_factory=list)
    timings: StageTimings
    created_at: str

    def to_json(self, **kwargs) -> str:
        return self.model_dump_json(**kwargs)
