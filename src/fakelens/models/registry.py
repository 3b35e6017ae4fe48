"""Registry of architectures and of installed (trained) detectors.

Architectures are the torch designs the training code can build; detectors are
trained weights exported to ONNX, with a ``PretrainedConfig`` each. The package ships
its detectors in ``fakelens/weights``; ``FAKELENS_WEIGHTS_DIR`` (folders separated by
the OS path separator) replaces that search path.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from fakelens.errors import ModelMissing, UnknownModel
from fakelens.models.pretrained import PretrainedConfig

log = logging.getLogger(__name__)

DEFAULT_DETECTORS = ("fakelens-faceswap-video", "fakelens-faceswap", "fakelens-synthetic")

ARCHITECTURE_SUMMARIES = {
    "resnext50_lstm": "ResNeXt50_32x4d frame encoder + LSTM over the face track",
    "mobilenet_gru": "MobileNetV2 frame encoder + bidirectional GRU over the face track",
    "mobilenet_frame": "MobileNetV2 frame/image classifier (stills)",
    "mobilenet_xray": "MobileNetV2 frame classifier + where-blended map (heatmaps)",
    "mobilenet_xray_gru": "MobileNetV2 frame classifier + where-blended map + bidirectional "
                          "GRU over the face track",
    "lite0_xray": "EfficientNet-Lite0 frame classifier + where-blended map (heatmaps)",
    "lite1_xray": "EfficientNet-Lite1 frame classifier + where-blended map (heatmaps)",
}


@dataclass(frozen=True)
class InstalledDetector:
    config: PretrainedConfig
    folder: Path

    def path(self, filename: str) -> Path:
        return self.folder / filename


def weight_dirs() -> list[Path]:
    configured = os.environ.get("FAKELENS_WEIGHTS_DIR")
    if configured is not None:
        return [Path(p) for p in configured.split(os.pathsep) if p]
    return [Path(str(resources.files("fakelens") / "weights"))]


def installed_detectors() -> dict[str, InstalledDetector]:
    found: dict[str, InstalledDetector] = {}
    for folder in reversed(weight_dirs()):  # earlier dirs override later ones
        if not folder.is_dir():
            continue
        for cfg_path in sorted(folder.glob("*.json")):
            try:
                cfg = PretrainedConfig.load(cfg_path)
            except ValueError as exc:  # a card that fails validation is not installed
                reason = "; ".join(e["msg"] for e in exc.errors()) \
                    if isinstance(exc, ValidationError) else str(exc)
                log.warning("%s is not a valid detector config, skipped: %s", cfg_path, reason)
                continue
            if (folder / cfg.frame_graph).is_file():
                found[cfg.name] = InstalledDetector(cfg, folder)
    return found


def get_detector(name: str) -> InstalledDetector:
    installed = installed_detectors()
    if name in installed:
        return installed[name]
    if name in DEFAULT_DETECTORS or name in ARCHITECTURE_SUMMARIES:
        raise ModelMissing(
            f"no trained model installed: '{name}' has no weights in "
            f"{', '.join(str(d) for d in weight_dirs())}; train and export one "
            "(see docs/MODELS.md) or set FAKELENS_WEIGHTS_DIR"
        )
    known = ", ".join(sorted(installed) or ["none installed"])
    raise UnknownModel(f"unknown model '{name}' (installed: {known})")


def default_detector_names(kind: str) -> list[str]:
    """The shipped detectors that apply to a media kind ('video' or 'image')."""
    installed = installed_detectors()
    names = [n for n in DEFAULT_DETECTORS if n in installed
             and kind in installed[n].config.applies_to]
    if not names:
        raise ModelMissing(
            "no trained model installed: fakelens ships its detectors in fakelens/weights; "
            "this installation has none for " + kind + "s (see docs/MODELS.md)"
        )
    return names
