"""A corpus of hostile media files made from small valid ones: truncations, bit flips,
swapped headers, wrong extensions, absurd dimensions, garbage behind magic numbers.
Deterministic (seeded), built in a temporary folder by the tests that use it."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from synthetic_media import write_video

MAGIC = {
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    "mkv": b"\x1aE\xdf\xa3",
    "png": b"\x89PNG\r\n\x1a\n",
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "avi": b"RIFF\x00\x00\x00\x00AVI LIST",
}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _huge_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (MAGIC["png"] + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def _image_bytes(fmt: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _mutations(name: str, data: bytes, rng: np.random.Generator) -> dict[str, bytes]:
    n = len(data)
    out = {
        f"{name}-truncated-1pct": data[: max(1, n // 100)],
        f"{name}-truncated-half": data[: n // 2],
        f"{name}-truncated-last-byte": data[:-1],
        f"{name}-header-only": data[:32],
        f"{name}-zeroed-middle": data[: n // 3] + bytes(n // 3) + data[2 * n // 3:],
        f"{name}-reversed": data[::-1],
        f"{name}-doubled": data + data,
    }
    for k in range(3):
        flipped = bytearray(data)
        for pos in rng.integers(0, n, size=8 * (k + 1)):
            flipped[pos] ^= 0xFF
        out[f"{name}-bitflips-{k}"] = bytes(flipped)
    return out


def build_corpus(folder: Path, seed: int = 0) -> list[Path]:
    """At least 60 hostile files in ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frames = [(rng.random((96, 128, 3)) * 255).astype(np.uint8) for _ in range(12)]
    clip = folder / "_valid.mp4"
    write_video(clip, frames, fps=12)
    sources = {"mp4": clip.read_bytes(), "png": _image_bytes("PNG", 1),
               "jpg": _image_bytes("JPEG", 2), "webp": _image_bytes("WEBP", 3)}
    clip.unlink()
    files: dict[str, bytes] = {}
    for ext, data in sources.items():
        for name, body in _mutations(ext, data, rng).items():
            files[f"{name}.{ext}"] = body
    for ext, magic in MAGIC.items():  # a valid signature, then garbage
        files[f"magic-garbage.{ext}"] = magic + rng.bytes(4096)
        files[f"magic-only.{ext}"] = magic
    files.update({
        "empty.mp4": b"",
        "one-byte.jpg": b"\xff",
        "text-as-video.mp4": b"this is not a video\n" * 100,
        "html-as-image.png": b"<html><script>alert(1)</script></html>",
        "png-named.mp4": sources["png"],
        "mp4-named.jpg": sources["mp4"],
        "huge-dimensions.png": _huge_png(200_000, 200_000),
        "zero-dimensions.png": _huge_png(0, 0),
        "nul-bytes.mkv": bytes(10_000),
        "random-noise.webm": rng.bytes(20_000),
    })
    paths = []
    for name, body in sorted(files.items()):
        path = folder / name
        path.write_bytes(body)
        paths.append(path)
    return paths
