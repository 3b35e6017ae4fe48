"""Torch datasets over face caches: SBI pairs, labelled images, pseudo-fake tracks.

Items are keyed by a global sample counter and every random choice is drawn from
``default_rng([seed, key])``: a run is reproducible and resumes mid-epoch exactly.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from fakelens.faces.regions import cut_region
from fakelens.training import synth

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_tensor(rgb: np.ndarray, size: int, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    if rgb.shape[0] != size:
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(255.0)
    return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)


def model_input(crop: np.ndarray, region: str, size: int) -> torch.Tensor:
    """An unaugmented face crop as the model sees it: its region (``faces.regions``: the
    cut analysis makes) as a normalised tensor. Validation, calibration and the pixel
    parity test go through here."""
    return to_tensor(cut_region(crop, region, size), size)


def jitter_params(rng: np.random.Generator, n: int, min_frac: float = 0.9
                  ) -> tuple[int, int, int, bool]:
    """(side, x0, y0, flip) of a small random crop of an ``n``x``n`` image."""
    side = int(n * rng.uniform(min_frac, 1.0))
    x0, y0 = rng.integers(0, n - side + 1, size=2)
    return side, int(x0), int(y0), bool(rng.random() < 0.5)


def apply_jitter(img: np.ndarray, params: tuple[int, int, int, bool], size: int) -> np.ndarray:
    side, x0, y0, flip = params
    out = cv2.resize(img[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out[:, ::-1]) if flip else out


def jitter_crop(img: np.ndarray, rng: np.random.Generator, size: int,
                min_frac: float = 0.9) -> np.ndarray:
    """Small random crop (scale and offset) resized to ``size``; random horizontal flip."""
    return apply_jitter(img, jitter_params(rng, img.shape[0], min_frac), size)


class SBIPairs(torch.utils.data.Dataset):
    """Each item: a real face and a pseudo-fake made from it (SBI, cross-blend, or, for
    faces with other frames of the same video, a lower-face self-reenactment). With a
    ``region`` other than the whole face, both are cut to it after the pseudo-fake is made
    on the whole face and before augmentation."""

    def __init__(self, crops, meshes, indices, weights, *, size: int, seed: int,
                 cross_blend_prob: float, length: int, augment: bool = True,
                 degradation: str = "heavy", groups=None, reenact_prob: float = 0.0,
                 region: str = "face"):
        self.crops, self.meshes = crops, meshes
        self.groups = None if groups is None else np.asarray(groups)
        self.region = region
        self.degradation = degradation
        self.indices = np.asarray(indices)
        w = np.asarray(weights, dtype=np.float64)
        self.p = w / w.sum()
        self.size, self.seed = size, seed
        self.cross_blend_prob = cross_blend_prob
        self.reenact_prob = reenact_prob
        self.length = length
        self.augment = augment
        self._pose = np.stack([synth.pose_descriptor(meshes[i].astype(np.float32))
                               for i in self.indices]) if cross_blend_prob > 0 else None
        self._same_video: dict[int, np.ndarray] = {}
        if reenact_prob > 0 and groups is not None:
            g = np.asarray(groups)[self.indices]
            for name in np.unique(g):
                members = np.flatnonzero(g == name)
                if len(members) >= 4:  # a video track, not a still
                    for pos in members:
                        self._same_video[int(pos)] = members

    def __len__(self) -> int:
        return self.length

    def _donor(self, pos: int, rng: np.random.Generator) -> int | None:
        """The face of closest pose among 48 random others (None: there are no others)."""
        candidates = rng.integers(0, len(self.indices), 48)
        candidates = candidates[candidates != pos]
        if not len(candidates):
            return None
        d = np.linalg.norm(self._pose[candidates] - self._pose[pos], axis=1)
        return int(self.indices[candidates[np.argmin(d)]])

    def synthesise(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(real face, pseudo-fake, blend mask), before augmentation."""
        pos = int(rng.choice(len(self.indices), p=self.p))
        i = int(self.indices[pos])
        img, mesh = self.crops[i], self.meshes[i].astype(np.float32)
        same = self._same_video.get(pos)
        if same is not None and rng.random() < self.reenact_prob:
            j = int(self.indices[int(rng.choice(same[same != pos]))])
            fake, mask = synth.self_reenact(img, mesh, self.crops[j],
                                            self.meshes[j].astype(np.float32), rng)
        elif self._pose is not None and rng.random() < self.cross_blend_prob and \
                (j := self._donor(pos, rng)) is not None:
            fake, mask = synth.cross_blend(img, mesh, self.crops[j],
                                           self.meshes[j].astype(np.float32), rng)
        else:
            fake, mask = synth.self_blend(img, mesh, rng)
        return img, fake, mask

    def make_pair(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, key])
        real, fake, _ = self.synthesise(rng)
        real = cut_region(real, self.region, self.size)
        fake = cut_region(fake, self.region, self.size)
        if self.augment:
            real = synth.degrade(jitter_crop(real, rng, self.size),
                                 synth.random_degradation(rng, self.degradation), rng)
            fake = synth.degrade(jitter_crop(fake, rng, self.size),
                                 synth.random_degradation(rng, self.degradation), rng)
        return real, fake

    def __getitem__(self, key: int):
        real, fake = self.make_pair(key)
        return torch.stack([to_tensor(real, self.size), to_tensor(fake, self.size)]), \
            torch.tensor([0.0, 1.0])


