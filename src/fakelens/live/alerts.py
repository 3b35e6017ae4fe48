"""The alert rule: a face whose rolling score stays at or above the threshold for
``after_s`` seconds of stream time raises one alert; it re-arms once the score falls below
the threshold again."""

from __future__ import annotations

from fakelens.live.models import LiveAlert
from fakelens.live.tracker import LiveTrack


class AlertRule:
    def __init__(self, threshold: float, after_s: float):
        if after_s < 0:
            raise ValueError("the alert delay cannot be negative")
        self.threshold = threshold
        self.after_s = after_s

    def check(self, track: LiveTrack, score: float, now_s: float) -> LiveAlert | None:
        """Update ``track``'s alert state with its newest rolling score."""
        if score < self.threshold:
            track.above_since, track.alerted = None, False
            return None
        if track.above_since is None:
            track.above_since = now_s
        above = now_s - track.above_since
        if track.alerted or above < self.after_s:
            return None
        track.alerted = True
        return LiveAlert(track_id=track.track_id, timestamp_s=now_s, score=score,
                         above_for_s=above,
                         message=f"ALERT: face {track.track_id + 1} has scored {score:.2f} "
                                 f"(threshold {self.threshold:.2f}) for {above:.1f} s")

    def above_for(self, track: LiveTrack, now_s: float) -> float:
        return 0.0 if track.above_since is None else now_s - track.above_since
