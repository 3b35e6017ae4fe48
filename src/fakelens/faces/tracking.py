"""Associate per-frame detections into face tracks (one track per person)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fakelens.faces.detector import FaceDetection


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
              min_affinity: float = 0.05) -> list[tuple[int, int]]:
    """(previous index, detection index) pairs: greedy, best affinity first. Used by
    ``track_faces`` (files) and the live tracker alike."""
    pairs = sorted(((_affinity(p, d), ti, di) for ti, p in enumerate(previous)
                    for di, d in enumerate(detections)), reverse=True)
    used_t, used_d, out = set(), set(), []
    for score, ti, di in pairs:
        if score < min_affinity or ti in used_t or di in used_d:
            continue
        used_t.add(ti)
        used_d.add(di)
        out.append((ti, di))
    return out


def track_faces(per_frame: list[list[FaceDetection]], *, min_affinity: float = 0.05,
                max_gap: int = 4) -> list[FaceTrack]:
    """Greedy association, best pairs first; a track may miss up to ``max_gap`` frames."""
    tracks: list[FaceTrack] = []
    last_seen: dict[int, int] = {}
    for pos, detections in enumerate(per_frame):
        live = [t for t in tracks if pos - last_seen[t.track_id] <= max_gap]
        used_d = set()
        for ti, di in associate([t.last for t in live], detections, min_affinity):
            used_d.add(di)
            live[ti].faces.append(TrackedFace(pos, detections[di], di))
            last_seen[live[ti].track_id] = pos
        for di, det in enumerate(detections):
            if di not in used_d:
                track = FaceTrack(track_id=len(tracks), faces=[TrackedFace(pos, det, di)])
                tracks.append(track)
                last_seen[track.track_id] = pos
    return tracks
