"""The one place where numbers become a verdict.

* a track's frame score is a robust (trimmed) mean of its per-frame probabilities;
* with a temporal head, the track score is the mean of that and the head's probability;
* with several detectors, the most suspicious one decides for each track;
* the media score is the most suspicious decisive track (long enough to matter);
* scores within ``band`` of the threshold are UNCERTAIN, and so are scores above the
  threshold that another detector contradicts, unless they clear the band twice over;
* below the threshold the band can reach further down (``uncertain_from``, calibrated per
  detector): where many fakes score low, a low score is not called "no sign" either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fakelens.types import ScoreBand, Verdict

DEFAULT_BAND = 0.1
TRIM = 0.2


def robust_mean(probs) -> float:
    """Mean after dropping the lowest and highest ``TRIM`` share (outlier frames)."""
    p = np.sort(np.asarray(probs, dtype=np.float64))
    if len(p) == 0:
        raise ValueError("no scores")
    k = int(math.floor(len(p) * TRIM)) if len(p) >= 5 else 0
    return float(p[k:len(p) - k].mean())


def combine_track(frame_score: float, temporal_score: float | None) -> float:
    return frame_score if temporal_score is None else (frame_score + temporal_score) / 2.0


def min_track_length(frames_sampled: int) -> int:
    """Tracks shorter than this (spurious detections, passers-by) do not decide."""
    if frames_sampled <= 2:
        return 1
    return max(2, math.ceil(0.2 * frames_sampled))


@dataclass(frozen=True)
class TrackVote:
    length: int
    model_scores: dict[str, float]  # detector name -> track score from that detector

    @property
    def score(self) -> float:
        return max(self.model_scores.values())


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    score: float | None
    deciding_track: int | None
    contradicted: bool
    contradicted_by: tuple[str, ...] = ()  # detectors below the band on the deciding track
    widened: bool = False  # UNCERTAIN only because the band reaches below threshold - band


def decide(tracks: list[TrackVote], frames_sampled: int, threshold: float,
           band: float = DEFAULT_BAND, uncertain_from: float | None = None) -> Decision:
    if not tracks:
        return Decision(Verdict.NO_FACE, None, None, False)
    min_len = min_track_length(frames_sampled)
    candidates = [i for i, t in enumerate(tracks) if t.length >= min_len]
    if not candidates:
        candidates = [max(range(len(tracks)), key=lambda i: tracks[i].length)]
    best = max(candidates, key=lambda i: tracks[i].score)
    evidence = tracks[best]
    score = evidence.score
    contradicted_by = tuple(m for m, s in evidence.model_scores.items()
                            if score >= threshold and s < threshold - band)
    contradicted = bool(contradicted_by)
    low = ScoreBand.around(threshold, band, uncertain_from).low
    if abs(score - threshold) < band or (contradicted and score < threshold + 2 * band) \
            or low <= score < threshold:
        verdict = Verdict.UNCERTAIN
    elif score >= threshold:
        verdict = Verdict.FAKE
    else:
        verdict = Verdict.REAL
    widened = verdict is Verdict.UNCERTAIN and score < threshold - band
    return Decision(verdict, score, best, contradicted, contradicted_by, widened)


def clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def explain(decision: Decision, per_track_frames: list[list[tuple[float, float]]],
            scores: list[float], threshold: float, is_video: bool) -> str:
    """Plain words derived only from the numbers. ``per_track_frames`` holds
    (timestamp, probability) per frame of each track."""
    if decision.verdict is Verdict.NO_FACE:
        return "No face was found, so nothing could be checked for manipulation."
    n = len(scores)
    above = sum(s >= threshold for s in scores)
    faces = f"{n} face{'s' if n != 1 else ''} found"
    if n > 1:
        faces += f", {above} scored at or above the threshold {threshold:.2f}"
    i = decision.deciding_track
    frames = per_track_frames[i]
    high = [(t, p) for t, p in frames if p >= threshold]
    detail = f"face {i + 1} scored {scores[i]:.2f}"
    if is_video:
        detail += f"; {len(high)} of its {len(frames)} frames scored {threshold:.2f} or more"
        if high:
            detail += f", between {clock(high[0][0])} and {clock(high[-1][0])}"
    wording = {
        Verdict.FAKE: "signs of manipulation",
        Verdict.REAL: "no sign of manipulation found by these detectors (not a proof of "
                      "authenticity)",
        Verdict.UNCERTAIN: "a score too close to the threshold to call",
    }[decision.verdict]
    if decision.widened:
        wording = ("a score in the lower part of the uncertain band, where these detectors "
                   "leave many deepfakes: not enough to call it manipulated, too much "
                   "to say no sign was found")
    if decision.verdict is Verdict.UNCERTAIN and decision.contradicted_by:
        wording = (f"contradicted by {', '.join(decision.contradicted_by)}, which scored "
                   f"below the uncertain band: too uncertain to call")
    return f"{faces}; {detail}: {wording}."
