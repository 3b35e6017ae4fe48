"""Explanations derived from the numbers: activation heatmaps over face crops, the most
suspicious frames of a track, and plain sentences about each face.

A detector's class activation map (CAM) holds each cell's contribution to the frame logit
(their mean is the logit). A cell is shown as the probability the face would get if all of
it looked like that cell, on a diverging scale centred on the threshold: red cells pushed
the score towards fake, blue cells towards real, near-threshold cells stay clear.
"""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib import colormaps

from fakelens.analysis.verdict import clock
from fakelens.types import ScoreBand, Track

HEAT_COLORMAP = "RdBu_r"
MAX_ALPHA = 0.6


def heatmap(cam: np.ndarray, size: tuple[int, int], temperature: float = 1.0) -> np.ndarray:
    """The CAM upsampled to ``size`` (height, width) as per-pixel probabilities in [0, 1]."""
    cam = np.asarray(cam, dtype=np.float32)
    if cam.ndim != 2:
        raise ValueError(f"a CAM has two dimensions, got shape {cam.shape}")
    h, w = size
    up = cv2.resize(cam, (w, h), interpolation=cv2.INTER_CUBIC if min(cam.shape) > 1
                    else cv2.INTER_LINEAR)
    return 1.0 / (1.0 + np.exp(-np.clip(up / temperature, -30, 30)))


def overlay(crop: np.ndarray, heat: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``heat`` (from :func:`heatmap`) blended over the RGB crop; same size as the crop.

    Colour and opacity grow with the distance from ``threshold`` (square-root scale, so
    that moderate cells stay visible)."""
    if heat.shape != crop.shape[:2]:
        raise ValueError(f"heatmap {heat.shape} does not match crop {crop.shape[:2]}")
    below = np.clip((threshold - heat) / threshold, 0.0, 1.0)
    above = np.clip((heat - threshold) / (1.0 - threshold), 0.0, 1.0)
    signed = above - below  # -1 (towards real) .. +1 (towards fake)
    signed = np.sign(signed) * np.sqrt(np.abs(signed))  # moderate cells stay visible
    rgb = colormaps[HEAT_COLORMAP]((signed + 1.0) / 2.0)[..., :3]
    alpha = (MAX_ALPHA * np.abs(signed))[..., None]
    out = crop.astype(np.float32) / 255.0 * (1.0 - alpha) + rgb * alpha
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def suspicious_frames(track: Track, k: int = 3) -> list[int]:
    """Positions (within the track) of its ``k`` highest-scoring frames, in time order."""
    order = sorted(range(len(track.frames)), key=lambda i: -track.frames[i].score)
    return sorted(order[:k])


def evenly_spaced(n: int, k: int) -> list[int]:
    """``k`` positions spread over ``range(n)`` (all of them when ``n <= k``)."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [n // 2]


def score_position(score: float, band: ScoreBand) -> str:
    """Where a score lies relative to the threshold and the uncertainty band."""
    return {"uncertain": "within the uncertain band", "above": "above the threshold",
            "below": "below the uncertain band"}[band.where(score)]


def track_sentence(track: Track, band: ScoreBand, is_video: bool, frames_sampled: int) -> str:
    """One sentence about a face, made only of its numbers."""
    face, threshold = f"Face {track.track_id + 1}", band.threshold
    text = f"{face} scored {track.score:.2f} ({score_position(track.score, band)})"
    parts = []
    if track.temporal_score is not None:
        parts.append(f"frame average {track.frame_score:.2f}, "
                     f"temporal model {track.temporal_score:.2f}")
    if len(track.model_scores) > 1:
        parts.append(", ".join(f"{m.model} {m.score:.2f}" for m in track.model_scores))
    if parts:
        text += "; " + "; ".join(parts)
    if not is_video:
        return text + "."
    frames = track.frames
    high = [f for f in frames if f.score >= threshold]
    text += (f". It was seen in {len(frames)} of {frames_sampled} analysed frames, from "
             f"{clock(frames[0].timestamp_s)} to {clock(frames[-1].timestamp_s)}; "
             f"{len(high)} of them scored {threshold:.2f} or more")
    if high:
        text += f" (between {clock(high[0].timestamp_s)} and {clock(high[-1].timestamp_s)})"
    peak = max(frames, key=lambda f: f.score)
    text += f"; its highest frame score was {peak.score:.2f} at {clock(peak.timestamp_s)}"
    if not track.decisive:
        text += "; the face was seen too briefly to take part in the verdict"
    return text + "."


def key_face(crops: list[np.ndarray], cams: list[np.ndarray], track: Track,
             temperature: float = 1.0, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The face crop of a track's most suspicious frame and its heatmap overlay."""
    i = suspicious_frames(track, 1)[0]
    heat = heatmap(cams[i], crops[i].shape[:2], temperature)
    return crops[i], overlay(crops[i], heat, threshold)
