"""Uploads: the multipart body is streamed to a temporary file in the data dir (size
limit enforced while it arrives, sha256 computed on the way), its type is detected from
its content (``fakelens.media.probe``), and it is kept under its sha256, never under the
name the client sent."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from fakelens.db.tables import AnalysisRow
from fakelens.errors import EmptyMedia, FakeLensError, MediaTooLarge
from fakelens.forum.shares import unshare_all
from fakelens.jobs.files import blob_path, remove_report_files
from fakelens.web.errors import ApiError
from fakelens.web.settings import WebSettings
from fakelens.web.storage import TEMP_PREFIX, check_space

log = logging.getLogger(__name__)

FILE_FIELD = "file"
_MAX_FIELD_BYTES = 4096
_MAX_FIELDS = 16
_MAX_HEADER_BYTES = 64 * 1024
# one lock per process around "store blob + insert row" and "delete row + unlink blob"
_blob_lock = threading.Lock()


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    tmp_path: Path | None = None
    filename: str = "upload"
    size: int = 0
    sha256: str = ""

    def discard(self) -> None:
        if self.tmp_path is not None:
            self.tmp_path.unlink(missing_ok=True)
            self.tmp_path = None


MAX_NAME = 200


def display_name(raw: str | None) -> str:
    """A harmless label from the client's file name (shown, never used as a path); a long
    name is shortened in the middle, keeping its extension."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if stem and len(ext) <= 10 else ""
        name = name[:MAX_NAME - len(ext) - 1].rstrip() + "…" + ext
    return name or "upload"


