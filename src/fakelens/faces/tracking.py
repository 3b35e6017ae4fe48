"""Associate per-frame detections into face tracks (one track per person).

Boxes link a face to the nearest one of the frame before (``associate``); but boxes alone
join two people across a scene cut when both stand at about the same place, the more so
as sampled frames are far apart. So, given what ``frame_look`` keeps of each frame (the
frame shrunk for ``media.scenes``' change measure, and each face as a grey ``LOOK`` x
``LOOK`` thumbnail of its aligned crop, zero mean and unit length), a face does not
continue a track (``link_level``)

- across a scene cut (``shots`` for files, ``LiveShots`` for live frames): a change between
  consecutive frames that is a cut by the key-frame scan's rule (``media.scenes.is_cut``:
  at least ``CUT_CHANGE`` and ``CUT_RATIO`` times the typical change around it, so fast
  motion is not a cut; a picture that comes back within ``FLASH`` frames undoes it: a
  flash), unless the two faces are the same picture (correlation at least ``ALIKE``: the
  "cut" was a change of light);
- nor, where the picture changed by at least ``CUT_CHANGE`` since the track's last face
  without a clear cut (a cut in a hand-held, flash-lit scene), to a face that does not look
  alike (correlation under ``SAME_FACE``).

The correlation ignores brightness and contrast (a flash, a light switched on), and it is
not asked at all between frames of one calm shot (talking heads, dense sampling, live
video), where pose, blur and compression alone are no reason to split. On the project's
real clips (32 frames, and 5 a second), two pictures of one person a sampled frame apart
correlated at least 0.38 (outside one hand-held, flash-lit film scene), two different
people under 0.3 about half the time and at least 0.85 under 1% of the time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from fakelens.faces.crops import crop_face
from fakelens.faces.detector import FaceDetection
from fakelens.media.scenes import CUT_CHANGE, RECENT, change, is_cut, small_hsv

LOOK = 8  # side (pixels) of the grey thumbnail a face is compared by
SAME_FACE = 0.3  # correlation of two thumbnails under which they are different people
ALIKE = 0.85  # ... and from which they are the same face in the same pose (across a cut)
FLASH = 4  # frames within which a picture that comes back undoes a cut (a flash)


@dataclass
class TrackedFace:
    frame_pos: int  # position in the list of sampled frames
    detection: FaceDetection
    index: int  # position of the detection among that frame's detections


@dataclass
class FaceTrack:
    track_id: int
    faces: list[TrackedFace] = field(default_factory=list)

    @property
    def last(self) -> FaceDetection:
        return self.faces[-1].detection


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _affinity(a: FaceDetection, b: FaceDetection) -> float:
    """IoU, or for sparse sampling (large motion) closeness of centres relative to size."""
    overlap = iou(a.box, b.box)
    if overlap > 0:
        return overlap
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    size = max(aw, ah, bw, bh)
    dist = ((ax + aw / 2 - bx - bw / 2) ** 2 + (ay + ah / 2 - by - bh / 2) ** 2) ** 0.5
    ratio = min(aw, bw) / max(aw, bw)
    return max(0.0, 0.25 * (1 - dist / (1.5 * size))) * ratio


def associate(previous: list[FaceDetection], detections: list[FaceDetection],
              min_affinity: float = 0.05, link: Callable[[int, int], int] | None = None
              ) -> list[tuple[int, int]]:
    """(previous index, detection index) pairs: greedy, best affinity first. ``link`` (all
    2 when None) ranks each pair: 0 forbidden, and the pairs of 2 (the same shot) go before
    those of 1 (across a cut). Used by ``track_faces`` (files) and the live tracker alike."""
    pairs = sorted(((link(ti, di) if link else 2, _affinity(p, d), ti, di)
                    for ti, p in enumerate(previous) for di, d in enumerate(detections)),
                   reverse=True)
    used_t, used_d, out = set(), set(), []
    for level, score, ti, di in pairs:
        if not level or score < min_affinity or ti in used_t or di in used_d:
            continue
        used_t.add(ti)
        used_d.add(di)
        out.append((ti, di))
    return out


@dataclass(frozen=True)
class FrameLook:
    """What tracking compares of a frame beyond its boxes: the frame as ``media.scenes``
    measures change (``small_hsv``), and each face's thumbnail (``face_look``), in the
    order of the frame's detections."""

    scene: np.ndarray
    faces: list[np.ndarray]