class MixedPairs(torch.utils.data.Dataset):
    """Real/fake pairs from two sources, with where-blended maps for an auxiliary head:

    * with probability ``pair_share``, an aligned pair of a real clip and the fake made
      from it (same frame, same crop), augmented identically so that only the
      manipulation tells them apart; its map is where the two differ;
    * otherwise a pseudo-fake of ``sbi`` (self-blend, cross-blend, self-reenactment);
      its map is the blend mask;
    * with probability ``smooth_prob`` both faces get the same beauty-filter smoothing,
      so that smooth skin alone never tells a fake;
    * with probability ``real_soften_prob`` the real face alone is down- and up-scaled,
      so that a soft, low-resolution face (small in the frame, upscaled) never tells one;
    * with probability ``fake_share`` (drawn first, only when on), a real face of ``sbi``
      beside an unpaired fake face of ``fake_faces`` (a talking head with no aligned
      original), both given the same degradation; nobody knows where such a fake differs,
      so its map is -1 everywhere: the map loss leaves it out. ``fake_weights`` (optional)
      is the probability of drawing each fake face (generator first, then a face);
      with probability ``own_original_prob`` the real face is then one of the fake's own
      group (``fake_groups``: the clip it was made from) when ``sbi`` has real faces of
      that group, so that the two differ by the manipulation rather than by the source.

    Items: ``(crops [2,3,S,S], labels [2], maps [2,m,m])``; the real face's map is zero.
    The region of ``sbi`` (a mouth detector's lower face) is cut from both faces and the
    map once the pair is chosen, before any augmentation.
    """

    def __init__(self, sbi: SBIPairs, pair_real, pair_fake, pair_indices, *, size: int,
                 seed: int, length: int, pair_share: float, map_size: int,
                 augment: bool = True, degradation: str = "heavy", smooth_prob: float = 0.0,
                 real_soften_prob: float = 0.0, fake_faces=None, fake_share: float = 0.0,
                 fake_weights=None, fake_groups=None, own_original_prob: float = 0.0):
        self.sbi, self.pair_real, self.pair_fake = sbi, pair_real, pair_fake
        self.pair_indices = np.asarray(pair_indices)
        self.size, self.seed, self.length = size, seed, length
        self.pair_share = pair_share if len(self.pair_indices) else 0.0
        self.map_size, self.augment, self.degradation = map_size, augment, degradation
        self.smooth_prob, self.real_soften_prob = smooth_prob, real_soften_prob
        self.fake_faces, self.fake_weights = fake_faces, fake_weights
        self.fake_share = fake_share if fake_faces is not None and len(fake_faces) else 0.0
        self.own_original_prob = own_original_prob
        self._own_reals = self._own_group_reals(fake_groups) if own_original_prob else {}

    def _own_group_reals(self, fake_groups) -> dict[int, np.ndarray]:
        """For each unpaired fake face whose group has real faces in ``sbi``: those faces
        (rows of ``sbi.crops``)."""
        if self.sbi is None or self.sbi.groups is None or fake_groups is None:
            raise ValueError("own_original_prob needs the groups of the real and fake faces")
        real_groups = self.sbi.groups[self.sbi.indices]
        by_group = {g: self.sbi.indices[real_groups == g] for g in np.unique(real_groups)}
        return {i: by_group[g] for i, g in enumerate(np.asarray(fake_groups)) if g in by_group}

    def __len__(self) -> int:
        return self.length

    def _map(self, mask: np.ndarray, params) -> np.ndarray:
        m = apply_jitter(mask.astype(np.float32), params, self.size) if params else mask
        return cv2.resize(np.ascontiguousarray(m), (self.map_size, self.map_size),
                          interpolation=cv2.INTER_AREA)

    def __getitem__(self, key: int):
        rng = np.random.default_rng([self.seed, key])
        unpaired = bool(self.fake_share) and rng.random() < self.fake_share
        aligned = False
        if unpaired:  # no draw when off, so that runs without it keep their random stream
            real = self.sbi.crops[int(self.sbi.indices[rng.choice(len(self.sbi.indices),
                                                                   p=self.sbi.p)])]
            # drawn as before when unweighted, so that earlier runs keep their random stream
            f = int(rng.integers(len(self.fake_faces)) if self.fake_weights is None else
                    rng.choice(len(self.fake_faces), p=self.fake_weights))
            fake = self.fake_faces[f]
            # no draw when off, so that runs without it keep their random stream
            if self.own_original_prob and f in self._own_reals and \
                    rng.random() < self.own_original_prob:
                real = self.sbi.crops[int(rng.choice(self._own_reals[f]))]
            mask = np.full(real.shape[:2], -1.0, np.float32)
        elif aligned := rng.random() < self.pair_share:
            i = int(rng.choice(self.pair_indices))
            real, fake = self.pair_real[i], self.pair_fake[i]
            mask = synth.pair_mask(real, fake)
        else:
            real, fake, mask = self.sbi.synthesise(rng)
        if self.sbi is not None and self.sbi.region != "face":
            real, fake, mask = (cut_region(x, self.sbi.region, self.size)
                                for x in (real, fake, mask))
        params = jitter_params(rng, real.shape[0]) if self.augment else None
        # an aligned pair shares its crop; a pseudo-fake or an unpaired fake gets its own
        fake_params = params if aligned else \
            jitter_params(rng, fake.shape[0]) if self.augment else None
        if self.augment and rng.random() < self.smooth_prob:  # the same filter on both
            strength = rng.uniform(0.2, 1.0)
            real, fake = synth.smooth_skin(real, strength), synth.smooth_skin(fake, strength)
        # no draw when off, so that runs without it keep their random stream
        if self.augment and self.real_soften_prob and rng.random() < self.real_soften_prob:
            real = synth.soften(real, rng)
        if self.augment:
            d_real = synth.random_degradation(rng, self.degradation)
            d_fake = d_real if unpaired or fake_params is params else \
                synth.random_degradation(rng, self.degradation)
            real = synth.degrade(apply_jitter(real, params, self.size), d_real, rng)
            fake = synth.degrade(apply_jitter(fake, fake_params, self.size), d_fake, rng)
        maps = np.stack([np.zeros((self.map_size, self.map_size), np.float32),
                         self._map(mask, fake_params)])
        return (torch.stack([to_tensor(real, self.size), to_tensor(fake, self.size)]),
                torch.tensor([0.0, 1.0]), torch.from_numpy(maps))


