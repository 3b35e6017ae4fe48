from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame, always RGB uint8 (H, W, 3), rotation already applied."""

    index: int
    timestamp_s: float
    rgb: np.ndarray
    snapped_to_keyframe: bool = False  # key-frame sampling moved it from its instant
