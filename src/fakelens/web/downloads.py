"""File downloads: the name a download is saved under, in any script.

HTTP headers are Latin-1 at best, and an uploaded file's name can be in any script. Every
download route builds its ``Content-Disposition`` with ``attachment_headers``: RFC 6266's
``filename="..."`` holds an ASCII stand-in for old clients, and RFC 5987's
``filename*=UTF-8''...`` the name itself, percent-encoded (what browsers use)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

STEM_CHARS = 80  # at most this much of the uploaded name goes into a download's name
FALLBACK_STEM = "download"
# a character kept in a download's stem: letters, combining marks (Devanagari, Thai ...),
# digits, other symbols (emoji); punctuation, spaces and controls become "_"
_KEPT = ("L", "M", "N", "So")
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RFC5987_SAFE = "!#$&+.^_`|~-"  # attr-char of RFC 5987 besides letters and digits


def download_stem(filename: str) -> str:
    """The uploaded file's name as part of a download's name: its letters and digits in
    any script, every other character (dots, spaces, slashes, quotes) as ``_``."""
    return "".join(c if c in "-_" or unicodedata.category(c).startswith(_KEPT) else "_"
                   for c in filename)[:STEM_CHARS]


def _ascii_name(filename: str) -> str:
    """An ASCII stand-in: accents dropped ("café" -> "cafe"), every other character
    outside ``[A-Za-z0-9._-]`` (a whole run of them) as one ``_``."""
    letters = "".join(unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
                      or "\0" for c in filename if not unicodedata.combining(c))
    name = _NOT_ASCII_SAFE.sub("_", letters)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if not any(c.isalnum() for c in stem):
        stem = FALLBACK_STEM
    return stem + dot + ext


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value for ``filename`` that is plain ASCII: the name as
    is when it is safe ASCII, else an ASCII stand-in plus ``filename*`` (RFC 5987)."""
    fallback = _ascii_name(filename)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe=_RFC5987_SAFE)}"
    return header


def attachment_headers(filename: str) -> dict[str, str]:
    """The headers of a response that downloads as ``filename``."""
    return {"Content-Disposition": content_disposition(filename)}
