"""A finished live session as a normal ``Analysis`` (with its evidence for reports): each
face's kept history is scored by the same track rule and the verdict by the same
``decide`` as a file, so the saved session gets the timeline, key faces and reports of any
analysis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from fakelens import __version__
from fakelens.analysis import verdict as vd
from fakelens.analysis.caveats import caveat_lines
from fakelens.analysis.pipeline import DetailedAnalysis, TrackEvidence
from fakelens.live.analyser import LiveAnalyser
from fakelens.live.models import LiveSummary
from fakelens.types import (
    Analysis,
    Box,
    FrameScore,
    LiveSource,
    MediaInfo,
    ModelInfo,
    ModelScore,
    StageTimings,
    Track,
    Verdict,
)


def _frame_score(obs) -> FrameScore:
    x, y, w, h = obs.detection.box
    return FrameScore(frame_index=obs.frame_index, timestamp_s=obs.timestamp_s,
                      box=Box(x=x, y=y, w=w, h=h),
                      landmarks=[(float(a), float(b)) for a, b in obs.detection.landmarks],
                      detector_confidence=obs.detection.score, score=obs.score)


def build_analysis(an: LiveAnalyser, *, received: int, dropped: int, ended: str,
                   label: str | None = None, source: str | None = None) -> DetailedAnalysis:
    """The session so far as an analysis; ``label`` names the source in the result (the
    web app passes a neutral name, never a device path), ``source`` what was watched
    ('camera', 'shared screen or window'; default: the analyser's source). No file is
    kept: the result has no size and no SHA-256, and no provenance (not applicable)."""
    label = label or an.source
    kept = [t for t in an.tracker.tracks if t.history]
    tracks: list[Track] = []
    evidence: dict[int, TrackEvidence] = {}
    votes = []
    for t in sorted(kept, key=lambda t: t.track_id):
        scores = an.model_scores(t, t.history)
        deciding = max(scores, key=scores.get)
        temporal = [d.score_track(_emb(t.history, d.config.name)) for d in an.detectors]
        temporal = [x for x in temporal if x is not None]
        track_id = len(tracks)
        frame_probs = [o.score for o in t.history]
        tracks.append(Track(
            track_id=track_id, frames=[_frame_score(o) for o in t.history],
            frame_score=vd.robust_mean(frame_probs),
            temporal_score=max(temporal) if temporal else None,
            model_scores=[ModelScore(model=n, score=s) for n, s in scores.items()],
            score=max(scores.values()), decisive=True))
        evidence[track_id] = TrackEvidence(crops=[o.crops[deciding] for o in t.history],
                                           cams=[o.cams[deciding] for o in t.history])
        votes.append(vd.TrackVote(t.seen, scores))
    decision = vd.decide(votes, an.analysed, an.threshold, an.options.uncertain_band,
                         an.uncertain_from)
    min_len = vd.min_track_length(an.analysed)
    tracks = [tr.model_copy(update={"decisive": v.length >= min_len})
              for tr, v in zip(tracks, votes, strict=True)]
    reason = vd.explain(decision, [[(f.timestamp_s, f.score) for f in tr.frames]
                                   for tr in tracks], [tr.score for tr in tracks],
                        an.threshold, True)
    elapsed = time.monotonic() - an.started
    warnings = [f"live session: {ended}"]
    if dropped:
        warnings.append(f"{dropped} of {received} frames arrived while the previous one was "
                        "still being analysed and were skipped (newest frame wins)")
    if any(t.seen > len(t.history) for t in kept):
        warnings.append("long faces are kept at evenly spaced frames in this result; their "
                        "scores and the verdict come from those frames")
    if an.work.face_detector.is_fallback:
        warnings.append("no face detector was available: the centre of each frame was "
                        "analysed as one face")
    media = MediaInfo(
        path=label, kind="video", format="live", size_bytes=None, sha256=None,
        width=an.width, height=an.height, codec=None,
        fps=an.analysed / elapsed if elapsed > 0 else None,
        duration_s=an.stream_time_s, frame_count=an.analysed,
        live=LiveSource(source=source or an.source, duration_s=max(elapsed, 0.0)))
    busy = an.busy_s
    analysis = Analysis(
        fakelens_version=__version__, verdict=decision.verdict, score=decision.score,
        threshold=an.threshold, uncertain_band=an.options.uncertain_band,
        uncertain_from=an.uncertain_from, reason=reason,
        media=media, tracks=tracks,
        models=[ModelInfo(name=d.config.name, version=d.config.version, task=d.config.task,
                          threshold=d.config.threshold) for d in an.detectors],
        face_detector=an.work.face_detector.name, frames_sampled=an.analysed,
        sampling=f"live: {an.analysed} frames analysed of {received} received",
        warnings=warnings, provenance=None,
        timings=StageTimings(detect_s=busy["detect"], crop_s=busy["crop"],
                             model_s=busy["model"], total_s=elapsed),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    analysis.caveats = caveat_lines(analysis)
    return DetailedAnalysis(analysis, evidence)


def _emb(history, name: str) -> np.ndarray:
    return np.stack([o.embeddings[name] for o in history])


def summarise(an: LiveAnalyser, analysis: Analysis, *, received: int, dropped: int,
              ended: str, error: bool) -> LiveSummary:
    return LiveSummary(source=an.source, ended=ended, error=error,
                       elapsed_s=time.monotonic() - an.started, frames_received=received,
                       frames_analysed=an.analysed, frames_dropped=dropped, alerts=an.alerts,
                       verdict=analysis.verdict if an.analysed else Verdict.NO_FACE,
                       score=analysis.score)
