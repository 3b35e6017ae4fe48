"""Identical media reuses its earlier analysis (issue 26): when a user's analysis is of a
file (an upload, or a link's download) with the same sha256 as one of their own earlier,
finished analyses, with the same options, the earlier result is taken instead of running
the detectors again.

Whose analyses count: only the user's own, live ones (not in the trash). Analyses shared
on the forum are not reused for other users: another user's analysis page, report and
images are private to its owner (the forum shows a frozen snapshot), and the answer
"this file was analysed before" would tell a user what someone else had checked.

Which results count: finished (``done``) with the same options (detector choice; frame
count for a video), made by this fakelens version with the detectors now installed (a
result of an older version or of retrained weights is not reused), and whose report is
still stored. The new analysis gets a copy of the earlier one's files (report and
images, hard links where the file system allows) so that each stands alone: deleting one
leaves the other whole. Its result is the earlier one's, naming this analysis' file (and,
for a link, this link: ``provenance.source``); its HTML/PDF report is the earlier one's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fakelens.db.engine import session_scope
from fakelens.db.tables import AnalysisRow, Status
from fakelens.jobs.files import remove_report_files, report_path
from fakelens.jobs.settings import JobSettings
from fakelens.types import SCHEMA_VERSION, Analysis, LinkSource

log = logging.getLogger(__name__)

CANDIDATES = 5  # the newest matching analyses looked at
CHOOSE_WEB = "the link box's \u201cWhich video\u201d number, or the API's item"
SECRET_KEYS = ("link_key",)  # per-analysis secrets in copied JSON files: made anew


def find_reusable(sessions: sessionmaker[Session], settings: JobSettings,
                  row: AnalysisRow) -> tuple[AnalysisRow, Analysis] | None:
    """The newest earlier analysis whose result ``row`` may take (see the module's
    docstring), with that result; None if there is none."""
    if not row.media_sha256:
        return None
    query = (select(AnalysisRow)
             .where(AnalysisRow.user_id == row.user_id,
                    AnalysisRow.public_id != (row.public_id or ""),
                    AnalysisRow.media_sha256 == row.media_sha256,
                    AnalysisRow.status == Status.DONE, AnalysisRow.result_json.is_not(None),
                    AnalysisRow.deleted_at.is_(None),
                    AnalysisRow.model.is_(None) if row.model is None
                    else AnalysisRow.model == row.model)
             .order_by(AnalysisRow.finished_at.desc(), AnalysisRow.id.desc())
             .limit(CANDIDATES))
    if row.media_kind == "video":  # frames mean nothing to an image or an audio file
        query = query.where(AnalysisRow.frames == row.frames)
    with session_scope(sessions) as s:
        candidates = list(s.scalars(query).all())
        s.expunge_all()
    for earlier in candidates:
        result = _current(earlier)
        if result is not None and report_path(settings, earlier.public_id).is_file():
            return earlier, result
    return None


def _current(earlier: AnalysisRow) -> Analysis | None:
    """The earlier result, if this fakelens and its detectors would make it again."""
    from fakelens import __version__
    from fakelens.models.registry import installed_detectors

    try:
        result = Analysis.model_validate_json(earlier.result_json or "")
    except ValueError:
        return None
    if result.schema_version != SCHEMA_VERSION or result.fakelens_version != __version__:
        return None
    versions = {name: d.config.version for name, d in installed_detectors().items()}
    used = [(m.name, m.version) for m in result.models]
    if result.audio is not None and result.audio.model is not None:
        from fakelens.audio.model import installed_voice_detectors

        voices = {name: cfg.version for name, cfg in installed_voice_detectors().items()}
        if voices.get(result.audio.model.name) != result.audio.model.version:
            return None
    if any(versions.get(name) != version for name, version in used):
        return None
    return result


def reuse(settings: JobSettings, row: AnalysisRow, earlier: AnalysisRow, result: Analysis,
          source: LinkSource | None) -> Analysis:
    """Give ``row`` the earlier analysis' files and its result, naming ``row``'s file (and
    link). Sets ``row.reused_from``. Nothing is left half-copied if it fails."""
    from fakelens.fetch.context import with_source, without_source

    try:
        copy_files(settings, earlier.public_id, row.public_id)
    except BaseException:
        remove_report_files(settings, row.public_id)
        raise
    result = without_source(result)
    result = result.model_copy(update={"media": result.media.model_copy(
        update={"path": row.filename})})
    if source is not None:
        result = with_source(result, source, source.url, CHOOSE_WEB)
    row.reused_from = earlier.public_id
    log.info("analysis %s: the result of %s is reused (same file and options)",
             row.public_id, earlier.public_id)
    return result


def copy_files(settings: JobSettings, from_id: str, to_id: str) -> list[Path]:
    """Copy an analysis' stored files (its report and every ``<id>-...`` image or index)
    under another analysis' id; returns the new files."""
    folder = report_path(settings, from_id).parent
    sources = [report_path(settings, from_id), *sorted(folder.glob(f"{from_id}-*"))]
    made = []
    for path in sources:
        if not path.is_file():
            continue
        target = folder / (to_id + path.name[len(from_id):])
        target.unlink(missing_ok=True)
        if path.suffix == ".json":
            target.write_text(_fresh_secrets(path.read_text(encoding="utf-8")),
                              encoding="utf-8")
        else:
            try:
                os.link(path, target)  # the same bytes: no second copy on disk
            except OSError:
                shutil.copyfile(path, target)
        made.append(target)
    return made


def _fresh_secrets(text: str) -> str:
    """A copied JSON index with its per-analysis secrets made anew (a secret that signs
    one analysis' public links must not sign another's)."""
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict) and any(k in data for k in SECRET_KEYS):
            for key in SECRET_KEYS:
                if key in data:
                    data[key] = secrets.token_hex(32)
            return json.dumps(data)
    return text
