"""Training-free clip cues for talking heads (issue 29): do unseen talking heads differ from
real talking faces in something no detector had to learn from known generators?

Each labelled clip's cached face crops (``runs/cache160``: 16 evenly spaced frames, 160 px,
the crops analysis makes; built by scripts/train_rotation.sh) give four clip-level figures,
each with the direction fixed before any was computed (docs/training-log.md, cue test 36),
and each on the crop's central half (the face inside the box: the ROME grid's fakes are
matted on white, a background no cue may read):

* ``texture``: mean over frames of the variance of the grey crop's Laplacian (generators
  render faces at 256-512 px and smooth skin; fakes lower);
* ``noise``: mean over frames of the absolute difference between the grey crop and its
  3x3 median (no camera sensor noise in a rendered face; fakes lower);
* ``drift``: mean over consecutive frames of one minus the cosine similarity of the shipped
  video detector's embeddings (one source picture animated: the face changes less than a
  filmed one; fakes lower);
* ``colour``: standard deviation over frames of the crop centre's mean colour (a rendered
  face keeps its source picture's light; fakes lower).

A cue is scored so that higher means more suspicious. The cue is chosen on the talking-heads
set's training and validation groups (AniPortrait, ATVGnet, StyleTalk, Wav2Lip-288, PD-FGC
against those groups' real clips) and judged once, on its test groups (EDTalk, the ROME
grid, GPAvatar, Wav2Lip HD) with generated-videos (SadTalker, Wav2Lip + GFPGAN) against
those sets' real clips; its threshold keeps 1 in 12 of every real clip of every set above.

    python benchmarks/talking_head_cues.py [--cache runs/cache160]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from fakelens.models.runtime import load_detector
from fakelens.training import metrics
from fakelens.training.splits import (
    TALKING_HEAD,
    TALKING_HEADS_TRAIN,
    TALKING_HEADS_VAL,
    fake_kind,
)
from fakelens.training.tracks import load_cached_clips

CACHES = ("talking-heads", "swap-generators", "generated-videos", "videos", "videos-real",
          "live-swap-test")
CUES = ("texture", "noise", "drift", "colour")
REAL_FLAG_RATE = 1 / 12


def clip_cues(crops: np.ndarray, embeddings: np.ndarray) -> dict[str, float]:
    """The four cues of one clip, each signed so that higher is more suspicious."""
    h, w = crops.shape[1:3]
    centre = np.ascontiguousarray(crops[:, h // 4:3 * h // 4, w // 4:3 * w // 4])
    grey = [cv2.cvtColor(c, cv2.COLOR_RGB2GRAY) for c in centre]
    texture = np.mean([cv2.Laplacian(g, cv2.CV_64F).var() for g in grey])
    noise = np.mean([np.abs(g.astype(np.float64) - cv2.medianBlur(g, 3)).mean()
                     for g in grey])
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    drift = np.mean(1.0 - np.sum(unit[1:] * unit[:-1], axis=1)) if len(unit) > 1 else 0.0
    colour = np.linalg.norm(centre.reshape(len(crops), -1, 3).mean(axis=1).std(axis=0))
    return {"texture": -texture, "noise": -noise, "drift": -drift, "colour": -colour}


def auc_with_ci(labels: list[int], scores: list[float]) -> tuple[float, float, float]:
    auc = metrics.roc_auc(labels, scores)
    return (auc, *metrics.bootstrap_ci(metrics.roc_auc, labels, scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/cache160"))
    args = ap.parse_args()
    detector = load_detector("fakelens-faceswap-video")
    rows = []
    for clip in load_cached_clips(args.cache, CACHES):
        if clip.cache == "live-swap-test" and clip.label:
            continue
        out = detector.score_frames(list(clip.crops))
        rows.append({"cache": clip.cache, "group": clip.group, "label": clip.label,
                     "method": clip.method, **clip_cues(clip.crops, out.embeddings)})
    talking = [r for r in rows if r["label"] == 0 or fake_kind(r["method"]) == TALKING_HEAD]
    known = TALKING_HEADS_TRAIN | TALKING_HEADS_VAL
    selection = [r for r in talking if r["cache"] == "talking-heads" and r["group"] in known]
    test = [r for r in talking if (r["cache"] == "talking-heads" and r["group"] not in known)
            or r["cache"] == "generated-videos"]
    reals = [r for r in rows if r["label"] == 0]
    print(f"selection: {sum(r['label'] for r in selection)} fakes / "
          f"{sum(1 - r['label'] for r in selection)} reals; test: "
          f"{sum(r['label'] for r in test)} fakes / {sum(1 - r['label'] for r in test)} reals; "
          f"every real clip: {len(reals)}")
    chosen, best = None, -1.0
    for cue in CUES:
        auc, lo, hi = auc_with_ci([r["label"] for r in selection], [r[cue] for r in selection])
        print(f"  selection {cue:8s} AUC {auc:.3f} [{lo:.3f}, {hi:.3f}]")
        if auc > best:
            chosen, best = cue, auc
    edge = float(np.quantile([r[chosen] for r in reals], 1 - REAL_FLAG_RATE))
    auc, lo, hi = auc_with_ci([r["label"] for r in test], [r[chosen] for r in test])
    fakes = [r for r in test if r["label"]]
    caught = sum(r[chosen] > edge for r in fakes)
    print(f"chosen: {chosen}; test AUC {auc:.3f} [{lo:.3f}, {hi:.3f}]; above the edge that "
          f"flags 1 in 12 real clips: {caught} of {len(fakes)} test fakes")
    for method in sorted({r["method"] for r in fakes}):
        mine = [r for r in test if r["label"] == 0 or r["method"] == method]
        n = sum(r["label"] for r in mine)
        method_auc = metrics.roc_auc([r["label"] for r in mine], [r[chosen] for r in mine])
        flagged = sum(r[chosen] > edge for r in mine if r["label"])
        print(f"  {method:28s} {n:2d} fakes AUC {method_auc:.3f} flagged {flagged}")
    for cue in CUES:  # reported, judging nothing
        a = metrics.roc_auc([r["label"] for r in test], [r[cue] for r in test])
        print(f"  (test, not chosen on) {cue:8s} AUC {a:.3f}")


if __name__ == "__main__":
    main()
