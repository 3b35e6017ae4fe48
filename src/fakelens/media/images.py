"""Still images through Pillow: EXIF orientation, decompression-bomb guard."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fakelens.errors import CorruptMedia, MediaTooLarge

MAX_IMAGE_PIXELS = 80_000_000
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO"}


def open_image(path: Path) -> Image.Image | None:
    """Open lazily (header only); None when Pillow does not recognise the content."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"{path.name}: image has too many pixels ({exc})") from exc
    except UnidentifiedImageError:
        return None
    except OSError as exc:
        raise CorruptMedia(f"{path.name}: cannot read image header ({exc})") from exc
    w, h = img.size
    if w * h > MAX_IMAGE_PIXELS:
        img.close()
        raise MediaTooLarge(
            f"{path.name}: image is {w}x{h} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels"
        )
    return img


def image_to_rgb(img: Image.Image, name: str) -> tuple[np.ndarray, int]:
    """Decode fully, honour EXIF orientation; returns (RGB array, rotation degrees)."""
    try:
        orientation = img.getexif().get(0x0112, 1)
        upright = ImageOps.exif_transpose(img)
        rgb = np.asarray(upright.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptMedia(f"{name}: image data is damaged or truncated ({exc})") from exc
    rotation = {3: 180, 6: 270, 8: 90}.get(orientation, 0)
    return rgb, rotation
