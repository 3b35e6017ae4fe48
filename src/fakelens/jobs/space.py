"""Disk space of the data dir, for the job code: how much is free, and a small reserve.

With the embedded default the database (SQLite) and the queue (SQLite) live in the data
dir, beside the uploads and the reports: when something fills that disk to the last byte,
not even "this job failed: the disk is full" can be written. A reserve file of 1 MB
is kept in the data dir (allocated, not sparse) and given up at the first write that
fails for lack of space, so that the failures are recorded and the queue can be read;
it is made again once there is room (every sweep of ``StaleSweeper``)."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

log = logging.getLogger(__name__)

RESERVE_NAME = ".space-reserve"
MAX_RESERVE_BYTES = 1024 * 1024  # a few hundred SQLite page writes


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def reserve_bytes(min_free_bytes: int) -> int:
    """The reserve for a server that refuses uploads below ``min_free_bytes``: a quarter
    of it, at most 1 MB (none when the server keeps no margin at all)."""
    return min(MAX_RESERVE_BYTES, max(0, min_free_bytes) // 4)


_lock = threading.Lock()


class SpaceReserve:
    """The reserve file of a data dir (any number of these may name the same file)."""

    def __init__(self, data_dir: Path, size: int):
        self.path, self.size = Path(data_dir) / RESERVE_NAME, size

    @property
    def held(self) -> bool:
        return self.path.is_file()

    def ensure(self) -> bool:
        """Make the reserve when it is missing and the disk has room for it and as much
        again; returns whether it is held."""
        if self.size <= 0:
            return False
        with _lock:
            if self.held:
                return True
            try:
                if free_bytes(self.path.parent) < 2 * self.size:
                    return False
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.posix_fallocate(fd, 0, self.size)
                finally:
                    os.close(fd)
            except FileExistsError:
                return True
            except OSError as exc:  # no room after all, or no fallocate: no reserve
                log.info("no space reserve in %s: %s", self.path.parent, exc)
                self.path.unlink(missing_ok=True)
                return False
        log.info("space reserve of %d kB held in %s", self.size // 1024,
                 self.path.parent)
        return True

    def release(self) -> bool:
        """Give the reserve up (the disk is full); True if there was one to give."""
        with _lock:
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
        log.warning("the disk of %s is full: its %d kB reserve was released so that "
                    "failures can be recorded; it is made again when there is room",
                    self.path.parent, self.size // 1024)
        return True
