"""Face detection with five landmarks (YuNet through OpenCV), plus a no-download fallback."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from fakelens.config import Settings
from fakelens.errors import FakeLensError
from fakelens.models import store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaceDetection:
    """A face in frame pixels: box (x, y, w, h), landmarks (5, 2) in YuNet's order
    (right eye, left eye, nose tip, right mouth corner, left mouth corner), score."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float


class FaceDetector(Protocol):
    name: str
    is_fallback: bool

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]: ...


class YuNetDetector:
    """OpenCV's ``FaceDetectorYN``; frames are scaled to ``max_side`` for speed."""

    is_fallback = False

    def __init__(self, model_path, *, score_threshold: float = 0.7, max_side: int = 640,
                 min_face_px: int = 40, max_faces: int = 8):
        self.name = f"yunet ({model_path.name})"
        self._model_path = str(model_path)
        self._score_threshold = score_threshold
        self._max_side = max_side
        self._min_face_px = min_face_px
        self._max_faces = max_faces
        self._local = threading.local()  # cv2 detectors are not thread-safe

    def _detector(self):
        det = getattr(self._local, "det", None)
        if det is None:
            det = cv2.FaceDetectorYN.create(self._model_path, "", (320, 320),
                                            self._score_threshold, 0.3, 5000)
            self._local.det = det
        return det

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self._max_side / max(h, w))
        small = rgb if scale == 1.0 else cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA)
        bgr = np.ascontiguousarray(small[:, :, ::-1])
        det = self._detector()
        det.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = det.detect(bgr)
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, bw, bh = (float(v) / scale for v in row[:4])
            if max(bw, bh) < self._min_face_px:
                continue
            landmarks = row[4:14].reshape(5, 2).astype(np.float32) / scale
            faces.append(FaceDetection((x, y, bw, bh), landmarks, float(row[14])))
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return faces[: self._max_faces]


class CentreFallbackDetector:
    """Used only when no face model can be had: treats the central square as one face.

    It cannot tell whether a face is present, so results made with it say so.
    """

    name = "fallback: centre crop (no face detector installed)"
    is_fallback = True

    def __init__(self, reason: str = ""):
        self.reason = reason  # why the real detector could not be loaded

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        h, w = rgb.shape[:2]
        side = 0.6 * min(h, w)
        x, y = (w - side) / 2, (h - side) / 3
        lm = np.array([[x + 0.3 * side, y + 0.4 * side], [x + 0.7 * side, y + 0.4 * side],
                       [x + 0.5 * side, y + 0.6 * side], [x + 0.35 * side, y + 0.8 * side],
                       [x + 0.65 * side, y + 0.8 * side]], dtype=np.float32)
        return [FaceDetection((x, y, side, side), lm, 0.0)]


_cache: dict[tuple, FaceDetector] = {}
_cache_lock = threading.Lock()


def load_face_detector(settings: Settings, *, allow_fallback: bool | None = None
                       ) -> FaceDetector:
    """The configured detector (cached per process). When the model file is missing,
    ``ModelMissing`` (a verdict on the frame centre is no verdict on a face), unless the
    fallback is asked for (``allow_fallback``, default ``settings.face_fallback``)."""
    if allow_fallback is None:
        allow_fallback = settings.face_fallback
    key = (settings.face_model, str(settings.model_dir), settings.face_score_threshold,
           settings.detect_max_side, settings.min_face_px, settings.max_faces_per_frame,
           allow_fallback)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        try:
            path = store.resolve(settings.face_model, settings.model_dir, settings.allow_download)
            detector: FaceDetector = YuNetDetector(
                path, score_threshold=settings.face_score_threshold,
                max_side=settings.detect_max_side, min_face_px=settings.min_face_px,
                max_faces=settings.max_faces_per_frame)
        except FakeLensError as exc:
            if not allow_fallback:
                raise
            log.warning("%s; using the centre-crop fallback", exc)
            detector = CentreFallbackDetector(reason=str(exc))
        _cache[key] = detector
        return detector
