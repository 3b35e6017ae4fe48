"""Typed results passed between the live modules, the CLI and the web page (JSON through
pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fakelens.types import Box, Verdict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FaceState(_Frozen):
    """A face as it stands after the newest analysed frame."""

    track_id: int
    box: Box | None = Field(None, description="in the newest frame (None: not seen in it)")
    frame_score: float | None = Field(None, description="this frame's score (None: not seen)")
    score: float = Field(description="rolling score over the face's last frames")
    frames: int = Field(description="frames the face was seen in so far")
    above_for_s: float = Field(0.0, description="seconds its rolling score has stayed at or "
                                                "above the threshold")
    alert: bool = False


class FrameResult(_Frozen):
    """What one analysed frame gave: the faces seen in it with their scores."""

    frame_index: int
    timestamp_s: float
    width: int
    height: int
    faces: list[FaceState]
    analysis_s: float = Field(description="seconds spent on this frame (detect, crop, score)")


class LiveAlert(_Frozen):
    track_id: int
    timestamp_s: float = Field(description="stream time at which the alert was raised")
    score: float
    above_for_s: float
    message: str


class LiveUpdate(_Frozen):
    """The rolling state, made once a second (and at the end)."""

    elapsed_s: float = Field(description="wall-clock seconds since the session started")
    stream_time_s: float
    frames_received: int
    frames_analysed: int
    frames_dropped: int
    analysed_fps: float = Field(description="frames analysed per second, last few seconds")
    faces: list[FaceState]
    verdict: Verdict
    score: float | None
    threshold: float
    alerts: list[LiveAlert] = Field(default_factory=list, description="raised since the last "
                                                                       "update")
    alerting: list[int] = Field(default_factory=list, description="faces in alert now")


class LiveSummary(_Frozen):
    """How a session ended, beside its saved ``Analysis``."""

    source: str
    ended: str = Field(description="why it ended, in plain words")
    error: bool = Field(False, description="it ended on a stream problem")
    elapsed_s: float
    frames_received: int
    frames_analysed: int
    frames_dropped: int
    alerts: list[LiveAlert]
    verdict: Verdict
    score: float | None
