"""What the public landing page shows: the installed detectors' model cards (measured
accuracy is read from them, never written into a template) and a sample result."""

from __future__ import annotations

from pydantic import BaseModel

from fakelens import __version__
from fakelens.models.pretrained import MeasuredAccuracy, MeasuredBlindSpots
from fakelens.types import (
    Analysis,
    Box,
    FrameScore,
    MediaInfo,
    ModelInfo,
    ModelScore,
    StageTimings,
    Track,
    Verdict,
)


class DetectorCard(BaseModel):
    name: str
    version: str
    task: str
    description: str
    applies_to: list[str]
    accuracy: list[MeasuredAccuracy]  # per kind of media: videos, still photos
    blind_spots: list[MeasuredBlindSpots] = []  # per kind of media measured on
    uncertain_from: float | None = None


def detector_cards() -> list[DetectorCard]:
    """The shipped detectors installed here, defaults first."""
    from fakelens.models.registry import DEFAULT_DETECTORS, installed_detectors

    installed = installed_detectors()
    names = [n for n in DEFAULT_DETECTORS if n in installed]
    names += sorted(n for n in installed if n not in names)
    return [DetectorCard(name=c.name, version=c.version, task=c.task,
                         description=c.description, applies_to=list(c.applies_to),
                         accuracy=c.accuracy_by_media(),
                         blind_spots=c.blind_spots_by_media(),
                         uncertain_from=c.uncertain_from)
            for c in (installed[n].config for n in names)]


def sample_analysis(cards: list[DetectorCard]) -> Analysis | None:
    """An illustrative result (made-up scores, real detector names): what a result page
    says for a photo that two detectors read differently."""
    if not cards:
        return None
    scores = [0.56, 0.31][:len(cards)]
    models = [ModelInfo(name=c.name, version=c.version, task=c.task, threshold=0.5)
              for c in cards[:len(scores)]]
    frames = [FrameScore(frame_index=0, timestamp_s=0.0, box=Box(x=0, y=0, w=160, h=160),
                         landmarks=[], detector_confidence=0.9, score=scores[0])]
    track = Track(track_id=0, frames=frames, frame_score=scores[0],
                  model_scores=[ModelScore(model=m.name, score=s)
                                for m, s in zip(models, scores, strict=True)],
                  score=max(scores), decisive=True)
    return Analysis(
        fakelens_version=__version__, verdict=Verdict.UNCERTAIN, score=max(scores),
        threshold=0.5, uncertain_band=0.1,
        uncertain_from=min((c.uncertain_from for c in cards if c.uncertain_from is not None),
                           default=None),
        reason="1 face found; face 1 scored 0.56: a score too close to the threshold to call.",
        media=MediaInfo(path="sample.jpg", kind="image", format="jpeg", size_bytes=1,
                        sha256="0" * 64, width=640, height=360),
        tracks=[track], models=models, face_detector="yunet", frames_sampled=1,
        sampling="still", timings=StageTimings(), created_at="")
