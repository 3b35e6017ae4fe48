"""Where results go, by URL through fsspec: JSONL (one line per file) or Parquet.

A local JSONL file is appended to line by line (flushed and synced: a killed driver
loses at most the line it was writing, and a torn last line is cut off when the run is
started again). Parquet files cannot be appended to, so ``--format parquet`` writes a
folder of part files, each written whole under a temporary name and then renamed (on
object stores, where an object appears only when complete, under its final name); JSONL
to a non-local URL is written the same way, as parts. Rows waiting for their part are
redone after a kill, never written twice."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator

import fsspec

from fakelens.batch.records import COLUMNS, doc_key, flat_row

PART_ROWS = 200  # rows per part file (the most a killed run has to redo)


def _is_local(fs) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


class JsonlFile:
    """A local JSONL file, appended to."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._repair()
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def _repair(self) -> None:
        """Cut a torn last line (the driver killed while writing it)."""
        if not os.path.exists(path := self.path) or os.path.getsize(path) == 0:
            return
        with open(path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
            size = fh.seek(0, os.SEEK_END)
            pos = size
            while pos > 0:
                step = min(65536, pos)
                fh.seek(pos - step)
                chunk = fh.read(step)
                nl = chunk.rfind(b"\n")
                if nl >= 0:
                    fh.truncate(pos - step + nl + 1)
                    return
                pos -= step
            fh.truncate(0)

    def existing(self) -> Iterator[dict]:
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def write(self, doc: dict) -> None:
        self._fh.write(json.dumps(doc) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


class PartFolder:
    """A folder of part files (Parquet, or JSONL on a non-local file system)."""

    def __init__(self, url: str, fmt: str, part_rows: int = PART_ROWS):
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.fmt, self.part_rows = fmt, part_rows
        self.suffix = ".parquet" if fmt == "parquet" else ".jsonl"
        self.fs.makedirs(self.root, exist_ok=True)
        self._rows: list[dict] = []
        self._run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self._n = 0

    def _parts(self) -> list[str]:
        try:
            names = self.fs.ls(self.root, detail=False)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.rsplit("/", 1)[-1].startswith("part-")
                      and n.endswith(self.suffix))

    def existing(self) -> Iterator[dict]:
        for part in self._parts():
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                with self.fs.open(part, "rb") as fh:
                    table = pq.read_table(fh, columns=["file", "size", "mtime"])
                for row in table.to_pylist():
                    yield {"file": row["file"],
                           "batch": {"size": row["size"], "mtime": row["mtime"]}}
            else:
                with self.fs.open(part, "rt", encoding="utf-8") as fh:
                    for line in fh:
                        if line.strip():
                            yield json.loads(line)

    def write(self, doc: dict) -> None:
        self._rows.append(flat_row(doc) if self.fmt == "parquet" else doc)
        if len(self._rows) >= self.part_rows:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        name = f"{self.root.rstrip('/')}/part-{self._run}-{self._n:05d}{self.suffix}"
        target = f"{name}.tmp" if _is_local(self.fs) else name
        with self.fs.open(target, "wb") as fh:
            if self.fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pylist(self._rows, schema=_schema()), fh)
            else:
                fh.write("".join(json.dumps(r) + "\n" for r in self._rows).encode())
        if target != name:
            self.fs.mv(target, name)
        self._rows, self._n = [], self._n + 1

    def close(self) -> None:
        self.flush()


def _schema():
    import pyarrow as pa

    types = {"file": pa.string(), "size": pa.int64(), "mtime": pa.float64(),
             "sha256": pa.string(), "verdict": pa.string(), "score": pa.float64(),
             "detector_scores": pa.string(), "faces": pa.int32(), "frames": pa.int32(),
             "seconds": pa.float64(), "error_type": pa.string(), "error": pa.string()}
    return pa.schema([(c, types[c]) for c in COLUMNS])


def open_sink(url: str, fmt: str):
    """The sink for ``--out url`` in ``fmt`` ('jsonl' or 'parquet')."""
    if fmt not in ("jsonl", "parquet"):
        raise ValueError(f"unknown format {fmt!r}")
    fs, path = fsspec.core.url_to_fs(url)
    if fmt == "jsonl" and _is_local(fs):
        return JsonlFile(path)
    return PartFolder(url, fmt)


__all__ = ["JsonlFile", "PartFolder", "open_sink", "doc_key"]
