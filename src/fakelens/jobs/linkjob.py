"""The fetch of a link's media in the analysis task (``tasks.AnalysisJob``, which this
mixin is part of): download into the data dir's tmp/, check it is media, store it under
its sha256 like an upload and name it on the row."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import func, select, update

from fakelens.db.engine import session_scope
from fakelens.db.tables import AnalysisRow, utcnow
from fakelens.errors import FakeLensError
from fakelens.jobs.files import blob_path

LINK_TEMP_PREFIX = "link-"  # a link's download folder in the data dir's tmp/


class LinkFetching:
    """``AnalysisJob``'s link fetch; uses its ``settings``, ``sessions``, ``_mine`` and
    ``_write_progress``."""

    def _fetch(self, row: AnalysisRow, progress):
        """An analysis of a link: fetch it into a folder of the data dir's tmp/, check the
        file is media (``probe``, read to the end, as uploads are at upload time), then
        store it under its sha256 as uploads are, and name it on the row (and on ``row``).
        Returns its ``LinkSource``. A fetch that fails raises its ``LinkError`` (plain
        words) and leaves nothing: the folder goes whatever happens. A job run again
        (interrupted after the fetch) uses the stored file."""
        from fakelens.fetch.context import display_name, link_source
        from fakelens.fetch.download import fetch_link
        from fakelens.jobs.tasks import Cancelled, HandedBack
        from fakelens.media import probe
        from fakelens.media.integrity import check_whole
        from fakelens.types import LinkSource

        if row.source_json and row.media_sha256 and \
                blob_path(self.settings, row.media_sha256).is_file():
            return LinkSource.model_validate_json(row.source_json)
        interrupted: list[BaseException] = []

        def download(stage: str, fraction: float) -> None:
            try:
                progress("downloading", fraction)
            except (Cancelled, HandedBack) as exc:  # yt-dlp would make it a failed fetch
                interrupted.append(exc)
                raise

        progress("downloading", 0.0)
        self.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=LINK_TEMP_PREFIX, dir=self.settings.tmp_dir))
        try:
            url, item = row.source_url or "", row.source_item or 1
            try:
                fetched = fetch_link(url, folder, self.settings, item=item, progress=download)
            except FakeLensError:
                if interrupted:
                    raise interrupted[0] from None
                raise
            progress("downloading", 1.0)
            source = link_source(url, fetched.info, fetched.sha256, fetched.size_bytes,
                                 item, fetched.items, fetched.entries)
            name = display_name(source, fetched.path.suffix)[:255]
            try:
                info = probe(fetched.path, allow_audio=True)
                check_whole(fetched.path, info)
            except FakeLensError as exc:
                row.filename = name
                message = str(exc).replace(str(fetched.path), name)
                raise type(exc)(message.replace(fetched.path.name, name)) from None
            # the row names the file first, then the file is put in place: a delete of
            # another analysis of the same content in between sees this one and keeps it
            self._name_fetched(row, fetched.sha256, fetched.size_bytes, info.kind, name,
                               source.model_dump_json())
            target = blob_path(self.settings, fetched.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(fetched.path, target)  # same content if already there
            try:
                self._write_progress(row.public_id, "downloading", 30, row.attempts)
            except Cancelled:  # deleted meanwhile: its file goes unless another uses it
                self._drop_unused_blob(fetched.sha256)
                raise
            return source
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _name_fetched(self, row: AnalysisRow, sha256: str, size: int, kind: str, name: str,
                      source_json: str) -> None:
        from fakelens.jobs.tasks import Cancelled

        with session_scope(self.sessions) as s:
            written = s.execute(
                update(AnalysisRow).where(*self._mine(row.public_id, row.attempts))
                .values(media_sha256=sha256, media_size=size, media_kind=kind, filename=name,
                        source_json=source_json, updated_at=utcnow()))
            if written.rowcount != 1:
                raise Cancelled(row.public_id)
        row.media_sha256, row.media_size, row.media_kind = sha256, size, kind
        row.filename, row.source_json = name, source_json

    def _drop_unused_blob(self, sha256: str) -> None:
        with session_scope(self.sessions) as s:
            users = s.scalar(select(func.count()).select_from(AnalysisRow)
                             .where(AnalysisRow.media_sha256 == sha256))
        if not users:
            blob_path(self.settings, sha256).unlink(missing_ok=True)
