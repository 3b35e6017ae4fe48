"""How hard a JPEG was compressed, read from its quantisation tables.

A JPEG's luminance quantisation table says how coarsely the encoder rounded the picture's
detail. Most encoders (libjpeg / libjpeg-turbo behind Pillow, OpenCV, ImageMagick, GIMP,
browsers, and the re-encoders of messengers and social sites) scale the sample table of
the JPEG standard (ITU-T T.81 Annex K, table K.1) by the IJG quality rule: quality q in
1..100 gives a scaling percentage of 5000 / q below 50 and 200 - 2q from 50 up, each entry
(base * scaling + 50) // 100 clamped to 1..255. Inverting that rule gives the quality the
file was saved at: the quality whose scaled table lies closest to the file's own.

Only JPEG (and MPO, a JPEG with extra pictures) carries such tables in a form Pillow
exposes (``Image.quantization``, natural order). Other formats get no estimate
(``None``): PNG, BMP and TIFF are lossless as stored (a PNG may hold a picture that was a
JPEG once, which its pixels alone do not reveal); WebP, HEIC / HEIF and AVIF are lossy, but
their quantisers are not JPEG tables and Pillow does not expose them, so no figure and no
warning is derived from them. An encoder with tables of its own (some cameras and phones)
gets the IJG quality nearest to its table: an equivalent, not the setting it used.
"""

from __future__ import annotations

from functools import cache

from PIL import Image

# ITU-T T.81 Annex K, table K.1 (luminance), natural (row-major) order
_BASE_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)
JPEG_FORMATS = {"JPEG", "MPO"}


def ijg_scaling(quality: int) -> int:
    """The IJG rule's scaling percentage of a quality (1..100)."""
    q = min(max(int(quality), 1), 100)
    return 5000 // q if q < 50 else 200 - 2 * q


@cache
def ijg_luminance_table(quality: int) -> tuple[int, ...]:
    """The luminance table an IJG encoder writes at ``quality`` (baseline: 1..255)."""
    scale = ijg_scaling(quality)
    return tuple(min(max((b * scale + 50) // 100, 1), 255) for b in _BASE_LUMINANCE)


def quality_from_table(table: list[int] | tuple[int, ...]) -> int | None:
    """The IJG quality (1..100) whose luminance table is closest to ``table`` (64 entries,
    natural order; summed absolute difference, the higher quality on a tie); None for a
    table that is not 64 entries."""
    if len(table) != 64:
        return None
    values = [int(v) for v in table]
    return min(range(100, 0, -1), key=lambda q: sum(
        abs(a - b) for a, b in zip(values, ijg_luminance_table(q), strict=True)))


def jpeg_quality(img: Image.Image) -> int | None:
    """The estimated JPEG quality (1..100) of an opened image, from its luminance table
    (the first the file defines, table 0); None for any other format (see the module's
    docstring: PNG, WebP, HEIC, AVIF, ...) or a JPEG without tables Pillow read."""
    if (img.format or "").upper() not in JPEG_FORMATS:
        return None
    tables = getattr(img, "quantization", None) or {}
    if not tables:
        return None
    return quality_from_table(list(tables[min(tables)]))
