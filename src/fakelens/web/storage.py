"""Disk space of the data dir: uploads are refused (507) before it runs out, a write that
fails for lack of space leaves nothing half-written, and upload temp files that a crash
left behind are removed (at start and periodically)."""

from __future__ import annotations

import logging
import os
import shutil
import time

from fakelens.errors import StorageFull
from fakelens.jobs.retry import is_disk_full
from fakelens.jobs.space import free_bytes
from fakelens.periodic import Periodic
from fakelens.web.settings import WebSettings

log = logging.getLogger(__name__)

__all__ = ["check_space", "free_bytes", "is_disk_full", "remove_stale_temp_files",
           "TempCleaner"]

TEMP_PREFIX = "upload-"  # the upload temp files in WebSettings.tmp_dir


def check_space(settings: WebSettings, incoming: int = 0) -> None:
    """Raise ``StorageFull`` when ``incoming`` more bytes would leave less than
    ``min_free_mb`` free in the data dir."""
    if free_bytes(settings.data_dir) - incoming < settings.min_free_bytes:
        raise StorageFull("the server is out of storage space; please try again later")


def remove_stale_temp_files(settings: WebSettings, older_than_s: float = 3600) -> int:
    """Upload temp files and link download folders not touched for ``older_than_s`` (an
    upload or a fetch cut off by a crash); returns how many were removed."""
    from fakelens.jobs.linkjob import LINK_TEMP_PREFIX

    cutoff = time.time() - older_than_s
    removed = 0
    try:
        entries = list(os.scandir(settings.tmp_dir))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith((TEMP_PREFIX, LINK_TEMP_PREFIX)):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # finished or removed meanwhile
            continue
    if removed:
        log.info("removed %d stale upload temp file(s)", removed)
    return removed


class TempCleaner(Periodic):
    """A thread that removes stale upload temp files every ``interval_s``."""

    name = "temp-cleaner"

    def __init__(self, settings: WebSettings, interval_s: float = 600,
                 older_than_s: float = 3600):
        super().__init__(interval_s)
        self.settings, self.older_than_s = settings, older_than_s

    def tick(self) -> int:
        return remove_stale_temp_files(self.settings, self.older_than_s)