def face_look(rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
    """The face as a grey ``LOOK`` x ``LOOK`` thumbnail of its aligned crop (the box's
    size), zero mean and unit length: the dot product of two is their correlation."""
    crop = crop_face(rgb, face.box, face.landmarks, scale=1.0, size=LOOK)
    grey = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    grey = grey.ravel() - grey.mean()
    return grey / max(float(np.linalg.norm(grey)), 1e-6)


def frame_look(rgb: np.ndarray, faces: Sequence[FaceDetection]) -> FrameLook:
    return FrameLook(small_hsv(rgb), [face_look(rgb, f) for f in faces])


def shots(looks: Sequence[FrameLook]) -> list[int]:
    """The shot of each frame of a file (0, then one more at every cut). The change between
    two consecutive frames is weighed against the typical change of up to ``RECENT`` frame
    pairs around it, after as well as before: the first frames of a shaky clip have no past
    to be compared with. A picture that comes back within ``FLASH`` frames of a cut (a
    flash, a few frames long as it fades) undoes the cut and those in between."""
    changes = [change(a.scene, b.scene) for a, b in zip(looks, looks[1:], strict=False)]
    half = RECENT // 2
    cut = [is_cut(c, changes[max(0, k - half):k] + changes[k + 1:k + 1 + half])
           for k, c in enumerate(changes)]
    for k in range(len(cut)):
        if not cut[k]:
            continue
        back = next((m for m in range(min(len(looks) - 1, k + 1 + FLASH), k + 1, -1)
                     if change(looks[k].scene, looks[m].scene) < CUT_CHANGE), None)
        if back is not None:
            cut[k:back] = [False] * (back - k)
    return [0, *np.cumsum(cut, dtype=int).tolist()]


class LiveShots:
    """The shots of live frames, one frame at a time: the change is weighed against the
    ``RECENT`` changes before it, as the key-frame scan does; a picture that comes back
    within ``FLASH`` frames (after a flash) goes back to its shot."""

    def __init__(self) -> None:
        self.shot = 0
        self._shots = 0  # shot numbers given out
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._past: deque[tuple[np.ndarray, int]] = deque(maxlen=FLASH + 1)  # scene, shot

    def add(self, look: FrameLook) -> int:
        """The next frame's shot number."""
        if self._past:
            c = change(self._past[-1][0], look.scene)
            if is_cut(c, self._recent):
                self._shots += 1
                self.shot = self._shots
            self._recent.append(c)
            back = next((shot for scene, shot in list(self._past)[:-1]
                         if shot != self.shot and change(scene, look.scene) < CUT_CHANGE),
                        None)
            if back is not None:
                self.shot = back
        self._past.append((look.scene, self.shot))
        return self.shot


def link_level(then: FrameLook, face: int, now: FrameLook, detection: int,
               across_cut: bool) -> int:
    """May face ``detection`` of frame ``now`` continue the track whose last face is face
    ``face`` of an earlier frame ``then`` (``across_cut``: a scene cut lies between them)?
    0: no; 1: yes, across the cut; 2: yes, within the shot (``associate`` links those
    first: after a flash, the person's track before it rather than one begun in it).
    Across a cut only the same face in the same pose and framing (``ALIKE``: the "cut" was
    a change of light); after a large change of picture, only a face that looks alike
    (``SAME_FACE``)."""
    alike = float(then.faces[face] @ now.faces[detection])
    if across_cut:
        return 1 if alike >= ALIKE else 0
    return 2 if alike >= SAME_FACE or change(then.scene, now.scene) < CUT_CHANGE else 0


def track_faces(per_frame: list[list[FaceDetection]], *, min_affinity: float = 0.05,
                max_gap: int = 4, looks: Sequence[FrameLook] | None = None
                ) -> list[FaceTrack]:
    """Greedy association, best pairs first; a track may miss up to ``max_gap`` frames.
    With ``looks`` (``frame_look`` of each frame), no track continues across a scene cut
    (``shots``), nor to a face that looks different after a large change of picture
    (``link_level``)."""
    if looks is not None and len(looks) != len(per_frame):
        raise ValueError("one look per frame")
    tracks: list[FaceTrack] = []
    last_seen: dict[int, int] = {}
    shot_of = shots(looks) if looks is not None else []
    for pos, detections in enumerate(per_frame):
        live = [t for t in tracks if pos - last_seen[t.track_id] <= max_gap]
        link = None
        if looks is not None:

            def link(ti: int, di: int, pos: int = pos, live=live) -> int:
                then = live[ti].faces[-1]
                return link_level(looks[then.frame_pos], then.index, looks[pos], di,
                                  shot_of[then.frame_pos] != shot_of[pos])
        used_d = set()
        for ti, di in associate([t.last for t in live], detections, min_affinity, link):
            used_d.add(di)
            live[ti].faces.append(TrackedFace(pos, detections[di], di))
            last_seen[live[ti].track_id] = pos
        for di, det in enumerate(detections):
            if di not in used_d:
                track = FaceTrack(track_id=len(tracks), faces=[TrackedFace(pos, det, di)])
                tracks.append(track)
                last_seen[track.track_id] = pos
    return tracks
