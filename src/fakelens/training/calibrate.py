"""Calibration on real media: the face-swap detector's offset and temperature are fitted
on held-out real clips, real photos and real fakes (validation role, never the
benchmark's), then the offset is raised until few real media reach the threshold.

A detector fitted on pseudo-fakes of photos (v1) called most real webcam clips fake:
the scale of its scores had never seen real video. Here the calibration set is what a
user sends: whole clips scored like ``analyze()`` does (robust mean of frames) and stills.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fakelens.analysis.verdict import DEFAULT_BAND, robust_mean
from fakelens.training import metrics
from fakelens.training.combine import load_trained
from fakelens.training.config import TrainConfig
from fakelens.training.data import model_input
from fakelens.training.datasets import split_by_group
from fakelens.training.loop import check_cache_crops, video_validation
from fakelens.training.preprocess import check_crop_scale, load_face_cache

log = logging.getLogger(__name__)

THRESHOLD = 0.5
MAX_REAL_AT_THRESHOLD = 1 / 12  # real media scored >= threshold
MAX_REAL_IN_BAND = 1 / 5  # real media scored >= threshold - band


@dataclass
class CalibrationMedia:
    name: str
    label: int
    kind: str  # "video" or "image"
    logits: np.ndarray


@dataclass
class Calibration:
    offset: float
    temperature: float
    fitted_offset: float  # before the real-media constraint
    media: list[CalibrationMedia] = field(repr=False)

    def prob(self, logits: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(np.asarray(logits) - self.offset) / self.temperature))

    def media_scores(self, kind: str, label: int) -> np.ndarray:
        return np.array([robust_mean(self.prob(m.logits)) for m in self.media
                         if m.kind == kind and m.label == label])

    def summary(self) -> dict:
        out = {"offset": round(self.offset, 4), "temperature": round(self.temperature, 4),
               "fitted_offset": round(self.fitted_offset, 4)}
        for kind in ("video", "image"):
            for label, name in ((0, "real"), (1, "fake")):
                s = self.media_scores(kind, label)
                if len(s):
                    out[f"{kind}_{name}_n"] = len(s)
                    out[f"{kind}_{name}_at_threshold"] = int((s >= THRESHOLD).sum())
                    out[f"{kind}_{name}_in_band"] = int(
                        (np.abs(s - THRESHOLD) < DEFAULT_BAND).sum())
            reals, fakes = self.media_scores(kind, 0), self.media_scores(kind, 1)
            if len(reals) and len(fakes):
                out[f"{kind}_auc"] = round(metrics.roc_auc(
                    np.r_[np.zeros(len(reals)), np.ones(len(fakes))], np.r_[reals, fakes]), 4)
        return out


def checkpoint_logits(checkpoint: Path, cfg: TrainConfig, crops: np.ndarray,
                      batch: int = 64) -> np.ndarray:
    model = load_trained(checkpoint, cfg.architecture)
    out = []
    with torch.no_grad():
        for i in range(0, len(crops), batch):
            x = torch.stack([model_input(c, cfg.region, cfg.input_size)
                             for c in crops[i:i + batch]])
            z = model(x.unsqueeze(1))["frame_logits"][:, 0]
            if cfg.flip_average:  # the exported graph's score (training/export.py)
                z = (z + model(x.flip(-1).unsqueeze(1))["frame_logits"][:, 0]) / 2
            out.append(z.numpy())
    return np.concatenate(out).astype(np.float64)


def calibration_media(checkpoint: Path, cfg: TrainConfig,
                      photo_cache: Path | None) -> list[CalibrationMedia]:
    """Validation clips (real and fake) and the real photos of ``photo_cache`` outside
    the benchmark's 20% hold-out (same group split as ``fakelens eval --suite``)."""
    check_cache_crops(cfg)
    val = video_validation(cfg.data, cfg.input_size)
    z = checkpoint_logits(checkpoint, cfg, val.crops)
    media = [CalibrationMedia(c, int(val.labels[val.clips == c][0]), "video",
                              z[val.clips == c]) for c in sorted(set(val.clips))]
    if photo_cache is not None:
        check_crop_scale(photo_cache, cfg.crop_scale)
        cache = load_face_cache(photo_cache)
        train_idx, _ = split_by_group(cache["group"], 0.2, 0)
        real = train_idx[cache["label"][train_idx] == 0]
        zp = checkpoint_logits(checkpoint, cfg, cache["crops"][real])
        media += [CalibrationMedia(str(cache["group"][i]), 0, "image", zp[k:k + 1])
                  for k, i in enumerate(real)]
    return media