class VideoFrames(torch.utils.data.Dataset):
    """Unaugmented face crops of whole clips, for video-level validation: items are
    ``(crop [1,3,S,S], label [1])`` and ``clips`` names the clip of each item."""

    def __init__(self, crops, labels, clips, *, size: int, region: str = "face"):
        self.crops, self.labels, self.clips, self.size = crops, labels, np.asarray(clips), size
        self.region = region

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, i: int):
        return model_input(self.crops[i], self.region, self.size).unsqueeze(0), \
            torch.tensor([float(self.labels[i])])


class LabelledFaces(torch.utils.data.Dataset):
    """Labelled face crops (e.g. real photos vs GAN faces), augmented by key."""

    def __init__(self, crops, labels, indices, *, size: int, seed: int, length: int,
                 augment: bool = True, region: str = "face"):
        self.crops, self.labels = crops, labels
        self.region = region
        self.indices = np.asarray(indices)
        self.size, self.seed, self.length, self.augment = size, seed, length, augment

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: int):
        rng = np.random.default_rng([self.seed, key])
        i = int(self.indices[key % len(self.indices)] if not self.augment
                else rng.choice(self.indices))
        img = cut_region(self.crops[i], self.region, self.size)
        if self.augment:
            img = synth.degrade(jitter_crop(img, rng, self.size, 0.85),
                                synth.random_degradation(rng), rng)
        return to_tensor(img, self.size).unsqueeze(0), torch.tensor([float(self.labels[i])])


