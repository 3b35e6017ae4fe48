"""How far a clip's faces lie from real faces, fitted on real clips only (issue 29, cue
test 39 of docs/training-log.md): a cue that needs no fake, so it cannot overfit the known
generators.

Each labelled clip's cached face crops (``runs/cache160``: 16 evenly spaced frames, 160 px;
built by scripts/train_rotation.sh) are embedded on the crop's central half (the ROME grid's
white matte is never read) by two networks: ``e9``, the shipped video detector's frame
embedding, and ``imagenet``, MobileNetV2's ImageNet features. Two distances to the real
frames (the reference: every real clip of the caches except the judged reals), each a
clip's mean over its frames:

* ``mahalanobis``: to the reference's mean under its Ledoit-Wolf shrunk covariance;
* ``knn``: cosine distance to the ``K``-th nearest reference frame.

A clip is never measured against its own group: the reference leaves out every clip of the
scored clip's cache and group. The four candidates are chosen and judged under cue test 36's
rule (fakelens.training.cuetest).

    python benchmarks/real_face_distance.py [--cache runs/cache160] [--rows rows.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fakelens.training.cuetest import is_judged, judge_cues
from fakelens.training.tracks import LABELLED_CLIP_CACHES, load_cached_clips

K = 10
EMBEDDINGS = ("e9", "imagenet")
DISTANCES = ("mahalanobis", "knn")


def central_half(crops: np.ndarray) -> np.ndarray:
    h, w = crops.shape[1:3]
    return np.ascontiguousarray(crops[:, h // 4:3 * h // 4, w // 4:3 * w // 4])


def shrunk_precision(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the inverse of the Ledoit-Wolf shrunk covariance of ``frames`` [n, p]."""
    mean = frames.mean(axis=0)
    x = frames - mean
    n, p = x.shape
    cov = x.T @ x / n
    target = np.trace(cov) / p
    spread = np.sum((cov - target * np.eye(p)) ** 2)
    noise = (np.sum(np.sum(x * x, axis=1) ** 2) / n - np.sum(cov ** 2)) / n
    shrinkage = min(noise, spread) / spread if spread > 0 else 1.0
    shrunk = (1 - shrinkage) * cov + shrinkage * target * np.eye(p)
    return mean, np.linalg.inv(shrunk)


def mahalanobis(frames: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> float:
    d = frames - mean
    return float(np.mean(np.sqrt(np.einsum("ij,jk,ik->i", d, precision, d))))


def knn_distance(frames: np.ndarray, reference: np.ndarray, k: int = K) -> float:
    unit = frames / np.linalg.norm(frames, axis=1, keepdims=True)
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    similarity = unit @ ref.T
    kth = -np.partition(-similarity, k - 1, axis=1)[:, k - 1]
    return float(np.mean(1.0 - kth))


def clip_distances(keys: list[tuple[str, str]], embeddings: list[np.ndarray],
                   in_reference: list[bool]) -> list[dict[str, float]]:
    """Both distances of every clip (``embeddings[i]``: its frames [n, p]) to the reference
    clips outside its own ``keys[i]`` (cache, group)."""
    out: list[dict[str, float]] = [{} for _ in keys]
    for key in sorted(set(keys)):
        reference = np.concatenate([
            e for e, k, ref in zip(embeddings, keys, in_reference, strict=True)
            if ref and k != key])
        mean, precision = shrunk_precision(reference)
        for i in (i for i, k in enumerate(keys) if k == key):
            out[i]["mahalanobis"] = mahalanobis(embeddings[i], mean, precision)
            out[i]["knn"] = knn_distance(embeddings[i], reference)
    return out


def imagenet_embedder():
    import torch
    import torchvision

    torch.set_num_threads(1)
    net = torchvision.models.mobilenet_v2(
        weights=torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1).eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def embed(crops: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255.0
        x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear",
                                            antialias=True, align_corners=False)
        with torch.inference_mode():
            features = net.features((x - mean) / std)
        return features.mean(dim=(2, 3)).numpy().astype(np.float64)

    return embed


def main() -> None:
    from fakelens.models.runtime import load_detector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/cache160"))
    ap.add_argument("--rows", type=Path, help="also write every clip's distances (JSON)")
    args = ap.parse_args()
    detector = load_detector("fakelens-faceswap-video", threads=1)
    embed_imagenet = imagenet_embedder()
    rows, vectors = [], {name: [] for name in EMBEDDINGS}
    for clip in load_cached_clips(args.cache, LABELLED_CLIP_CACHES):
        if clip.cache == "live-swap-test" and clip.label:
            continue
        centre = central_half(clip.crops)
        vectors["e9"].append(detector.score_frames(list(centre)).embeddings.astype(np.float64))
        vectors["imagenet"].append(embed_imagenet(centre))
        rows.append({"cache": clip.cache, "group": clip.group, "label": clip.label,
                     "method": clip.method})
    keys = [(r["cache"], r["group"]) for r in rows]
    in_reference = [r["label"] == 0 and not is_judged(r) for r in rows]
    print(f"{len(rows)} clips; reference: {sum(in_reference)} real clips")
    for name in EMBEDDINGS:
        for row, found in zip(rows, clip_distances(keys, vectors[name], in_reference),
                              strict=True):
            for distance in DISTANCES:
                row[f"{name}-{distance}"] = found[distance]
    candidates = tuple(f"{e}-{d}" for e in EMBEDDINGS for d in DISTANCES)
    for line in judge_cues(rows, candidates).report:
        print(line)
    if args.rows:
        args.rows.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