def calibrate(media: list[CalibrationMedia],
              max_real_at_threshold: float = MAX_REAL_AT_THRESHOLD) -> Calibration:
    """Balanced Platt fit on frames (each medium weighted alike), then the smallest
    offset that keeps real clips and real photos under both limits (0: no real medium of
    either kind at the threshold)."""
    y = np.concatenate([np.full(len(m.logits), m.label) for m in media])
    z = np.concatenate([m.logits for m in media])
    b, t = metrics.fit_platt(y, z)
    cal = Calibration(b, t, b, media)

    def within_limits(c: Calibration) -> bool:
        for kind in ("video", "image"):
            s = c.media_scores(kind, 0)
            if len(s) and ((s >= THRESHOLD).mean() > max_real_at_threshold
                           or (s >= THRESHOLD - DEFAULT_BAND).mean() > MAX_REAL_IN_BAND):
                return False
        return True

    step = 0.05 * t
    while not within_limits(cal) and cal.offset < b + 40 * t:
        cal.offset += step
    log.info("calibration: %s", cal.summary())
    return cal


@dataclass
class TrackCalibration:
    """The temporal head's offset and temperature, fitted on whole validation clips; a
    clip's score is what analysis gives a track: the mean of the frames' robust mean
    (the frame head's calibration) and the temporal head's probability."""

    offset: float
    temperature: float
    fitted_offset: float
    labels: np.ndarray  # per clip
    frame_scores: np.ndarray  # per clip: robust mean of calibrated frame probabilities
    track_logits: np.ndarray  # per clip

    def prob(self, logits: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(np.asarray(logits) - self.offset) / self.temperature))

    def clip_scores(self) -> np.ndarray:
        return (self.frame_scores + self.prob(self.track_logits)) / 2

    def summary(self) -> dict:
        s, y = self.clip_scores(), self.labels
        out = {"temporal_offset": round(self.offset, 4),
               "temporal_temperature": round(self.temperature, 4),
               "temporal_fitted_offset": round(self.fitted_offset, 4),
               "clips_real_n": int((y == 0).sum()), "clips_fake_n": int((y == 1).sum()),
               "clips_real_at_threshold": int((s[y == 0] >= THRESHOLD).sum()),
               "clips_fake_at_threshold": int((s[y == 1] >= THRESHOLD).sum())}
        if 0 < y.sum() < len(y):
            out.update(clips_auc=round(metrics.roc_auc(y, s), 4),
                       clips_frame_auc=round(metrics.roc_auc(y, self.frame_scores), 4),
                       clips_temporal_auc=round(metrics.roc_auc(y, self.track_logits), 4))
        return out


def clip_logits(checkpoint: Path, cfg: TrainConfig) -> tuple[np.ndarray, list, np.ndarray]:
    """(labels, frame logits per clip, track logit per clip) of the validation role's
    whole clips (``tracks.clip_validation``), scored by a temporal run's checkpoint."""
    from fakelens.training.tracks import clip_validation

    val = clip_validation(cfg.data, cfg.input_size, cfg.region)
    model = load_trained(checkpoint, cfg.architecture)
    frames, tracks = [], []
    with torch.no_grad():
        for i in range(len(val)):
            out = model(val[i][0])
            frames.append(out["frame_logits"][0].double().numpy())
            tracks.append(float(out["track_logit"][0]))
    return val.labels, frames, np.array(tracks)


def calibrate_track(checkpoint: Path, cfg: TrainConfig, frame: Calibration
                    ) -> TrackCalibration:
    """Balanced Platt fit of the temporal head on the clips, then the smallest offset that
    keeps the real clips' track scores (frame and temporal together) under both limits."""
    y, frame_logits, z = clip_logits(checkpoint, cfg)
    frame_scores = np.array([robust_mean(frame.prob(f)) for f in frame_logits])
    b, t = metrics.fit_platt(y, z)
    cal = TrackCalibration(b, t, b, y, frame_scores, z)

    def within_limits(c: TrackCalibration) -> bool:
        s = c.clip_scores()[y == 0]
        return (s >= THRESHOLD).mean() <= MAX_REAL_AT_THRESHOLD and \
            (s >= THRESHOLD - DEFAULT_BAND).mean() <= MAX_REAL_IN_BAND

    step = 0.05 * t
    while not within_limits(cal) and cal.offset < b + 40 * t:
        cal.offset += step
    log.info("temporal calibration: %s", cal.summary())
    return cal


MIN_CAUGHT = 0.5  # of the fakes of every public held-out set: FAKE or UNCERTAIN


def uncertain_edge(fake_scores_by_set: dict[str, list[float]], threshold: float = THRESHOLD,
                   band: float = DEFAULT_BAND, min_caught: float = MIN_CAUGHT) -> float | None:
    """The lower edge of the uncertain band that keeps at least ``min_caught`` of the
    fakes of every set at or above it (Likely manipulated or Uncertain, never "no sign"),
    rounded down to 0.01; None when ``threshold - band`` already does. Widening the band
    costs no false alarm: it moves real media from "no sign" to Uncertain, never to FAKE."""
    edge = threshold - band
    for scores in fake_scores_by_set.values():
        ranked = sorted(scores, reverse=True)
        if not ranked:
            continue
        needed = ranked[max(1, math.ceil(min_caught * len(ranked))) - 1]
        edge = min(edge, needed)
    if edge >= threshold - band:
        return None
    return math.floor(edge * 100) / 100
