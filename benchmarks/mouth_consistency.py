"""Experiment (issue #10, item 7): does a hand-made temporal mouth cue separate reenactment
and lip-sync fakes (the person's own face, a re-rendered mouth) from real talking faces?

For each clip, 48 consecutive frames from the start: the largest YuNet face, an aligned
128 px crop, and in it a mouth box (from the two mouth corners) and an eye box. Per region:
texture energy (variance of the Laplacian) and its frame-to-frame change. Two cues:

* flicker: relative frame-to-frame change of the mouth's texture energy divided by the
  eyes' (a rendered mouth flickers more than the rest of the face);
* sharpness: the mouth's texture energy divided by the eyes' (lip-sync renders a
  blurrier mouth).

Prints each fake's cue and its percentile among all real clips, and the AUC per fake
method against all real clips. Exploratory: a handful of fakes, nothing is shipped from it.

    python benchmarks/mouth_consistency.py ../shared/data
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from fakelens.config import Settings
from fakelens.faces.crops import crop_face, crop_matrix, transform_points
from fakelens.faces.detector import load_face_detector
from fakelens.training import metrics

FRAMES, SIZE = 48, 128
FOLDERS = ("videos", "videos-real", "generated-videos")


def _region(crop: np.ndarray, centre: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    x0, x1 = int(max(0, centre[0] - half_w)), int(min(SIZE, centre[0] + half_w))
    y0, y1 = int(max(0, centre[1] - half_h)), int(min(SIZE, centre[1] + half_h))
    return crop[y0:y1, x0:x1]


def _energy(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_32F).var()) if gray.size else float("nan")


def clip_cues(path: Path, detector) -> tuple[float, float] | None:
    mouth, eyes = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            faces = detector.detect(rgb)
            if faces:
                face = max(faces, key=lambda f: f.box[2] * f.box[3])
                crop = cv2.cvtColor(crop_face(rgb, face.box, face.landmarks, scale=1.0,
                                              size=SIZE), cv2.COLOR_RGB2GRAY)
                pts = transform_points(face.landmarks,
                                       crop_matrix(face.box, face.landmarks, 1.0, SIZE))
                span = float(np.linalg.norm(pts[3] - pts[4]))
                eye_span = float(np.linalg.norm(pts[0] - pts[1]))
                mouth.append(_energy(_region(crop, (pts[3] + pts[4]) / 2, 0.8 * span,
                                             0.45 * span)))
                eyes.append(_energy(_region(crop, (pts[0] + pts[1]) / 2, 0.8 * eye_span,
                                            0.3 * eye_span)))
            if len(mouth) >= FRAMES:
                break
    m, e = np.array(mouth), np.array(eyes)
    if len(m) < 8 or not (np.isfinite(m).all() and np.isfinite(e).all()):
        return None

    def change(x):
        return float(np.mean(np.abs(np.diff(x)) / (x[1:] + x[:-1] + 1e-6)))

    return change(m) / (change(e) + 1e-6), float(np.median(m) / (np.median(e) + 1e-6))


def main(data: Path) -> None:
    detector = load_face_detector(Settings(), allow_fallback=False)
    rows = []
    for folder in FOLDERS:
        for r in csv.DictReader((data / folder / "labels.csv").open()):
            cues = clip_cues(data / folder / r["file"], detector)
            if cues is not None:
                method = "real" if r["label"] == "REAL" else r["method"].split(" ")[0]
                rows.append((folder, r["file"], method, *cues))
    reals = [r for r in rows if r[2] == "real"]
    print(f"{len(reals)} real clips, {len(rows) - len(reals)} fakes")
    for k, cue in ((3, "flicker"), (4, "sharpness")):
        real_values = np.array([r[k] for r in reals])
        direction = 1 if cue == "flicker" else -1  # lip-sync: a blurrier mouth
        edge = np.percentile(real_values, 90 if direction > 0 else 10)
        print(f"\n{cue} ({'higher' if direction > 0 else 'lower'} = more suspicious): real "
              f"clips median {np.median(real_values):.3f}, 1 in 10 reals beyond {edge:.3f}")
        for method in sorted({r[2] for r in rows} - {"real"}):
            fakes = np.array([r[k] for r in rows if r[2] == method])
            y = np.r_[np.zeros(len(real_values)), np.ones(len(fakes))]
            auc = metrics.roc_auc(y, direction * np.r_[real_values, fakes])
            print(f"  {method:24s} n={len(fakes):2d} AUC vs real {auc:.3f}")
        for r in rows:
            if r[2] != "real":
                pct = float((direction * real_values < direction * r[k]).mean() * 100)
                print(f"    {r[1]:45s} {r[2]:18s} {r[k]:.3f}  beyond {pct:.0f}% of reals")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
