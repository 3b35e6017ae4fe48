"""Where an analysis' files live in the data dir: the stored upload (by sha256), the HTML
report and the key-face / face-frame images beside it, and the scene-change key frames
(JPEG, for reverse image search) with their index; writing and removing them."""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ValidationError

from fakelens.jobs.settings import JobSettings

if TYPE_CHECKING:
    from fakelens.media.scenes import SceneFrames


def report_path(settings: JobSettings, public_id: str) -> Path:
    """Where the HTML report of an analysis is stored (made when the analysis ends)."""
    if not public_id or any(not (c.isalnum() or c in "-_") for c in public_id):
        raise ValueError("not an analysis id")
    return settings.reports_dir / f"{public_id}.html"


def face_image_path(settings: JobSettings, public_id: str, track_id: int, kind: str) -> Path:
    """A track's key face ('face') or its heatmap ('heatmap') as PNG, beside the report."""
    if kind not in ("face", "heatmap") or track_id < 0:
        raise ValueError("unknown face image")
    return report_path(settings, public_id).with_name(f"{public_id}-{track_id}-{kind}.png")


KEY_FRAMES = 6  # frames per face in the result page's key-frame strip


def key_frame_positions(n_frames: int) -> list[int]:
    """Positions (within a track) of the frames shown in the key-frame strip."""
    from fakelens.reports.explain import evenly_spaced

    return evenly_spaced(n_frames, KEY_FRAMES)


def frame_image_path(settings: JobSettings, public_id: str, track_id: int, position: int,
                     kind: str) -> Path:
    """One key frame of a track: its face crop ('face') or heatmap overlay ('heatmap')."""
    if kind not in ("face", "heatmap") or track_id < 0 or not 0 <= position < 10_000:
        raise ValueError("unknown frame image")
    return report_path(settings, public_id).with_name(
        f"{public_id}-{track_id}-f{position}-{kind}.png")


MAX_KEY_FRAME_FILES = 100  # numbers 0..99 (the scene detector keeps far fewer)


def key_frame_path(settings: JobSettings, public_id: str, number: int) -> Path:
    """Scene-change key frame ``number`` (0: the first) as JPEG, beside the report."""
    if not 0 <= number < MAX_KEY_FRAME_FILES:
        raise ValueError("unknown key frame")
    return report_path(settings, public_id).with_name(f"{public_id}-k{number}.jpg")


def key_frame_index_path(settings: JobSettings, public_id: str) -> Path:
    return report_path(settings, public_id).with_name(f"{public_id}-keyframes.json")


class StoredKeyFrame(BaseModel):
    number: int
    timestamp_s: float
    change: float
    width: int
    height: int


class KeyFrameIndex(BaseModel):
    """What the job stored of the key frames (written last: all JPEGs are there)."""

    method: str  # see SceneFrames.method
    description: str  # how they were found, in words
    frames: list[StoredKeyFrame]
    link_key: str  # random, per analysis: signs the frames' public links (never shown)


def write_key_frames(settings: JobSettings, public_id: str, scenes: SceneFrames) -> None:
    from PIL import Image

    stored = []
    for number, frame in enumerate(scenes.frames[:MAX_KEY_FRAME_FILES]):
        buf = io.BytesIO()
        Image.fromarray(frame.rgb).save(buf, format="JPEG", quality=90, optimize=True)
        key_frame_path(settings, public_id, number).write_bytes(buf.getvalue())
        h, w = frame.rgb.shape[:2]
        stored.append(StoredKeyFrame(number=number, timestamp_s=round(frame.timestamp_s, 3),
                                     change=frame.change, width=w, height=h))
    index = KeyFrameIndex(method=scenes.method, description=scenes.describe(), frames=stored,
                          link_key=secrets.token_hex(32))
    target = key_frame_index_path(settings, public_id)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(index.model_dump_json(), encoding="utf-8")
    os.replace(partial, target)


def read_key_frames(settings: JobSettings, public_id: str) -> KeyFrameIndex | None:
    """The stored key frames of an analysis; None if it has none (older analyses, audio,
    live checks)."""
    try:
        text = key_frame_index_path(settings, public_id).read_text(encoding="utf-8")
        return KeyFrameIndex.model_validate_json(text)
    except (OSError, ValidationError, ValueError):
        return None


def remove_report_files(settings: JobSettings, public_id: str) -> None:
    folder = report_path(settings, public_id).parent
    index = key_frame_index_path(settings, public_id)
    for path in [folder / f"{public_id}.html", folder / f".{public_id}.html.partial",
                 index, index.with_name(f".{index.name}.partial"),
                 *folder.glob(f"{public_id}-*.png"), *folder.glob(f"{public_id}-k*.jpg")]:
        path.unlink(missing_ok=True)


def write_face_images(settings: JobSettings, public_id: str, detailed) -> None:
    import cv2

    from fakelens.models.registry import installed_detectors
    from fakelens.reports.explain import heatmap, key_face, overlay

    def write(path: Path, rgb: np.ndarray) -> None:
        ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
        if ok:
            path.write_bytes(png.tobytes())

    installed = installed_detectors()
    threshold = detailed.analysis.threshold
    for track in detailed.analysis.tracks:
        ev = detailed.evidence[track.track_id]
        deciding = max(track.model_scores, key=lambda m: m.score).model
        cfg = installed[deciding].config if deciding in installed else None
        temperature = cfg.heatmap_temperature if cfg else 1.0
        face, heat = key_face(ev.crops, ev.cams, track, temperature, threshold)
        write(face_image_path(settings, public_id, track.track_id, "face"), face)
        write(face_image_path(settings, public_id, track.track_id, "heatmap"), heat)
        for i in key_frame_positions(len(track.frames)):
            crop = ev.crops[i]
            hot = overlay(crop, heatmap(ev.cams[i], crop.shape[:2], temperature), threshold)
            write(frame_image_path(settings, public_id, track.track_id, i, "face"), crop)
            write(frame_image_path(settings, public_id, track.track_id, i, "heatmap"), hot)


def blob_path(settings: JobSettings, sha256: str) -> Path:
    """Where an upload with this content hash is stored (the only way to a stored file)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return settings.uploads_dir / sha256[:2] / sha256
