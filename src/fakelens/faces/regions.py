"""Regions of a face crop that a detector can look at instead of the whole face.

A detector's pretrained config names its region (``region``) and the side of the face crop
the region is cut from (``region_source_size``: the size of the face caches it was trained
on). Training cuts the region from the cached face crops; analysis cuts it from the face
crop it makes of that size, with this one function, so both see the same pixels.

* ``face``: the whole face crop (every face-swap and synthetic-face detector);
* ``lower_face``: the mouth, the lower cheeks and the chin, what a lip-sync or an
  audio-driven talking head renders: the lower half of the aligned face crop (from about
  the nose tip down to the chin) and its central 70% (mouth corners and cheeks, little of
  the background beside the jaw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Region = Literal["face", "lower_face"]


@dataclass(frozen=True)
class RegionBox:
    """A region as fractions of the face crop's side (rows top..bottom, columns left..right)."""

    top: float
    bottom: float
    left: float
    right: float

    def pixels(self, side: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) pixel bounds in a crop of ``side`` pixels."""
        return (round(self.top * side), round(self.bottom * side),
                round(self.left * side), round(self.right * side))


REGION_BOXES: dict[str, RegionBox] = {
    "lower_face": RegionBox(top=0.5, bottom=1.0, left=0.15, right=0.85),
}

# how a region is named in a sentence (``fakelens models list``)
REGION_WORDS = {"face": "the whole face", "lower_face": "the mouth and lower face"}


def cut_region(face_crop: np.ndarray, region: str, size: int) -> np.ndarray:
    """The ``region`` of a square face crop, resized to ``size`` x ``size`` (area
    averaging). ``face`` returns the crop itself, untouched: whole-face detectors resize
    it as before. Works on images (H, W, 3) and masks (H, W) alike."""
    if region == "face":
        return face_crop
    box = REGION_BOXES.get(region)
    if box is None:
        raise ValueError(f"unknown face region {region!r} (one of face, "
                         f"{', '.join(REGION_BOXES)})")
    top, bottom, left, right = box.pixels(face_crop.shape[0])
    part = np.ascontiguousarray(face_crop[top:bottom, left:right])
    if part.shape[:2] == (size, size):
        return part
    return cv2.resize(part, (size, size), interpolation=cv2.INTER_AREA)
