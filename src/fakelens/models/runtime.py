"""ONNX Runtime sessions for installed detectors (no torch at analysis time).

Sessions are created once per process and reused (the seed reloaded its model on
every request).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from fakelens.errors import ModelIntegrityError
from fakelens.models.pretrained import PretrainedConfig
from fakelens.models.registry import InstalledDetector, get_detector
from fakelens.models.store import file_sha256


@dataclass(frozen=True)
class FrameOutputs:
    probs: np.ndarray  # [N] calibrated probability of fake
    logits: np.ndarray  # [N] raw logits
    embeddings: np.ndarray  # [N, C]
    cams: np.ndarray  # [N, h, w] class activation maps (logit contribution per cell)


_lock = threading.Lock()

# ONNX Runtime execution providers for the sessions this process creates: the CPU, unless
# a batch GPU worker (batch/worker.py) asked for CUDA first (set_providers)
_providers: list[str] = ["CPUExecutionProvider"]


def set_providers(providers: list[str]) -> None:
    """Use ``providers`` (in order of preference) for the detectors loaded from now on in
    this process; detectors already loaded are dropped so that they load again on them."""
    with _lock:
        _providers[:] = providers
        _loaded.clear()


def _session(path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=list(_providers))


class Detector:
    """A loaded detector: preprocessing from its config, then the ONNX graphs."""

    def __init__(self, installed: InstalledDetector, threads: int = 0):
        self.config: PretrainedConfig = installed.config
        cfg = self.config
        frame_path = installed.path(cfg.frame_graph)
        if file_sha256(frame_path) != cfg.frame_sha256:
            raise ModelIntegrityError(f"{frame_path} does not match the sha256 in its config")
        self._frame = _session(frame_path, threads)
        self._temporal = None
        if cfg.temporal_graph:
            t_path = installed.path(cfg.temporal_graph)
            if file_sha256(t_path) != cfg.temporal_sha256:
                raise ModelIntegrityError(f"{t_path} does not match the sha256 in its config")
            self._temporal = _session(t_path, threads)
        self._mean = np.array(cfg.mean, np.float32).reshape(1, 3, 1, 1)
        self._std = np.array(cfg.std, np.float32).reshape(1, 3, 1, 1)

    @property
    def providers(self) -> list[str]:
        """The execution providers the frame graph runs on (CUDA falls back to the CPU
        when its libraries cannot be loaded)."""
        return self._frame.get_providers()

    @property
    def has_temporal_head(self) -> bool:
        return self._temporal is not None

    def preprocess(self, crops_rgb: list[np.ndarray]) -> np.ndarray:
        size = self.config.input_size
        batch = np.stack([
            c if c.shape[0] == size else cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
            for c in crops_rgb])
        if self.config.colour_order == "BGR":
            batch = batch[..., ::-1]
        x = batch.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
        return (x - self._mean) / self._std

    def score_frames(self, crops_rgb: list[np.ndarray], batch_size: int = 8) -> FrameOutputs:
        # Small batches: ONNX Runtime's activations for 32 crops at once cost more memory
        # (264 against 140 MB peak for MobileNetV2 at 160 px) and were no faster here.
        logits, emb, cams = [], [], []
        for i in range(0, len(crops_rgb), batch_size):
            x = self.preprocess(crops_rgb[i:i + batch_size])
            out = self._frame.run(["logits", "embeddings", "cam"], {"crops": x})
            logits.append(out[0])
            emb.append(out[1])
            cams.append(out[2])
        z = np.concatenate(logits).astype(np.float64)
        probs = 1.0 / (1.0 + np.exp(-(z - self.config.logit_offset) / self.config.temperature))
        return FrameOutputs(probs, z, np.concatenate(emb), np.concatenate(cams))

    def score_track(self, embeddings: np.ndarray) -> float | None:
        """Temporal head over a face track's embeddings (in time order)."""
        if self._temporal is None or len(embeddings) < 2:
            return None
        (z,) = self._temporal.run(["track_logit"],
                                  {"embeddings": embeddings[None].astype(np.float32)})
        t, b = self.config.temporal_temperature, self.config.temporal_offset
        return float(1.0 / (1.0 + np.exp(-(float(z.ravel()[0]) - b) / t)))


_loaded: dict[tuple[str, str, int], Detector] = {}


def load_detector(name: str, threads: int = 0) -> Detector:
    """The named installed detector, loaded once per process (per weights folder, so
    that a benchmark can compare two versions of one detector in one process)."""
    installed = get_detector(name)
    with _lock:
        key = (name, str(installed.folder), threads)
        if key not in _loaded:
            _loaded[key] = Detector(installed, threads)
        return _loaded[key]
