"""Square, roll-aligned face crops: one geometry for training and inference."""

from __future__ import annotations

import cv2
import numpy as np


def crop_matrix(box, landmarks: np.ndarray | None, scale: float, size: int) -> np.ndarray:
    """Affine map from frame pixels to a ``size``x``size`` crop.

    The crop is centred on the box, its side is ``scale`` times the longer box side, and
    it is rotated so that the eyes are level (when landmarks are given).
    """
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    side = max(w, h) * scale
    angle = 0.0
    if landmarks is not None:
        (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
        angle = float(np.degrees(np.arctan2(ly - ry, lx - rx)))
    m = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
    m[0, 2] += size / 2.0 - cx
    m[1, 2] += size / 2.0 - cy
    return m


def crop_face(rgb: np.ndarray, box, landmarks: np.ndarray | None, *, scale: float,
              size: int) -> np.ndarray:
    """The aligned crop (RGB uint8, ``size``x``size``); outside the frame is edge-replicated.

    The rotation is done at the face's own resolution and the shrinking by area
    averaging: a warp that also shrinks aliases, and detectors trained on blending
    artefacts are sensitive to exactly that kind of resampling trace.
    """
    native = int(round(max(box[2], box[3]) * scale))
    if native <= size:
        m = crop_matrix(box, landmarks, scale, size)
        return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    native = min(native, 4 * size)
    m = crop_matrix(box, landmarks, scale, native)
    big = cv2.warpAffine(rgb, m, (native, native), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    return pts @ m[:, :2].T + m[:, 2]
