"""Leading bytes of the media containers fakelens reads. A file that starts like one of
them but cannot be opened is damaged (truncated, corrupt), not of an unknown kind: the
readers of video, images and audio all say so with this one table."""

from __future__ import annotations

from pathlib import Path

# (offset, magic, name)
SIGNATURES = (
    (4, b"ftyp", "MP4/MOV/M4A"),
    (4, b"moov", "MP4/MOV"),
    (4, b"mdat", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (8, b"AVI ", "AVI"),
    (0, b"FLV\x01", "FLV"),
    (0, b"GIF8", "GIF"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"\xff\xd8\xff", "JPEG"),
    (8, b"WEBP", "WebP"),
    (8, b"WAVE", "WAV"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "Ogg"),
    (0, b"ID3", "MP3"),
    (0, b"\xff\xfb", "MP3"),
    (0, b"\xff\xf3", "MP3"),
    (0, b"\xff\xf1", "AAC"),
)


def known_signature(path: Path) -> str | None:
    """The container ``path`` starts like, or None (also when it cannot be read)."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    return next((name for offset, magic, name in SIGNATURES
                 if head[offset:offset + len(magic)] == magic), None)
