"""Face tracks of clip caches for the temporal stage (``TemporalData`` with clip-level
validation): windows of real tracks against windows of generated clips and lip-sync-like
reenactments, and whole held-out clips for validation and calibration.

A clip cache is ``fakelens preprocess --frames N --shard-size 1``: one source per shard,
its faces in time order (evenly spread over the clip, as analysis samples them). Every
frame of a window is cut to the run's region with ``faces.regions.cut_region`` (through
``data.model_input`` when unaugmented), the function analysis cuts it with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fakelens.errors import FakeLensError
from fakelens.faces.regions import cut_region
from fakelens.training import synth
from fakelens.training.data import apply_jitter, jitter_params, model_input, to_tensor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Track:
    name: str
    crops: np.ndarray  # [n, S, S, 3], time order
    mesh: np.ndarray  # [n, K, 2] in crop pixels


def load_tracks(path: Path, label: int) -> list[Track]:
    """The tracks of one label in a clip cache: per shard, each run of one group (a shard
    of ``--shard-size 1`` holds one clip)."""
    path = Path(path)
    manifest = json.loads((path / "manifest.json").read_text())
    tracks = []
    for key, shard in sorted(manifest["shards"].items(), key=lambda kv: int(kv[0])):
        if not shard["file"]:
            continue
        with np.load(path / shard["file"]) as z:
            groups, labels = z["group"], z["label"]
            keep = np.flatnonzero(labels == label)
            if not len(keep):
                continue
            crops, mesh = z["crops"], z["mesh"]
        cuts = np.flatnonzero(groups[keep][1:] != groups[keep][:-1]) + 1
        for run in np.split(keep, cuts):
            tracks.append(Track(f"{path.name}:{groups[run[0]]}#{key}", crops[run],
                                mesh[run].astype(np.float32)))
    return tracks


@dataclass
class CachedClip:
    """One labelled clip of a clip cache (a shard holds one clip): its faces in time order."""
    cache: str  # the cache folder's name
    shard: str
    group: str
    label: int
    method: str  # "real" for a real clip
    crops: np.ndarray


# The clip caches of every labelled clip (scripts/train_rotation.sh builds them in
# runs/cache160): every generator's fakes with the real clips beside them, and DeepFaceLive's
# test face models.
LABELLED_CLIP_CACHES = ("talking-heads", "swap-generators", "generated-videos", "videos",
                        "videos-real", "live-swap-test")


def load_cached_clips(cache_root: Path, names: tuple[str, ...]) -> list[CachedClip]:
    """Every clip of the clip caches ``cache_root/<name>``, in shard order."""
    clips = []
    for name in names:
        folder = Path(cache_root) / name
        manifest = json.loads((folder / "manifest.json").read_text())
        for index, shard in sorted(manifest["shards"].items(), key=lambda kv: int(kv[0])):
            if not shard["file"]:
                continue
            with np.load(folder / shard["file"]) as z:
                for label in np.unique(z["label"]):  # a shard is one clip: one label
                    sel = z["label"] == label
                    method = str(z["method"][sel][0]) if "method" in z.files else ""
                    clips.append(CachedClip(name, index, str(z["group"][sel][0]), int(label),
                                            method if label == 1 else "real",
                                            z["crops"][sel]))
    return clips


def window_indices(n: int, length: int, clip_frames: int | None,
                   rng: np.random.Generator) -> np.ndarray:
    """``length`` positions of a track of ``n`` frames at the spacing analysis meets (every
    ``round(n / clip_frames)``-th cached frame), from a random start; a track too short for
    that spacing gets the widest one that fits."""
    if n < length:
        raise ValueError(f"a track of {n} frames has no window of {length}")
    stride = max(1, round(n / clip_frames)) if clip_frames else 1
    stride = min(stride, (n - 1) // (length - 1))
    span = (length - 1) * stride + 1
    start = int(rng.integers(0, n - span + 1))
    return start + stride * np.arange(length)


def donor_indices(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """For each frame of a window, another frame of its track whose lower face replaces
    its own: the whole window shifted in time (at least an eighth of the track away,
    cyclically), or frames drawn at random (shuffled); never the frame itself."""
    gap = max(2, n // 8)
    if rng.random() < 0.5 and n >= 2 * gap:
        return (idx + int(rng.integers(gap, n - gap + 1))) % n
    donors = rng.integers(0, n, size=len(idx))
    same = donors == idx
    donors[same] = (donors[same] + 1 + rng.integers(0, n - 1, size=int(same.sum()))) % n
    return donors


class TrackPairs(torch.utils.data.Dataset):
    """Items: ``(windows [2, T, 3, S, S], labels [0, 1])``: a window of a real track and a
    fake window: with probability ``fake_share`` a window of a generated clip (another
    person's track), else from the real window itself a lip-sync-like reenactment
    (``reenact_prob``) or a temporal self-blend. The fakes are made on the whole face, the
    region cut from every frame, then one jitter per window, one degradation for both
    windows (the same compression on each frame) and one mirror flip."""

    def __init__(self, real: list[Track], fake: list[Track], weights, *, size: int,
                 region: str, seed: int, length: int, sequence_length: int,
                 clip_frames: int | None, fake_share: float, reenact_prob: float,
                 degradation: str = "heavy", augment: bool = True):
        self.real, self.fake = real, fake
        w = np.asarray(weights, np.float64)
        self.p = w / w.sum()
        self.size, self.region, self.seed, self.length = size, region, seed, length
        self.sequence_length, self.clip_frames = sequence_length, clip_frames
        self.fake_share = fake_share if fake else 0.0
        self.reenact_prob, self.degradation, self.augment = reenact_prob, degradation, augment

    def __len__(self) -> int:
        return self.length

    def _window(self, track: Track, rng) -> np.ndarray:
        return window_indices(len(track.crops), self.sequence_length, self.clip_frames, rng)

    def frames(self, key: int) -> tuple[list[np.ndarray], list[np.ndarray], str]:
        """(real window, fake window, how the fake was made), whole faces, unaugmented."""
        rng = np.random.default_rng([self.seed, key])
        track = self.real[int(rng.choice(len(self.real), p=self.p))]
        idx = self._window(track, rng)
        real = [track.crops[i] for i in idx]
        if self.fake_share and rng.random() < self.fake_share:
            other = self.fake[int(rng.integers(len(self.fake)))]
            return real, [other.crops[i] for i in self._window(other, rng)], "generated"
        mesh = [track.mesh[i] for i in idx]
        if self.reenact_prob and rng.random() < self.reenact_prob:
            donors = donor_indices(idx, len(track.crops), rng)
            fake, _ = synth.temporal_self_reenact(real, mesh, [track.crops[i] for i in donors],
                                                  [track.mesh[i] for i in donors], rng)
            return real, fake, "reenact"
        fake, _ = synth.temporal_self_blend(real, mesh, rng)
        return real, fake, "self-blend"

    def __getitem__(self, key: int):
        real, fake, _ = self.frames(key)
        if not self.augment:
            return torch.stack([clip_input(real, self.region, self.size),
                                clip_input(fake, self.region, self.size)]), \
                torch.tensor([0.0, 1.0])
        rng = np.random.default_rng([self.seed, key, 1])
        degradation = synth.random_degradation(rng, self.degradation)
        flip = rng.random() < 0.5

        def prep(seq: list[np.ndarray]) -> torch.Tensor:
            cut = [cut_region(f, self.region, self.size) for f in seq]
            params = jitter_params(rng, cut[0].shape[0])
            out = []
            for f in cut:
                f = synth.degrade(apply_jitter(f, params, self.size), degradation, rng)
                out.append(to_tensor(np.ascontiguousarray(f[:, ::-1]) if flip else f,
                                     self.size))
            return torch.stack(out)

        return torch.stack([prep(real), prep(fake)]), torch.tensor([0.0, 1.0])


def clip_input(frames, region: str, size: int) -> torch.Tensor:
    """A track's face crops as the temporal stage sees them, unaugmented: [T, 3, S, S]."""
    return torch.stack([model_input(f, region, size) for f in frames])


class ClipTracks(torch.utils.data.Dataset):
    """Whole held-out clips, unaugmented: items ``(clip [1, T, 3, S, S], label [1])``;
    ``clips`` names each item and ``labels`` gives its label."""

    def __init__(self, tracks: list[Track], labels, *, size: int, region: str):
        self.tracks, self.labels = tracks, np.asarray(labels)
        self.clips = np.array([t.name for t in tracks])
        self.size, self.region = size, region

    def __len__(self) -> int:
        return len(self.tracks)

    def __getitem__(self, i: int):
        return clip_input(self.tracks[i].crops, self.region, self.size).unsqueeze(0), \
            torch.tensor([float(self.labels[i])])


def clip_validation(data, size: int, region: str) -> ClipTracks:
    """The validation role's clips: the real clips of ``val_real_caches``, the real and
    fake clips of ``val_caches`` (each clip whole; clips of one frame left out)."""
    tracks, labels = [], []
    for p in data.val_real_caches:
        got = [t for t in load_tracks(p, 0) if len(t.crops) >= 2]
        tracks += got
        labels += [0] * len(got)
    for p in data.val_caches:
        for label in (0, 1):
            got = [t for t in load_tracks(p, label) if len(t.crops) >= 2]
            tracks += got
            labels += [label] * len(got)
    if len(set(labels)) < 2:
        raise FakeLensError("clip validation needs real and fake clips (val_caches)")
    return ClipTracks(tracks, labels, size=size, region=region)


def track_datasets(cfg, length: int) -> tuple[TrackPairs, ClipTracks]:
    """Training windows and validation clips of a clip-level temporal config."""
    data, n = cfg.data, cfg.data.sequence_length
    weights_per_cache = data.cache_weights or [1.0] * len(data.face_caches)
    real, weights = [], []
    for p, w in zip(data.face_caches, weights_per_cache, strict=True):
        got = [t for t in load_tracks(p, 0) if len(t.crops) >= n]
        if not got:
            raise FakeLensError(f"{p}: no real track of {n} frames or more")
        real += got
        weights += [w / len(got)] * len(got)
    fake = [t for p in data.fake_caches for t in load_tracks(p, 1) if len(t.crops) >= n]
    if data.fake_caches and not fake:
        raise FakeLensError(f"fake_caches hold no fake track of {n} frames or more")
    log.info("temporal windows: %d real tracks, %d generated tracks", len(real), len(fake))
    train = TrackPairs(real, fake, weights, size=cfg.input_size, region=cfg.region,
                       seed=cfg.seed, length=length, sequence_length=n,
                       clip_frames=data.clip_frames, fake_share=data.fake_share,
                       reenact_prob=data.reenact_prob, degradation=data.degradation)
    return train, clip_validation(data, cfg.input_size, cfg.region)
