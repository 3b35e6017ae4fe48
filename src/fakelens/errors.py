"""One exception hierarchy for fakelens.

The CLI maps these to exit codes and the web layer to HTTP status codes, so every
error a user can cause is a ``FakeLensError`` with a message meant for that user.
"""

from __future__ import annotations

import re


class FakeLensError(Exception):
    """Base class of every error fakelens raises on purpose."""

    exit_code = 1
    http_status = 400


class MediaError(FakeLensError):
    """The input file cannot be analysed."""

    exit_code = 3
    http_status = 422


class MediaNotFound(MediaError):
    exit_code = 2
    http_status = 404


class EmptyMedia(MediaError):
    """Zero-byte file."""


class UnsupportedMedia(MediaError):
    """Not an image or video fakelens can read (text file, audio only, unknown codec)."""

    http_status = 415


class CorruptMedia(MediaError):
    """Recognised container or image format, but the data is damaged or truncated."""


class MediaTooLarge(MediaError):
    """Too many pixels (decompression bomb) or too big a file."""

    http_status = 413


class StreamError(MediaError):
    """A live source (camera, stream, file played live) that cannot be opened, stalls,
    stops or sends data that cannot be decoded. The live analysis ends with a summary."""


class LinkError(MediaError):
    """A link (URL) whose media cannot be fetched: the message says why in plain words.
    Exit code 3 like any unusable media (a refused address included)."""


class LinkRefused(LinkError):
    """Not fetched on purpose: not http(s), or the host is a private, loopback, link-local
    or metadata address (``FAKELENS_FETCH_ALLOW_PRIVATE=1`` allows private ones)."""

    http_status = 403


class LinkUnsupported(LinkError):
    """No video behind the link (a page without one, an unsupported site, a private,
    deleted or geo-blocked video, a login wall)."""


class LinkTooLarge(LinkError):
    """Over the size or duration cap, or an endless (live) stream."""

    http_status = 413


class LinkTimeout(LinkError):
    """The site did not answer, or the download took longer than allowed."""

    http_status = 504


class LiveLimit(FakeLensError):
    """Too many live sessions at once (for this user or for the server)."""

    http_status = 429


class ModelError(FakeLensError):
    exit_code = 4
    http_status = 503


class ModelMissing(ModelError):
    """A model file is not installed (and could not be downloaded)."""


class ModelIntegrityError(ModelError):
    """A model file does not match its recorded sha256."""


class UnknownModel(ModelError):
    http_status = 400


class ServiceUnavailable(FakeLensError):
    """The database or the job queue cannot be reached right now (try again shortly)."""

    http_status = 503


class StorageFull(FakeLensError):
    """No space left for an upload (or its results) on the server's disk."""

    http_status = 507


class ConfigError(FakeLensError):
    exit_code = 5
    http_status = 500


class BatchError(ConfigError):
    """A batch run that cannot start as asked, e.g. ``--gpus`` on a Ray cluster with fewer
    GPUs (exit code 5, like any set-up the run cannot work with)."""


class CalibrationError(ConfigError):
    """A detector that cannot be calibrated on its calibration set, e.g. one that ranks it
    below chance: a fit would squeeze every score to one value (exit code 5)."""


class ReportError(FakeLensError):
    """A report cannot be written (unknown format, unwritable path, no PDF engine)."""


class ProvenanceError(FakeLensError):
    """Provenance data (content credentials, metadata) that cannot be read. An analysis never
    fails for it: the message goes into the result's provenance ``problems``."""

    exit_code = 3
    http_status = 422


class ManifestError(ProvenanceError):
    """A C2PA manifest is present but damaged, truncated or malformed."""


class MetadataError(ProvenanceError):
    """A metadata block (EXIF, XMP, IPTC, PNG text, container tags) is damaged or hostile."""


class ForumError(FakeLensError):
    """Something the forum refuses: the message says what and why."""

    exit_code = 6


class InvalidPost(ForumError):
    """A title, body, tag or form value the forum cannot take as it is."""

    http_status = 400


class NotAllowed(ForumError):
    """The user's role or standing does not allow this (or the user is silenced)."""

    http_status = 403


class NotFound(ForumError):
    """No such topic, post, category or member (or not visible to this user)."""

    exit_code = 2
    http_status = 404


class PostingLimit(ForumError):
    """A new account's daily limit of topics or replies is used up."""

    http_status = 429


# what the web pages and the API say for unusable files: the decoder's own words (PyAV,
# Pillow) help in the server log, not the person who uploaded
_PLAIN = (
    (EmptyMedia, "the file is empty (0 bytes)."),
    (UnsupportedMedia, "this is not a video or image that fakelens can read. Try an MP4, "
                       "MOV, WebM, AVI or MKV video, or a JPEG, PNG, WebP or HEIC image."),
    (CorruptMedia, "the file is damaged or incomplete, so it could not be read. Try the "
                   "original file rather than a copy or a partial download."),
)


def error_code(exc: BaseException) -> str:
    """The stable code of an error in API bodies and stored jobs:
    ``UnsupportedMedia`` -> ``unsupported_media``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def sentence(text: str) -> str:
    """Capitalised (unless it starts with a file name) and ending with a full stop: one
    casing for every error shown."""
    text = text.strip()
    if not text:
        return text
    if not text.split(" ", 1)[0].endswith(":"):  # "clip.mp4: ..." keeps the name's case
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def user_message(exc: FakeLensError, filename: str | None = None,
                 own: str | None = None) -> str:
    """The message shown for ``exc``: plain words for unusable media (naming the file),
    else ``own`` (default: the exception's message) as a sentence."""
    for cls, text in _PLAIN:
        if isinstance(exc, cls):
            return f"{filename}: {text}" if filename else sentence(text)
    return sentence(str(exc) if own is None else own)
