"""The live analyser: each frame goes through the shared per-frame work (faces, crops,
detector scores), faces are tracked, and the rolling state (each face's score over its
last frames, the current verdict by the one verdict rule, alerts) is made on demand."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from fakelens.analysis import verdict as vd
from fakelens.analysis.frames import (
    FrameWork,
    geometry,
    load_detectors,
    track_model_score,
    uncertain_floor,
)
from fakelens.config import Settings, get_settings
from fakelens.faces import load_face_detector
from fakelens.live.alerts import AlertRule
from fakelens.live.models import FaceState, FrameResult, LiveAlert, LiveUpdate
from fakelens.live.tracker import LiveTrack, LiveTracker, Observation
from fakelens.media.frames import Frame
from fakelens.types import Box


@dataclass(frozen=True)
class LiveOptions:
    model: str | None = None
    threshold: float | None = None
    uncertain_band: float = vd.DEFAULT_BAND
    alert_after_s: float = 3.0
    window: int = 16  # frames behind a face's rolling score
    history_cap: int = 96  # frames per face kept for the saved analysis (evenly thinned)


def _box(det) -> Box:
    x, y, w, h = det.box
    return Box(x=x, y=y, w=w, h=h)


class LiveAnalyser:
    """Not thread-safe: one thread feeds frames and asks for updates."""

    def __init__(self, source: str, options: LiveOptions | None = None,
                 settings: Settings | None = None):
        self.source = source
        self.options = options or LiveOptions()
        self.settings = settings or get_settings()
        detectors = load_detectors("video", self.options.model, self.settings)
        self.work = FrameWork(detectors, load_face_detector(self.settings))
        self.threshold = (self.options.threshold if self.options.threshold is not None
                          else detectors[0].config.threshold)
        self.uncertain_from = uncertain_floor(detectors)
        self.rule = AlertRule(self.threshold, self.options.alert_after_s)
        self.tracker = LiveTracker(self.options.window, self.options.history_cap)
        self.started = time.monotonic()
        self.analysed = 0
        self.stream_time_s = 0.0
        self.width = self.height = 0
        self.alerts: list[LiveAlert] = []
        self.busy_s = {"detect": 0.0, "crop": 0.0, "model": 0.0}
        self._new_alerts: list[LiveAlert] = []
        self._recent: deque[float] = deque(maxlen=64)  # wall times of analysed frames
        self._faces: list[FaceState] = []

    @property
    def detectors(self):
        return self.work.detectors

    def analyse(self, frame: Frame) -> FrameResult:
        t0 = time.perf_counter()
        pos = self.analysed
        faces = self.work.detect(frame.rgb)
        t1 = time.perf_counter()
        crops = self.work.crop(frame.rgb, faces)
        t2 = time.perf_counter()
        outs = self.work.score(crops)
        t3 = time.perf_counter()
        self.busy_s["detect"] += t1 - t0
        self.busy_s["crop"] += t2 - t1
        self.busy_s["model"] += t3 - t2
        tracks = self.tracker.assign(pos, faces, self.work.look(frame.rgb, faces))
        states = []
        for i, (face, track) in enumerate(zip(faces, tracks, strict=True)):
            names = [d.config.name for d in self.detectors]
            obs = Observation(
                frame.index, frame.timestamp_s, face,
                probs={n: float(outs[n].probs[i]) for n in names},
                embeddings={n: np.array(outs[n].embeddings[i]) for n in names},
                crops={d.config.name: crops[i][geometry(d)] for d in self.detectors},
                cams={n: np.array(outs[n].cams[i]) for n in names})
            track.add(obs, pos)
            score = self.rolling_score(track)
            alert = self.rule.check(track, score, frame.timestamp_s)
            if alert:
                self.alerts.append(alert)
                self._new_alerts.append(alert)
            states.append(FaceState(track_id=track.track_id, box=_box(face),
                                    frame_score=obs.score, score=score, frames=track.seen,
                                    above_for_s=self.rule.above_for(track, frame.timestamp_s),
                                    alert=track.alerted))
        self.analysed += 1
        self.stream_time_s = frame.timestamp_s
        self.height, self.width = frame.rgb.shape[:2]
        self._recent.append(time.monotonic())
        seen = {s.track_id for s in states}
        for track in self.tracker.active(pos):
            if track.track_id not in seen:  # missed in this frame, still followed
                states.append(FaceState(track_id=track.track_id, score=self.rolling_score(track),
                                        frames=track.seen, alert=track.alerted,
                                        above_for_s=self.rule.above_for(track,
                                                                        frame.timestamp_s)))
        self._faces = states
        return FrameResult(frame_index=frame.index, timestamp_s=frame.timestamp_s,
                           width=self.width, height=self.height, faces=states,
                           analysis_s=time.perf_counter() - t0)

    def model_scores(self, track: LiveTrack, observations) -> dict[str, float]:
        """Each detector's track score over ``observations`` (the shared track rule)."""
        out = {}
        for det in self.detectors:
            name = det.config.name
            probs = [o.probs[name] for o in observations]
            emb = np.stack([o.embeddings[name] for o in observations])
            out[name] = track_model_score(det, probs, emb)[0]
        return out

    def rolling_score(self, track: LiveTrack) -> float:
        return max(self.model_scores(track, track.window).values())

    def analysed_fps(self) -> float:
        now = time.monotonic()
        recent = [t for t in self._recent if now - t <= 3.0]
        if len(recent) < 2:
            return float(len(recent))
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])

    def update(self, received: int, dropped: int) -> LiveUpdate:
        """The rolling state now: the verdict is the one rule applied to the faces followed
        now, each over its rolling window."""
        active = self.tracker.active(self.analysed - 1)
        votes = [vd.TrackVote(len(t.window), self.model_scores(t, t.window)) for t in active]
        decision = vd.decide(votes, min(self.analysed, self.options.window), self.threshold,
                             self.options.uncertain_band, self.uncertain_from)
        alerts, self._new_alerts = self._new_alerts, []
        active_ids = {t.track_id for t in active}
        return LiveUpdate(
            elapsed_s=time.monotonic() - self.started, stream_time_s=self.stream_time_s,
            frames_received=received, frames_analysed=self.analysed, frames_dropped=dropped,
            analysed_fps=self.analysed_fps(),
            faces=[f for f in self._faces if f.track_id in active_ids],
            verdict=decision.verdict, score=decision.score, threshold=self.threshold,
            alerts=alerts, alerting=[t.track_id for t in active if t.alerted])
