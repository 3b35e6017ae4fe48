"""The voice-clone detector at run time: its config and its ONNX graph (no torch).

The config (``<name>.json`` beside ``<name>.onnx`` in ``fakelens/weights/voice``, or in a
``voice`` folder of each ``FAKELENS_WEIGHTS_DIR`` entry) carries the features, the window,
the calibration and the model card, like the face detectors' ``PretrainedConfig``.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from fakelens.audio.features import N_MELS, SAMPLE_RATE, fixed_length, log_mel
from fakelens.errors import ModelIntegrityError, ModelMissing
from fakelens.models.registry import weight_dirs
from fakelens.models.runtime import _session
from fakelens.models.store import file_sha256

DEFAULT_VOICE_DETECTOR = "fakelens-voice"


class AudioModelConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    architecture: str
    task: Literal["voice-clone"] = "voice-clone"
    description: str
    sample_rate: int = SAMPLE_RATE
    features: Literal["log-mel-64"] = "log-mel-64"
    n_mels: int = N_MELS
    window_s: float = Field(2.0, gt=0, description="seconds scored at once (shorter speech "
                            "is repeat-padded to this)")
    hop_s: float = Field(1.0, gt=0, description="step between windows of longer speech")
    labels: tuple[str, str] = ("real", "fake")
    temperature: float = Field(1.0, gt=0)
    logit_offset: float = Field(0.0, description="probability = sigmoid((logit - offset) / T)")
    threshold: float = Field(0.5, gt=0, lt=1)
    graph: str
    sha256: str
    metrics: dict[str, str] = Field(default_factory=dict, description="from the model card")
    missed: dict[str, str] = Field(default_factory=dict)
    training: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> AudioModelConfig:
        return cls.model_validate_json(Path(path).read_text())


def voice_dirs() -> list[Path]:
    """``voice`` in each weights folder, then the package's own: replacing the face
    detectors (``FAKELENS_WEIGHTS_DIR``) does not switch the voice check off."""
    dirs = [d / "voice" for d in weight_dirs()]
    shipped = Path(str(resources.files("fakelens") / "weights" / "voice"))
    return dirs if shipped in dirs else [*dirs, shipped]


def find_voice_detector(name: str = DEFAULT_VOICE_DETECTOR) -> tuple[AudioModelConfig, Path]:
    for folder in voice_dirs():
        cfg_path = folder / f"{name}.json"
        if cfg_path.is_file():
            cfg = AudioModelConfig.load(cfg_path)
            if (folder / cfg.graph).is_file():
                return cfg, folder
    raise ModelMissing(f"no voice-clone detector installed: '{name}' has no weights in "
                       f"{', '.join(str(d) for d in voice_dirs())}")


def installed_voice_detectors() -> dict[str, AudioModelConfig]:
    """Every voice detector with its weights in place, by name (the first folder that holds
    a name wins, as ``find_voice_detector`` picks it)."""
    found: dict[str, AudioModelConfig] = {}
    for folder in voice_dirs():
        for cfg_path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                cfg = AudioModelConfig.load(cfg_path)
            except (ValueError, OSError):
                continue
            if cfg.name not in found and (folder / cfg.graph).is_file():
                found[cfg.name] = cfg
    return found


class VoiceDetector:
    """Scores 16 kHz mono speech: windows -> log-mel -> ONNX logits -> probabilities."""

    def __init__(self, config: AudioModelConfig, folder: Path, threads: int = 0):
        self.config = config
        path = folder / config.graph
        if file_sha256(path) != config.sha256:
            raise ModelIntegrityError(f"{path} does not match the sha256 in its config")
        self._session = _session(path, threads)

    @property
    def window_samples(self) -> int:
        return int(round(self.config.window_s * self.config.sample_rate))

    def windows(self, speech: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(start sample, window) pairs covering ``speech``: one repeat-padded window when
        it is shorter than a window, else windows every ``hop_s`` up to its end."""
        n = self.window_samples
        if speech.size <= n:
            return [(0, fixed_length(speech, n))]
        hop = int(round(self.config.hop_s * self.config.sample_rate))
        starts = list(range(0, speech.size - n + 1, hop))
        if starts[-1] + n < speech.size:
            starts.append(speech.size - n)
        return [(s, speech[s:s + n]) for s in starts]

    def logits(self, windows: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        out = []
        for i in range(0, len(windows), batch_size):
            feats = np.stack([log_mel(w) for w in windows[i:i + batch_size]])
            (z,) = self._session.run(["logits"], {"features": feats})
            out.append(np.asarray(z, np.float64).reshape(-1))
        return np.concatenate(out) if out else np.zeros(0)

    def probs(self, windows: list[np.ndarray]) -> np.ndarray:
        z = self.logits(windows)
        return 1.0 / (1.0 + np.exp(-(z - self.config.logit_offset) / self.config.temperature))


_lock = threading.Lock()
_loaded: dict[tuple[str, str, int], VoiceDetector] = {}


def load_voice_detector(name: str = DEFAULT_VOICE_DETECTOR, threads: int = 0) -> VoiceDetector:
    """The named voice detector, loaded once per process (per weights folder)."""
    cfg, folder = find_voice_detector(name)
    with _lock:
        key = (name, str(folder), threads)
        if key not in _loaded:
            _loaded[key] = VoiceDetector(cfg, folder, threads)
        return _loaded[key]
