"""A media file as bytes on disk: is it a readable, non-empty regular file, and its digest.

Checked before any decoder opens it, so a directory, a named pipe or a dangling link gets a
clear error instead of a hang or a decoder's traceback."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from fakelens.errors import EmptyMedia, MediaError, MediaNotFound, UnsupportedMedia


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"))


def _not_regular(path: Path, mode: int) -> MediaError:
    what = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
    if stat.S_ISDIR(mode):
        return MediaNotFound(f"{path}: not a regular file ({what})")
    return UnsupportedMedia(f"{path}: not a regular file ({what}); save the media to a "
                            "file first")


def check_readable(path: Path) -> int:
    """The size of a readable, non-empty regular file; a ``MediaError`` otherwise. Never
    blocks: a named pipe is refused before it is opened."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        # O_NONBLOCK: if a FIFO replaced the file meanwhile, opening it does not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _not_regular(path, info.st_mode)
            size = info.st_size
            os.read(fd, 1)
        finally:
            os.close(fd)
    except MediaError:
        raise
    except FileNotFoundError as exc:
        dangling = path.is_symlink()
        raise MediaNotFound(f"{path}: " + ("symbolic link to a missing file" if dangling
                                          else "no such file")) from exc
    except PermissionError as exc:
        raise MediaNotFound(f"{path}: permission denied") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MediaNotFound(f"{path}: symbolic link loop (the link points back at "
                                "itself)") from exc
        raise MediaNotFound(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size == 0:
        raise EmptyMedia(f"{path.name}: file is empty (0 bytes)")
    return size