class _Receiver:
    """python-multipart callbacks: one file part streamed to disk, small text fields."""

    def __init__(self, settings: WebSettings, out: ParsedUpload):
        self.settings, self.out = settings, out
        self.limit = settings.max_upload_bytes
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._field_data = bytearray()
        self._fh = None
        self._hash = hashlib.sha256()
        self.pending: list[bytes] = []  # file data to write (outside the event loop)
        self.complete = False  # the closing boundary arrived

    def callbacks(self) -> dict:
        return {"on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end, "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
                "on_headers_finished": self.on_headers_finished, "on_end": self.on_end}

    def on_end(self) -> None:
        self.complete = True

    def on_part_begin(self) -> None:
        self._headers, self._name, self._is_file = {}, None, False
        self._field_data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = b"filename" in options
        if self._is_file:
            if self._name != FILE_FIELD or self.out.tmp_path is not None:
                raise ApiError(400, "invalid_upload",
                               f"send exactly one file, in the form field '{FILE_FIELD}'")
            self.out.filename = display_name(options[b"filename"].decode("utf-8", "replace"))
            fd, tmp = tempfile.mkstemp(dir=self.settings.tmp_dir, prefix=TEMP_PREFIX)
            self._fh = os.fdopen(fd, "wb")
            self.out.tmp_path = Path(tmp)
        elif len(self.out.fields) >= _MAX_FIELDS:
            raise ApiError(400, "invalid_upload", "too many form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            self._field_data += chunk
            if len(self._field_data) > _MAX_FIELD_BYTES:
                raise ApiError(400, "invalid_upload", f"form field '{self._name}' is too long")
            return
        self.out.size += len(chunk)
        if self.out.size > self.limit:
            raise MediaTooLarge(f"{self.out.filename}: the file is larger than the "
                                f"{self.settings.max_upload_mb:g} MB upload limit")
        self._hash.update(chunk)
        self.pending.append(chunk)

    def on_part_end(self) -> None:
        if not self._is_file and self._name:
            self.out.fields[self._name] = self._field_data.decode("utf-8", "replace")

    def flush(self) -> None:
        if self._fh is not None:
            check_space(self.settings, sum(len(c) for c in self.pending))
            for chunk in self.pending:
                self._fh.write(chunk)
        self.pending.clear()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.out.sha256 = self._hash.hexdigest()


async def receive_upload(request: Request, settings: WebSettings) -> ParsedUpload:
    """Stream a multipart/form-data body to disk. Raises ``ApiError`` / ``MediaTooLarge``
    (the partial file is removed) for anything but one acceptable file."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(415, "unsupported_content_type",
                       f"send the media as multipart/form-data with the file in the field "
                       f"'{FILE_FIELD}', or a link as JSON: {{\"url\": \"https://...\"}}")
    declared = _whole_number(request.headers.get("content-length"))
    if declared is not None and declared > settings.max_upload_bytes + 65536:
        raise MediaTooLarge(f"the upload is larger than the {settings.max_upload_mb:g} MB limit")
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    check_space(settings, declared or 0)
    out = ParsedUpload()
    receiver = _Receiver(settings, out)
    # a part header holds the client's file name: allow long ones (shortened for display)
    parser = MultipartParser(params[b"boundary"], receiver.callbacks(),
                             max_header_size=_MAX_HEADER_BYTES)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.pending:
                await run_in_threadpool(receiver.flush)
        parser.finalize()
        receiver.close()
        if not receiver.complete:
            raise ApiError(400, "invalid_upload", "the upload was cut short (incomplete "
                           "multipart body)")
    except BaseException as exc:
        receiver.close()
        out.discard()
        if isinstance(exc, FakeLensError | ApiError):
            raise
        if isinstance(exc, Exception) and not isinstance(exc, OSError):
            log.info("unreadable multipart body: %s", exc)
            raise ApiError(400, "invalid_upload", "The upload could not be read (malformed "
                           "form data). Please try again.") from exc
        raise
    if out.tmp_path is None:
        raise ApiError(400, "no_file", f"no file was sent (form field '{FILE_FIELD}')")
    if out.size == 0:
        out.discard()
        raise _named(EmptyMedia(f"{out.filename}: file is empty (0 bytes)"), out.filename)
    return out


def _named(exc: FakeLensError, filename: str) -> FakeLensError:
    """``exc`` knowing the client's file name (error messages name it in plain words)."""
    exc.filename = filename
    return exc


def probe_upload(upload: ParsedUpload):
    """``fakelens.media.probe`` on the received file, and its data checked to the end (a
    cut image or video is refused now, not in its job); errors name the client's file."""
    from fakelens.media import probe
    from fakelens.media.integrity import check_whole

    assert upload.tmp_path is not None
    try:
        info = probe(upload.tmp_path, allow_audio=True)
        check_whole(upload.tmp_path, info)
        return info
    except FakeLensError as exc:
        message = str(exc).replace(str(upload.tmp_path), upload.filename)
        message = message.replace(upload.tmp_path.name, upload.filename)
        upload.discard()
        raise _named(type(exc)(message), upload.filename) from None


def store_blob(settings: WebSettings, upload: ParsedUpload) -> None:
    """Move the received file to its content address (or drop it: already stored)."""
    assert upload.tmp_path is not None
    target = blob_path(settings, upload.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        upload.discard()
    else:
        os.replace(upload.tmp_path, target)
        upload.tmp_path = None


def delete_analysis(db: Session, settings: WebSettings, row: AnalysisRow) -> None:
    """Remove an analysis and, unless another analysis uses the same content, its file."""
    with _blob_lock:
        sha = row.media_sha256
        remove_report_files(settings, row.public_id)
        unshare_all(db, settings, row)  # its shared snapshots lose their media too
        db.delete(row)
        db.flush()
        others = db.scalar(select(func.count()).select_from(AnalysisRow)
                           .where(AnalysisRow.media_sha256 == sha))
        db.commit()
        if not others and sha:  # a saved live check has no file ("")
            with contextlib.suppress(FileNotFoundError):
                blob_path(settings, sha).unlink()


def _whole_number(text: str | None) -> int | None:
    """``text`` as a whole number when it is one written in ASCII digits, else None
    ("²" and "٣" pass ``str.isdigit`` but are no such number: int() fails or reads them)."""
    return int(text) if text and text.isascii() and text.isdigit() else None


def _options(fields: dict[str, str], settings: WebSettings) -> tuple[int, str | None]:
    raw_frames = fields.get("frames", "").strip()
    frames = settings.default_frames
    if raw_frames:
        frames = _whole_number(raw_frames)
        if frames is None or not 1 <= frames <= settings.max_frames:
            raise ApiError(422, "invalid_request",
                           f"frames must be a whole number from 1 to {settings.max_frames}")
    model = fields.get("model", "").strip() or None
    if model is not None:
        from fakelens.models.registry import get_detector

        get_detector(model)  # UnknownModel (400) / ModelMissing (503)
    return frames, model


async def accept_upload(request: Request, db: Session, user_id: int,
                        check_fields: Callable[[dict[str, str]], None] | None = None
                        ) -> AnalysisRow:
    """Receive, check, store and queue one upload; returns the new (queued) analysis.
    ``check_fields`` sees the form's text fields first (pages check their CSRF token)."""
    settings: WebSettings = request.app.state.settings
    upload = await receive_upload(request, settings)
    try:
        if check_fields is not None:
            check_fields(upload.fields)
        frames, model = _options(upload.fields, settings)
        info = await run_in_threadpool(probe_upload, upload)
        row = await run_in_threadpool(_store_and_insert, db, settings, upload, AnalysisRow(
            user_id=user_id, filename=upload.filename, media_sha256=upload.sha256,
            media_size=upload.size, media_kind=info.kind, frames=frames, model=model))
    finally:
        upload.discard()
    try:
        await run_in_threadpool(request.app.state.enqueue, row.public_id)
    except Exception:  # the row is queued: the sweeper enqueues it again
        log.exception("analysis %s: the job queue is unavailable", row.public_id)
    return row


def _store_and_insert(db: Session, settings: WebSettings, upload: ParsedUpload,
                      row: AnalysisRow) -> AnalysisRow:
    with _blob_lock:  # (taken in a worker thread, never across an await)
        store_blob(settings, upload)
        db.add(row)
        db.commit()
    return row