class PseudoTracks(torch.utils.data.Dataset):
    """Face tracks (real video tracks, or a still jittered into a track) and their
    temporally consistent SBI counterparts."""

    def __init__(self, tracks: list[np.ndarray], track_meshes: list[np.ndarray], *,
                 size: int, seed: int, length: int, sequence_length: int,
                 augment: bool = True):
        self.tracks, self.meshes = tracks, track_meshes
        self.size, self.seed, self.length = size, seed, length
        self.sequence_length, self.augment = sequence_length, augment

    def __len__(self) -> int:
        return self.length

    def _window(self, rng) -> tuple[list[np.ndarray], list[np.ndarray]]:
        t = int(rng.integers(len(self.tracks)))
        frames, meshes = self.tracks[t], self.meshes[t]
        n = self.sequence_length
        if len(frames) >= n:
            start = int(rng.integers(0, len(frames) - n + 1))
            return list(frames[start:start + n]), [m.astype(np.float32)
                                                   for m in meshes[start:start + n]]
        # a still: small per-frame motion turns it into a track
        out_f, out_m = [], []
        for _ in range(n):
            s = 1 + rng.uniform(-0.02, 0.02)
            tx, ty = rng.uniform(-2, 2, size=2)
            h, w = frames[0].shape[:2]
            m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-2, 2), s)
            m[:, 2] += (tx, ty)
            out_f.append(cv2.warpAffine(frames[0], m, (w, h), borderMode=cv2.BORDER_REPLICATE))
            out_m.append(meshes[0].astype(np.float32) @ m[:, :2].T + m[:, 2])
        return out_f, out_m

    def __getitem__(self, key: int):
        rng = np.random.default_rng([self.seed, key])
        frames, meshes = self._window(rng)
        fakes, _ = synth.temporal_self_blend(frames, meshes, rng)
        degradation = synth.random_degradation(rng)  # one video, one compression
        flip = rng.random() < 0.5

        def prep(seq):
            out = []
            for f in seq:
                f = cv2.resize(f, (self.size, self.size), interpolation=cv2.INTER_AREA)
                if self.augment:
                    f = synth.degrade(f, degradation, rng)
                out.append(to_tensor(f[:, ::-1] if flip else f, self.size))
            return torch.stack(out)

        return torch.stack([prep(frames), prep(fakes)]), torch.tensor([0.0, 1.0])
