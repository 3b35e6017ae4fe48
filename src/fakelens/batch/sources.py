"""What to analyse, listed lazily: local folders, any fsspec URL (``s3://...`` when s3fs is
installed) and text files of paths or URLs (``--from-list``). Everything here is a
generator: a million paths never sit in one list, only the folder being walked."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fakelens.cli import AUDIO_SUFFIXES, MEDIA_SUFFIXES

SUFFIXES = MEDIA_SUFFIXES | AUDIO_SUFFIXES


@dataclass(frozen=True)
class Item:
    """One file to analyse: its path or URL as listed, its size and modification time
    (the resume key; None when the file cannot be looked at: it gets an error line)."""

    file: str
    size: int | None
    mtime: float | None

    @property
    def key(self) -> tuple[str, int | None, float | None]:
        return (self.file, self.size, self.mtime)


def is_url(raw: str) -> bool:
    return "://" in raw and not raw.startswith("file://")


def _wanted(name: str) -> bool:
    return Path(name).suffix.lower() in SUFFIXES


def _local_item(path: str) -> Item:
    try:
        st = os.stat(path)
    except OSError:
        return Item(path, None, None)
    return Item(path, st.st_size, st.st_mtime)


def _walk_local(root: str) -> Iterator[Item]:
    """Media files under ``root``, recursively, hidden names skipped, sorted within each
    folder (stable order from run to run); one folder's names in memory at a time."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and _wanted(name):
                yield _local_item(os.path.join(folder, name))


def _mtime(info: dict) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def _url_item(fs, path: str, url: str, info: dict | None = None) -> Item:
    try:
        info = info if info is not None else fs.info(path)
    except (OSError, ValueError):
        return Item(url, None, None)
    return Item(url, info.get("size"), _mtime(info))


def _walk_url(url: str) -> Iterator[Item]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    protocol = url.split("://", 1)[0]
    if not fs.isdir(path):
        yield _url_item(fs, path, url)
        return
    for folder, dirs, files in fs.walk(path, detail=True):
        dirs_sorted = sorted(d for d in dirs if not d.startswith("."))
        for d in list(dirs):  # fsspec's walk honours pruning of the dict it yields
            if d not in dirs_sorted:
                del dirs[d]
        for name in sorted(files):
            if not name.startswith(".") and _wanted(name):
                full = f"{folder.rstrip('/')}/{name}"
                yield _url_item(fs, full, f"{protocol}://{full}", files[name])


def iter_list(list_file: str) -> Iterator[Item]:
    """One item per non-blank line of a text file of paths or URLs (``#`` comments
    skipped), read line by line (the list itself may be a URL)."""
    import fsspec

    with fsspec.open(list_file, "rt", encoding="utf-8") as fh:
        for line in fh:
            raw = line.strip()
            if raw and not raw.startswith("#"):
                yield item_for(raw)


def item_for(raw: str) -> Item:
    """A single file as given (no walking): a path or a URL."""
    if is_url(raw):
        import fsspec

        fs, path = fsspec.core.url_to_fs(raw)
        return _url_item(fs, path, raw)
    return _local_item(raw.removeprefix("file://"))


def iter_sources(sources: Iterable[str], list_files: Iterable[str] = ()) -> Iterator[Item]:
    """Every file to analyse, in order: each source (a folder walked, a file or URL as
    it is), then each list file's lines. Lazy throughout."""
    for raw in sources:
        if is_url(raw):
            yield from _walk_url(raw)
        elif os.path.isdir(raw):
            yield from _walk_local(raw)
        else:
            yield _local_item(raw.removeprefix("file://"))
    for list_file in list_files:
        yield from iter_list(list_file)
