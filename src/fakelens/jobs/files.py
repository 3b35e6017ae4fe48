"""Where an analysis' files live in the data dir: the stored upload (by sha256), the HTML
report and the key-face / key-frame images beside it; writing and removing them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fakelens.jobs.settings import JobSettings


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


def remove_report_files(settings: JobSettings, public_id: str) -> None:
    folder = report_path(settings, public_id).parent
    for path in [folder / f"{public_id}.html", folder / f".{public_id}.html.partial",
                 *folder.glob(f"{public_id}-*.png")]:
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
