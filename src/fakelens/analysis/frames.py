"""The per-frame work shared by files and live sources: find the faces in a frame, crop
each in every geometry the detectors need, score crops, and turn a face track's scores into
one score per detector. ``analyze_detailed`` and ``fakelens.live`` both go through here,
so a frame is treated the same whichever way it arrives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fakelens.analysis import verdict as vd
from fakelens.config import Settings
from fakelens.faces import crop_face
from fakelens.faces.detector import FaceDetection, FaceDetector
from fakelens.faces.regions import cut_region
from fakelens.faces.tracking import FrameLook, frame_look
from fakelens.models.registry import default_detector_names
from fakelens.models.runtime import Detector, FrameOutputs, load_detector


class Geometry(NamedTuple):
    """What a detector is given of a face: the aligned face crop of ``scale`` times the
    box, cut at ``source`` pixels, and of it ``region`` (faces/regions.py) at ``size``
    pixels. A whole-face detector's crop is made at its input size directly."""

    scale: float
    size: int
    region: str = "face"
    source: int = 0  # side of the face crop a region is cut from (0: the whole face)


@dataclass
class PreparedFrame:
    """One frame's faces and their crops (per face: geometry -> RGB crop), and what the
    tracker compares of it (``faces.tracking.frame_look``)."""

    index: int
    timestamp_s: float
    faces: list[FaceDetection]
    crops: list[dict[Geometry, np.ndarray]]
    look: FrameLook


def load_detectors(kind: str, model: str | None, settings: Settings) -> list[Detector]:
    """``model`` (one installed detector, or several separated by commas), or the shipped
    defaults for this kind of media ('video' or 'image')."""
    names = [n.strip() for n in model.split(",") if n.strip()] if model else \
        default_detector_names(kind)
    detectors = [load_detector(n, settings.intra_op_threads) for n in names]
    return [d for d in detectors if kind in d.config.applies_to] or detectors


def uncertain_floor(detectors: list[Detector]) -> float | None:
    """The lowest calibrated lower edge of the uncertain band among the detectors (None:
    none widens it): a score any of them would not call "no sign" is not called so."""
    return min((d.config.uncertain_from for d in detectors
                if d.config.uncertain_from is not None), default=None)


def geometry(det: Detector) -> Geometry:
    c = det.config
    if c.region == "face":
        return Geometry(c.crop_scale, c.input_size)
    return Geometry(c.crop_scale, c.input_size, c.region, c.region_source_size)


def crop_geometries(rgb: np.ndarray, face: FaceDetection, geometries
                    ) -> dict[Geometry, np.ndarray]:
    """One face's crop in each geometry; a region is cut from the face crop of its source
    size (made once, shared by the regions and a whole-face detector of that size) by the
    function training cuts it with (``faces.regions.cut_region``)."""
    faces: dict[tuple[float, int], np.ndarray] = {}

    def face_crop(scale: float, size: int) -> np.ndarray:
        if (scale, size) not in faces:
            faces[scale, size] = crop_face(rgb, face.box, face.landmarks, scale=scale,
                                           size=size)
        return faces[scale, size]

    return {g: face_crop(g.scale, g.size) if g.region == "face" else
            cut_region(face_crop(g.scale, g.source), g.region, g.size) for g in geometries}


class FrameWork:
    """Face detection and cropping for a fixed set of detectors."""

    def __init__(self, detectors: list[Detector], face_detector: FaceDetector):
        if not detectors:
            raise ValueError("at least one detector")
        self.detectors = detectors
        self.face_detector = face_detector
        self.geometries = sorted({geometry(d) for d in detectors})

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        return self.face_detector.detect(rgb)

    def crop(self, rgb: np.ndarray, faces: list[FaceDetection]) -> list[dict[Geometry, np.ndarray]]:
        return [crop_geometries(rgb, f, self.geometries) for f in faces]

    def look(self, rgb: np.ndarray, faces: list[FaceDetection]) -> FrameLook:
        """What the tracker compares of the frame: the same for files and live frames."""
        return frame_look(rgb, faces)

    def prepare(self, index: int, timestamp_s: float, rgb: np.ndarray) -> PreparedFrame:
        faces = self.detect(rgb)
        return PreparedFrame(index, timestamp_s, faces, self.crop(rgb, faces),
                             self.look(rgb, faces))

    def score(self, crops: list[dict[Geometry, np.ndarray]]) -> dict[str, FrameOutputs]:
        """Every detector's outputs for these faces' crops (detector name -> outputs)."""
        if not crops:
            return {}
        return {d.config.name: d.score_frames([c[geometry(d)] for c in crops])
                for d in self.detectors}


def track_model_score(det: Detector, probs, embeddings: np.ndarray) -> tuple[float, float | None]:
    """One detector's score for a face track (its frames' probabilities and embeddings in
    time order): the robust mean, combined with the temporal head where there is one.
    Returns (score, temporal score)."""
    temporal = det.score_track(embeddings)
    return vd.combine_track(vd.robust_mean(probs), temporal), temporal
