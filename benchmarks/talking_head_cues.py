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
those sets' real clips; its threshold keeps 1 in 12 of every real clip of every set above
(the rule lives in fakelens.training.cuetest).

    python benchmarks/talking_head_cues.py [--cache runs/cache160]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from fakelens.models.runtime import load_detector
from fakelens.training.cuetest import judge_cues
from fakelens.training.tracks import LABELLED_CLIP_CACHES, load_cached_clips

CUES = ("texture", "noise", "drift", "colour")


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/cache160"))
    args = ap.parse_args()
    detector = load_detector("fakelens-faceswap-video")
    rows = []
    for clip in load_cached_clips(args.cache, LABELLED_CLIP_CACHES):
        if clip.cache == "live-swap-test" and clip.label:
            continue
        out = detector.score_frames(list(clip.crops))
        rows.append({"cache": clip.cache, "group": clip.group, "label": clip.label,
                     "method": clip.method, **clip_cues(clip.crops, out.embeddings)})
    for line in judge_cues(rows, CUES).report:
        print(line)


if __name__ == "__main__":
    main()
