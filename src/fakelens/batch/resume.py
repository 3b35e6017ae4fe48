"""What is done already: the keys (path as listed + size + mtime) of every line in the
output, held as 8-byte digests (a million files: tens of MB, never the documents).
A file is done once its line is written; a changed file (other size or mtime) is not."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from fakelens.batch.records import doc_key
from fakelens.batch.sources import Item


def _digest(key: tuple) -> int:
    file, size, mtime = key
    raw = f"{file}\0{size}\0{None if mtime is None else round(float(mtime), 3)}"
    return int.from_bytes(hashlib.blake2b(raw.encode(), digest_size=8).digest(), "big")


class ResumeIndex:
    def __init__(self, docs: Iterable[dict] = ()):
        self._done: set[int] = set()
        self.loaded = 0
        for doc in docs:
            self._done.add(_digest(doc_key(doc)))
            self.loaded += 1

    def __contains__(self, item: Item) -> bool:
        return _digest(item.key) in self._done

    def __len__(self) -> int:
        return len(self._done)

    def add(self, item: Item) -> None:
        self._done.add(_digest(item.key))

    def claim(self, item: Item) -> bool:
        """True the first time an item is seen (done or handed out): later copies of the
        same file in the listing are skipped."""
        d = _digest(item.key)
        if d in self._done:
            return False
        self._done.add(d)
        return True


def pending(items: Iterable[Item], index: ResumeIndex, skipped: list[int]) -> Iterator[Item]:
    """The items not done yet (lazily); ``skipped[0]`` counts the others."""
    for item in items:
        if index.claim(item):
            yield item
        else:
            skipped[0] += 1
