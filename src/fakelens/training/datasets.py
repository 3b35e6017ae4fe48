"""Dataset adapters: every one yields ``Item``s (path, label, group, method).

``group`` is the identity or source video: splits are made by group, never by frame.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fakelens.errors import FakeLensError

FAKE, REAL = 1, 0


@dataclass(frozen=True)
class Item:
    path: Path
    label: int
    group: str
    method: str


def _label(text: str) -> int:
    t = text.strip().upper()
    if t in ("FAKE", "1", "MANIPULATED", "SYNTHETIC"):
        return FAKE
    if t in ("REAL", "0", "PRISTINE", "ORIGINAL"):
        return REAL
    raise FakeLensError(f"unknown label {text!r} (use REAL or FAKE)")


def labelled_folder(root: Path, labels_csv: str = "labels.csv",
                    split: str | None = None) -> Iterator[Item]:
    """A folder with a CSV of ``file,label`` (optional ``method``, ``split``, ``group``)."""
    root = Path(root)
    with (root / labels_csv).open(newline="") as fh:
        for row in csv.DictReader(fh):
            if split and row.get("split") and row["split"] != split:
                continue
            path = root / row["file"]
            label = _label(row["label"])
            method = (row.get("method") or ("pristine" if label == REAL else "fake")).split(" (")[0]
            group = row.get("group") or _group_from_name(path.name, label)
            yield Item(path, label, group, method)


def _group_from_name(name: str, label: int) -> str:
    """FF++ / DFDC style names carry the source video id: keep pairs in one group."""
    stem = Path(name).stem
    parts = stem.split("_")
    if stem.startswith("ffpp_") and len(parts) >= 3:
        return "ffpp_" + (parts[-2] if label == FAKE and len(parts) >= 4 else parts[-1])
    return stem


def image_folders(root: Path) -> Iterator[Item]:
    """``real/`` and ``fake/`` sub-folders of images."""
    for sub, label in (("real", REAL), ("fake", FAKE)):
        for p in sorted((Path(root) / sub).rglob("*")):
            if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".bmp"}:
                yield Item(p, label, p.stem, sub)


def faceforensics(root: Path, split: str = "test", compression: str = "c23",
                  methods: tuple[str, ...] = ("Deepfakes", "Face2Face", "FaceSwap",
                                              "NeuralTextures")) -> Iterator[Item]:
    """FaceForensics++ with its official split lists (``splits/<split>.json``: pairs)."""
    root = Path(root)
    pairs = json.loads((root / "splits" / f"{split}.json").read_text())
    for a, b in pairs:
        for vid in (a, b):
            yield Item(root / "original_sequences" / "youtube" / compression / "videos" /
                       f"{vid}.mp4", REAL, a, "pristine")
        for method in methods:
            for tgt, src in ((a, b), (b, a)):
                yield Item(root / "manipulated_sequences" / method / compression / "videos" /
                           f"{tgt}_{src}.mp4", FAKE, a, method)


def celeb_df(root: Path) -> Iterator[Item]:
    """Celeb-DF v2 test set: ``List_of_testing_videos.txt`` lines are ``<1 real|0 fake> path``."""
    root = Path(root)
    for line in (root / "List_of_testing_videos.txt").read_text().splitlines():
        if not line.strip():
            continue
        flag, rel = line.split(maxsplit=1)
        label = REAL if flag == "1" else FAKE
        identity = Path(rel).stem.split("_")[0]
        yield Item(root / rel, label, identity, "Celeb-DF" if label else "pristine")


def dfdc(root: Path, split: str | None = None) -> Iterator[Item]:
    """DFDC parts: every ``metadata.json`` below ``root``."""
    for meta in sorted(Path(root).rglob("metadata.json")):
        for name, entry in json.loads(meta.read_text()).items():
            if split and entry.get("split") and entry["split"] != split:
                continue
            label = _label(entry["label"])
            group = entry.get("original") or name
            yield Item(meta.parent / name, label, Path(group).stem, "DFDC" if label else
                       "pristine")


def open_dataset(spec: str, split: str | None = None) -> list[Item]:
    """``PATH`` (folder with labels.csv, or real/ + fake/), or ``KIND:PATH`` with KIND in
    ffpp, celebdf, dfdc."""
    kind, _, rest = spec.partition(":") if ":" in spec and not Path(spec).exists() else (
        "", "", spec)
    path = Path(rest)
    if kind == "ffpp":
        return list(faceforensics(path))
    if kind == "celebdf":
        return list(celeb_df(path))
    if kind == "dfdc":
        return list(dfdc(path))
    if kind:
        raise FakeLensError(f"unknown dataset kind {kind!r} (ffpp, celebdf, dfdc)")
    if (path / "labels.csv").is_file():
        return list(labelled_folder(path, split=split))
    if (path / "real").is_dir() and (path / "fake").is_dir():
        return list(image_folders(path))
    raise FakeLensError(f"{path}: no labels.csv and no real/ + fake/ folders")


def split_by_group(groups: np.ndarray, val_fraction: float, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation indices; a group (identity, source video) never straddles.

    A group's side is decided by a hash of (seed, group) alone, so the split of a group
    does not depend on which other items are present: a face cache that skipped a few
    files and the full dataset split alike. With few groups the hash can put all of them
    on one side; then the group whose hash lies nearest the cut changes side, so both
    sides always hold at least one group.
    """
    def position(group: str) -> float:
        digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    names = np.unique(groups)
    if len(names) < 2:
        raise FakeLensError(f"a train / validation split needs at least two groups "
                            f"(identities or source videos); this data has {len(names)}")
    at = {g: position(str(g)) for g in names}
    decided = {g: at[g] < val_fraction for g in names}
    if not any(decided.values()):
        decided[min(names, key=at.get)] = True
    elif all(decided.values()):
        decided[max(names, key=at.get)] = False
    is_val = np.array([decided[g] for g in groups], dtype=bool)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
