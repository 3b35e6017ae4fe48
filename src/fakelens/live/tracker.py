"""Faces followed across live frames: the association of ``fakelens.faces.tracking``
applied one frame at a time, with its rule against joining faces across a scene cut (the
cuts found from the frames before alone: a live frame cannot wait for the next); each face
keeps a rolling window (its recent scores and embeddings, for the rolling score) and a
bounded, evenly thinned history (what the saved analysis keeps: boxes, scores, a few crops
and activation maps)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from fakelens.faces.detector import FaceDetection
from fakelens.faces.tracking import FrameLook, LiveShots, associate, link_level

MAX_GAP = 4  # frames a face may be missed and still keep its track (as for files)


@dataclass
class Observation:
    """One face in one analysed frame."""

    frame_index: int
    timestamp_s: float
    detection: FaceDetection
    probs: dict[str, float]  # detector name -> probability of fake
    embeddings: dict[str, np.ndarray]
    crops: dict[str, np.ndarray] | None = None  # only in the history
    cams: dict[str, np.ndarray] | None = None

    @property
    def score(self) -> float:
        return max(self.probs.values())


@dataclass
class LiveTrack:
    track_id: int
    window_len: int
    history_cap: int
    last: FaceDetection
    last_pos: int
    last_look: FrameLook | None = None  # the frame of ``last`` as the tracker compares it
    last_face: int = 0  # ``last``'s position among that frame's faces
    last_shot: int = 0
    seen: int = 0
    above_since: float | None = None  # stream time since the rolling score is above
    alerted: bool = False
    window: deque[Observation] = field(default_factory=deque)
    history: list[Observation] = field(default_factory=list)
    _stride: int = 1

    def add(self, obs: Observation, pos: int) -> None:
        """Record ``obs``; crops and maps are kept only for the history's frames."""
        self.last, self.last_pos = obs.detection, pos
        light = Observation(obs.frame_index, obs.timestamp_s, obs.detection, obs.probs,
                            obs.embeddings)
        self.window.append(light)
        while len(self.window) > self.window_len:
            self.window.popleft()
        if self.seen % self._stride == 0:
            self.history.append(obs)
            if len(self.history) >= 2 * self.history_cap:  # thin out: every other one
                self.history = self.history[::2]
                self._stride *= 2
        self.seen += 1


class LiveTracker:
    """Online tracking with the file pipeline's association and gap rule."""

    def __init__(self, window_len: int = 16, history_cap: int = 96, max_tracks: int = 32):
        self.window_len = window_len
        self.history_cap = history_cap
        self.max_tracks = max_tracks
        self.tracks: list[LiveTrack] = []
        self._next_id = 0
        self._shots = LiveShots()

    def active(self, pos: int) -> list[LiveTrack]:
        return [t for t in self.tracks if pos - t.last_pos <= MAX_GAP]

    def assign(self, pos: int, detections: list[FaceDetection],
               look: FrameLook | None = None) -> list[LiveTrack]:
        """The track of each detection of frame ``pos`` (new tracks for new faces). With
        ``look`` (``faces.tracking.frame_look`` of the frame), no track continues across a
        scene cut or to a face that looks different after a large change of picture."""
        live = self.active(pos)
        link = None
        if look is not None:
            shot = self._shots.add(look)

            def link(ti: int, di: int) -> int:
                t = live[ti]
                return 2 if t.last_look is None else link_level(
                    t.last_look, t.last_face, look, di, t.last_shot != shot)
        out: list[LiveTrack | None] = [None] * len(detections)
        for ti, di in associate([t.last for t in live], detections, link=link):
            out[di] = live[ti]
        for di, det in enumerate(detections):
            if out[di] is None:
                track = LiveTrack(self._next_id, self.window_len, self.history_cap, det, pos)
                self._next_id += 1
                self.tracks.append(track)
                out[di] = track
        if look is not None:
            for di, track in enumerate(out):
                track.last_look, track.last_face, track.last_shot = look, di, shot
        self._forget(pos)
        return out  # type: ignore[return-value]

    def _forget(self, pos: int) -> None:
        """Bounded memory: past ``max_tracks``, the shortest finished tracks go first."""
        if len(self.tracks) <= self.max_tracks:
            return
        finished = sorted((t for t in self.tracks if pos - t.last_pos > MAX_GAP),
                          key=lambda t: t.seen)
        for t in finished[:len(self.tracks) - self.max_tracks]:
            self.tracks.remove(t)
