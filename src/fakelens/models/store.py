"""Model files that are not shipped in the wheel: known URLs, sha256, a local store.

The store is ``FAKELENS_MODEL_DIR`` (default: the user's cache dir). Files are looked up
as ``<dir>/<subdir>/<file>`` and ``<dir>/<file>``, so the store can also point at a copy
laid out like fakelens' test data.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from fakelens.errors import ModelIntegrityError, ModelMissing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFile:
    name: str
    filename: str
    subdir: str
    url: str
    sha256: str
    licence: str


_YUNET_BASE = "https://github.com/ShiqiYu/libfacedetection.train/raw/master/onnx/"

KNOWN_FILES: dict[str, StoredFile] = {
    f.name: f
    for f in [
        StoredFile("yunet_n_dynamic", "yunet_n_dynamic.onnx", "yunet",
                   _YUNET_BASE + "yunet_n_dynamic.onnx",
                   "104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12",
                   "Apache-2.0"),
        StoredFile("yunet_s_dynamic", "yunet_s_dynamic.onnx", "yunet",
                   _YUNET_BASE + "yunet_s_dynamic.onnx",
                   "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
                   "Apache-2.0"),
        StoredFile("face_mesh", "face_landmark.tflite", "mediapipe",
                   "https://github.com/google/mediapipe/raw/v0.10.14/mediapipe/modules/"
                   "face_landmark/face_landmark.tflite",
                   "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
                   "Apache-2.0"),
    ]
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_verified: set[tuple[str, float]] = set()


def _verify(path: Path, expected: str) -> Path:
    key = (str(path), path.stat().st_mtime)
    if key in _verified:
        return path
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path}: sha256 {actual[:12]}... does not match the expected {expected[:12]}...; "
            "delete the file to download it again"
        )
    _verified.add(key)
    return path


def resolve(name: str, model_dir: Path, allow_download: bool) -> Path:
    """Path of a verified model file, downloading it when allowed and missing."""
    entry = KNOWN_FILES[name]
    for candidate in (model_dir / entry.subdir / entry.filename, model_dir / entry.filename):
        if candidate.is_file():
            return _verify(candidate, entry.sha256)
    target = model_dir / entry.subdir / entry.filename
    if not allow_download:
        raise ModelMissing(
            f"model file {entry.filename} is not installed in {model_dir}; set "
            f"FAKELENS_MODEL_DIR to a folder holding it, or allow downloads "
            f"(FAKELENS_ALLOW_DOWNLOAD=1) to fetch it from {entry.url}"
        )
    _download(entry, target)
    return _verify(target, entry.sha256)


def install(name: str, model_dir: Path, *, source_dir: Path | None = None,
            allow_download: bool = True) -> tuple[Path, str]:
    """Put a known model file into the store: copied from ``source_dir`` (laid out like
    the store, or flat) when given, else downloaded. Returns (path, how: "present",
    "copied" or "downloaded"); the file is verified either way."""
    if name not in KNOWN_FILES:
        raise ModelMissing(f"unknown model file {name!r} (known: {', '.join(KNOWN_FILES)})")
    entry = KNOWN_FILES[name]
    target = model_dir / entry.subdir / entry.filename
    if target.is_file():
        try:
            return _verify(target, entry.sha256), "present"
        except ModelIntegrityError:
            target.unlink()
    if source_dir is not None:
        for candidate in (source_dir / entry.subdir / entry.filename,
                          source_dir / entry.filename):
            if candidate.is_file():
                _verify(candidate, entry.sha256)
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".partial")
                shutil.copyfile(candidate, partial)
                partial.replace(target)
                return _verify(target, entry.sha256), "copied"
        if not allow_download:
            raise ModelMissing(f"{entry.filename} is not in {source_dir}")
    elif not allow_download:
        raise ModelMissing(f"{entry.filename} is not installed in {model_dir} and downloads "
                           "are off (FAKELENS_ALLOW_DOWNLOAD=0)")
    _download(entry, target)
    return _verify(target, entry.sha256), "downloaded"


def _download(entry: StoredFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", entry.filename, entry.url)
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            with urllib.request.urlopen(entry.url, timeout=30) as response:
                while block := response.read(1 << 16):
                    tmp.write(block)
        tmp_path = Path(tmp.name)
        if file_sha256(tmp_path) != entry.sha256:
            tmp_path.unlink(missing_ok=True)
            raise ModelIntegrityError(f"downloaded {entry.filename} does not match its sha256")
        tmp_path.replace(target)
    except OSError as exc:
        raise ModelMissing(
            f"model file {entry.filename} is not in {target.parent} and could not be downloaded "
            f"({exc}); download {entry.url} there yourself or set FAKELENS_MODEL_DIR"
        ) from exc
