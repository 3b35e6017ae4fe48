"""Dense 468-point face mesh (MediaPipe's landmark model through OpenCV's TFLite reader).

Used by training to draw face-shaped blend masks; analysis does not need it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fakelens.faces.crops import crop_matrix

MESH_INPUT = 192
MESH_CROP_SCALE = 1.6  # the landmark model expects a face with a margin around it


class FaceMesh:
    def __init__(self, model_path: Path):
        self._net = cv2.dnn.readNetFromTFLite(str(model_path))
        self._outputs = self._net.getUnconnectedOutLayersNames()

    def landmarks(self, rgb: np.ndarray, box, five_points: np.ndarray) -> np.ndarray:
        """468 (x, y) points in the pixels of ``rgb``."""
        m = crop_matrix(box, five_points, MESH_CROP_SCALE, MESH_INPUT)
        crop = cv2.warpAffine(rgb, m, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        blob = cv2.dnn.blobFromImage(crop.astype(np.float32) / 255.0)
        self._net.setInput(blob)
        out = self._net.forward(self._outputs)[0]
        pts = out.reshape(-1, 3)[:, :2]
        inv = cv2.invertAffineTransform(m)
        return (pts @ inv[:, :2].T + inv[:, 2]).astype(np.float32)
