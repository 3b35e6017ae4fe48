"""Still images through Pillow: EXIF orientation, decompression-bomb guard. AVIF is read
by Pillow itself, HEIC/HEIF by the ``pillow-heif`` plugin (registered on first use)."""

from __future__ import annotations

import io
import logging
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from fakelens.errors import CorruptMedia, MediaTooLarge

log = logging.getLogger(__name__)

MAX_IMAGE_PIXELS = 80_000_000
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO", "AVIF", "HEIF"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# compressed or free-text PNG chunks that Pillow refuses past its limits (ValueError)
PNG_METADATA_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"iCCP"}


@cache
def register_plugins() -> None:
    """HEIC/HEIF through pillow-heif (AVIF: Pillow's own plugin, which already decodes it)."""
    try:
        import pillow_heif
    except ImportError:  # an installation without it reads HEIC as unsupported
        return
    pillow_heif.register_heif_opener()


EXIF_DAMAGE = "fakelens_exif_damage"  # attribute of an opened image: Pillow's EXIF warnings


def exif_damage(img: Image.Image) -> list[str]:
    """What Pillow said of the image's damaged EXIF block when it opened it."""
    return list(getattr(img, EXIF_DAMAGE, []))


@contextmanager
def exif_warnings() -> Iterator[list[str]]:
    """Pillow's warnings about a damaged EXIF block ("Corrupt EXIF data. Expecting to
    read ...", warned again whenever a file's EXIF is read, and printed raw on a terminal)
    caught into the list yielded, filled when the block ends: the provenance check reports
    the damage once, in words; other readers ignore it. Other warnings pass on."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    for w in caught:
        if Path(w.filename).name == "TiffImagePlugin.py":
            found.append(str(w.message).strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def refuse_truncated_images() -> None:
    """Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is process-wide, and importing
    WeasyPrint (PDF reports) sets it: a cut image then decodes without a word, its missing
    part grey. fakelens turns it back off before it opens an image, wherever it was set."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        log.debug("ImageFile.LOAD_TRUNCATED_IMAGES was set (WeasyPrint?): turned off")
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def open_image(path: Path) -> Image.Image | None:
    """Open lazily (header only); None when Pillow does not recognise the content.

    A PNG whose text or colour-profile chunks break Pillow's limits (a decompression bomb,
    say) is opened without them, so that its pixels can still be analysed."""
    register_plugins()
    refuse_truncated_images()
    try:
        return _open(path, path.name)
    except ValueError as exc:
        with path.open("rb") as fh:
            stripped = _without_png_metadata(fh.read())
        if stripped is None:
            raise CorruptMedia(f"{path.name}: cannot read image header ({exc})") from exc
        try:
            return _open(io.BytesIO(stripped), path.name)
        except ValueError as again:
            raise CorruptMedia(f"{path.name}: cannot read image header ({again})") from again


def png_chunks(fh: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset of its data, length) of each chunk of the PNG read from ``fh``, up to
    IEND; nothing if it is not a PNG. The reader may read a chunk's data meanwhile."""
    if fh.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
        return
    while len(header := fh.read(8)) == 8:
        length, kind = struct.unpack(">I4s", header)
        start = fh.tell()
        yield kind, start, length
        if kind == b"IEND":
            return
        fh.seek(start + length + 4)  # past the data and the CRC


def _without_png_metadata(data: bytes) -> bytes | None:
    """The PNG without its PNG_METADATA_CHUNKS; None if it is not a PNG."""
    kept = [data[start - 8:start + length + 4] for kind, start, length
            in png_chunks(io.BytesIO(data)) if kind not in PNG_METADATA_CHUNKS]
    return PNG_SIGNATURE + b"".join(kept) if kept else None


def _open(source: Path | io.BytesIO, name: str) -> Image.Image | None:
    try:
        with exif_warnings() as warned, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(source)  # a JPEG's EXIF is read here (its resolution)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"{name}: image has too many pixels ({exc})") from exc
    except UnidentifiedImageError:
        return None
    except OSError as exc:
        raise CorruptMedia(f"{name}: cannot read image header ({exc})") from exc
    if warned:
        setattr(img, EXIF_DAMAGE, warned)
    w, h = img.size
    if w * h > MAX_IMAGE_PIXELS:
        img.close()
        raise MediaTooLarge(
            f"{name}: image is {w}x{h} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels"
        )
    return img


def image_to_rgb(img: Image.Image, name: str) -> tuple[np.ndarray, int]:
    """Decode fully, honour EXIF orientation; returns (RGB array, rotation degrees)."""
    refuse_truncated_images()
    try:
        with exif_warnings():
            orientation = img.getexif().get(0x0112, 1)
            upright = ImageOps.exif_transpose(img)
        rgb = np.asarray(upright.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptMedia(f"{name}: image data is damaged or truncated ({exc})") from exc
    rotation = {3: 180, 6: 270, 8: 90}.get(orientation, 0)
    return rgb, rotation
