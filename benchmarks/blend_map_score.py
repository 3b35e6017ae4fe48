"""Experiment (issue #10): would the where-blended map, scored Face X-ray style, add to the
class logit? On the validation clips of a face-swap config (validation role only: 5
held-out live-swap pairs and 10 held-out real clips, 16 frames each), prints frame- and
video-level AUC of the class logit, of map statistics (the largest cell, the mean of the
three largest, the mean), of the class logit plus each standardised map statistic, and the
correlation of logit and largest cell. Exploratory: nothing is shipped from it.

    python benchmarks/blend_map_score.py runs/faceswap_v2_smooth/step-00600.safetensors \
        src/fakelens/training/configs/faceswap_v2_smooth.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from fakelens.training import metrics
from fakelens.training.combine import load_trained
from fakelens.training.config import load_config
from fakelens.training.loop import _as_clips, video_validation


def _standardised(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def main(checkpoint: Path, config: Path) -> None:
    cfg = load_config(config)
    val = video_validation(cfg.data, cfg.input_size)
    model = load_trained(checkpoint, cfg.architecture).eval()
    if model.blend_head is None:
        raise SystemExit(f"{cfg.architecture} has no where-blended map")
    labels, logits, maps = [], [], []
    with torch.no_grad():  # in the order and shapes of the trainer's own validation
        for x, target, *_ in torch.utils.data.DataLoader(val, batch_size=16):
            crops, target = _as_clips(x, target)
            out = model(crops)
            labels.append(target.numpy())
            logits.append(out["frame_logits"][:, 0].numpy())
            maps.append(out["blend_logits"].flatten(1).numpy())
    y, z, cells = np.concatenate(labels), np.concatenate(logits), np.concatenate(maps)
    clips = val.clips
    names = sorted(set(clips))
    video_labels = np.array([y[clips == c][0] for c in names])

    def report(name: str, score: np.ndarray) -> None:
        per_video = np.array([(1 / (1 + np.exp(-score[clips == c]))).mean() for c in names])
        print(f"{name:22s} frame AUC {metrics.roc_auc(y, score):.3f}  "
              f"video AUC {metrics.roc_auc(video_labels, per_video):.3f}")

    top = np.sort(cells, axis=1)
    stats = {"map largest cell": top[:, -1], "map top-3 mean": top[:, -3:].mean(1),
             "map mean": cells.mean(1)}
    print(f"{len(names)} clips ({int(video_labels.sum())} fake), {len(z)} frames")
    report("class logit", z)
    for name, values in stats.items():
        report(name, values)
    for name in ("map largest cell", "map top-3 mean"):
        report(f"logit + {name.removeprefix('map ')}",
               _standardised(z) + _standardised(stats[name]))
    print(f"correlation of logit and largest cell: "
          f"{np.corrcoef(z, stats['map largest cell'])[0, 1]:.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
