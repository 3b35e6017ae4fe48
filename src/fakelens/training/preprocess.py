"""Videos and images -> face crops (inference geometry) + landmarks, cached on disk.

Resumable (work is written in shards listed in a manifest), parallel, and every skipped
item is counted and logged with its reason.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fakelens.config import Settings
from fakelens.errors import ConfigError, FakeLensError
from fakelens.faces.crops import crop_face, crop_matrix, transform_points
from fakelens.faces.detector import YuNetDetector
from fakelens.faces.mesh import FaceMesh
from fakelens.media import iter_frames, probe
from fakelens.models import store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    path: str
    group: str  # identity or source video: splits never cut a group
    label: int  # 0 real, 1 fake
    frames: int = 1  # frames to sample from a video
    fake_path: str | None = None  # a pair: the fake made from this real video, same frames
    method: str = ""  # the generator of a fake (dataset's method column); "" when unknown


def _worker_init(settings_json: str, scale: float, size: int) -> None:
    global _W
    settings = Settings.model_validate_json(settings_json)
    yunet = store.resolve(settings.face_model, settings.model_dir, settings.allow_download)
    mesh = store.resolve("face_mesh", settings.model_dir, settings.allow_download)
    cv2.setNumThreads(1)
    _W = {
        "det": YuNetDetector(yunet, score_threshold=0.6, max_side=settings.detect_max_side,
                             min_face_px=24, max_faces=1),
        "mesh": FaceMesh(mesh),
        "scale": scale,
        "size": size,
    }


def _faces_of(src: Source) -> tuple[list[dict], list[str]]:
    det, mesh, scale, size = _W["det"], _W["mesh"], _W["scale"], _W["size"]
    out, skipped = [], []
    try:
        info = probe(src.path)
        frames = list(iter_frames(src.path, info, frames=src.frames))
    except FakeLensError as exc:
        return [], [f"{src.path}: {exc}"]
    for frame in frames:
        faces = det.detect(frame.rgb)
        if not faces:
            skipped.append(f"{src.path}@{frame.timestamp_s:.2f}s: no face")
            continue
        face = faces[0]
        crop = crop_face(frame.rgb, face.box, face.landmarks, scale=scale, size=size)
        m = crop_matrix(face.box, face.landmarks, scale, size)
        dense = mesh.landmarks(frame.rgb, face.box, face.landmarks)
        out.append({"crop": crop,
                    "mesh": transform_points(dense, m).astype(np.float16),
                    "five": transform_points(face.landmarks, m).astype(np.float16),
                    "group": src.group, "label": src.label, "method": src.method})
    return out, skipped


def _pairs_of(src: Source) -> tuple[list[dict], list[str]]:
    """Aligned real/fake crops: the face is found on the real frame and the same box and
    landmarks crop the fake frame of the same index, so a pair differs only by the
    manipulation."""
    det, mesh, scale, size = _W["det"], _W["mesh"], _W["scale"], _W["size"]
    out, skipped = [], []
    try:
        real_frames = list(iter_frames(src.path, probe(src.path), frames=src.frames))
        fake_frames = {f.index: f for f in iter_frames(src.fake_path, probe(src.fake_path),
                                                       frames=src.frames)}
    except FakeLensError as exc:
        return [], [f"{src.path}: {exc}"]
    for frame in real_frames:
        fake = fake_frames.get(frame.index)
        if fake is None or fake.rgb.shape != frame.rgb.shape:
            skipped.append(f"{src.fake_path}@{frame.timestamp_s:.2f}s: no matching frame")
            continue
        faces = det.detect(frame.rgb)
        if not faces:
            skipped.append(f"{src.path}@{frame.timestamp_s:.2f}s: no face")
            continue
        face = faces[0]
        m = crop_matrix(face.box, face.landmarks, scale, size)
        dense = mesh.landmarks(frame.rgb, face.box, face.landmarks)
        out.append({"crop": crop_face(frame.rgb, face.box, face.landmarks, scale=scale,
                                      size=size),
                    "fake_crop": crop_face(fake.rgb, face.box, face.landmarks, scale=scale,
                                           size=size),
                    "mesh": transform_points(dense, m).astype(np.float16),
                    "five": transform_points(face.landmarks, m).astype(np.float16),
                    "group": src.group, "label": src.label, "method": src.method})
    return out, skipped


def _shard(args) -> tuple[int, list[dict], list[str]]:
    index, sources = args
    faces, skipped = [], []
    for src in sources:
        f, s = _pairs_of(src) if src.fake_path else _faces_of(src)
        faces.extend(f)
        skipped.extend(s)
    return index, faces, skipped


def build_face_cache(sources: list[Source], out_dir: Path, settings: Settings, *,
                     crop_scale: float, size: int, workers: int = 2,
                     shard_size: int = 500) -> Path:
    """Write shards ``faces-NNNN.npz`` and ``manifest.json``; already written shards are
    kept, so an interrupted run resumes where it stopped. Sources with a ``fake_path``
    give pair caches: ``crops`` are the real faces and ``fake_crops`` the same crops of
    the fake."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest = {"crop_scale": crop_scale, "size": size, "shards": {}, "skipped": []}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest["crop_scale"] != crop_scale or manifest["size"] != size:
            raise FakeLensError(f"{out_dir} holds crops of another geometry; use a new folder")
    chunks = [(i, sources[o:o + shard_size]) for i, o in enumerate(range(0, len(sources),
                                                                         shard_size))]
    todo = [c for c in chunks if str(c[0]) not in manifest["shards"]]
    log.info("face cache %s: %d shards, %d to do", out_dir, len(chunks), len(todo))
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, _worker_init, (settings.model_dump_json(), crop_scale, size)) as pool:
        for index, faces, skipped in pool.imap_unordered(_shard, todo):
            name = f"faces-{index:04d}.npz"
            if faces:
                np.savez(out_dir / name,
                         crops=np.stack([f["crop"] for f in faces]),
                         mesh=np.stack([f["mesh"] for f in faces]),
                         five=np.stack([f["five"] for f in faces]),
                         group=np.array([f["group"] for f in faces]),
                         label=np.array([f["label"] for f in faces], np.int8),
                         method=np.array([f["method"] for f in faces]),
                         **({"fake_crops": np.stack([f["fake_crop"] for f in faces])}
                            if "fake_crop" in faces[0] else {}))
            manifest["shards"][str(index)] = {"file": name if faces else None,
                                              "faces": len(faces), "skipped": len(skipped)}
            manifest["skipped"].extend(skipped)
            for reason in skipped:
                log.info("skipped %s", reason)
            manifest_path.write_text(json.dumps(manifest, indent=1))
            log.info("shard %d: %d faces, %d skipped", index, len(faces), len(skipped))
    return manifest_path


def check_crop_scale(cache: Path, crop_scale: float) -> dict | None:
    """Refuse a cache whose crops were cut at another scale than ``crop_scale`` (a model
    trained or calibrated on them would be shipped with a crop analysis never cuts).
    Returns the cache's manifest (None when there is none yet)."""
    path = Path(cache) / "manifest.json"
    if not path.is_file():
        return None  # load_face_cache says what is missing
    manifest = json.loads(path.read_text())
    cut = manifest.get("crop_scale", crop_scale)
    if cut != crop_scale:
        raise ConfigError(f"{cache}: crops cut at {cut}x the face box, but the config's "
                          f"crop_scale is {crop_scale} (rebuild the cache with fakelens "
                          f"preprocess --crop-scale {crop_scale})")
    return manifest


def load_face_cache(out_dir: Path) -> dict[str, np.ndarray]:
    manifest = json.loads((out_dir / "manifest.json").read_text())
    parts = [np.load(out_dir / s["file"]) for _, s in sorted(manifest["shards"].items(),
                                                             key=lambda kv: int(kv[0]))
             if s["file"]]
    if not parts:
        raise FakeLensError(f"{out_dir}: the face cache is empty")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0].files}
