"""Pretrained configs: everything needed to use a set of weights correctly.

A config travels with its ONNX file (``<name>.json`` beside ``<name>.onnx``) and carries
the preprocessing (crop geometry, input size, mean/std, colour order), the labels, the
decision threshold, the temperature found by calibration, the sha256 of each graph, and
the measured accuracy from the model card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PretrainedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    architecture: str
    task: Literal["face-swap", "synthetic-face"]
    description: str
    input_size: int
    crop_scale: float = Field(description="crop side = crop_scale * longer side of the face box")
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    colour_order: Literal["RGB", "BGR"] = "RGB"
    labels: tuple[str, str] = ("real", "fake")
    temperature: float = Field(1.0, gt=0, description="frame logits are divided by this")
    logit_offset: float = Field(0.0, description="subtracted from frame logits before the "
                                "temperature: probability = sigmoid((logit - offset) / T)")
    temporal_temperature: float = Field(1.0, gt=0, description="same, for the track logit")
    threshold: float = Field(0.5, gt=0, lt=1)
    uncertain_from: float | None = Field(
        None, gt=0, lt=1, description="lower edge of the uncertain band when it reaches "
        "further below the threshold than the band's half-width: calibrated so that the "
        "fakes this detector misses most often are called Uncertain, not 'no sign'")
    frame_graph: str = Field(description="ONNX file: crops -> logits, embeddings, cam")
    heatmap: Literal["class-activation", "blend-map"] = Field(
        "class-activation", description="what the graph's cam output is: a class activation "
        "map (per-cell logit contribution) or a where-blended map (per-cell logit)")
    frame_sha256: str
    temporal_graph: str | None = Field(None, description="ONNX file: embeddings -> track logit")
    temporal_sha256: str | None = None
    applies_to: tuple[str, ...] = Field(("video", "image"), description="media kinds scored")
    metrics: dict[str, str] = Field(default_factory=dict, description="from the model card")
    missed: dict[str, str] = Field(
        default_factory=dict, description="from the model card: kinds of manipulation this "
        "detector mostly misses -> what was measured on them (shown beside every verdict "
        "that is not Likely manipulated)")
    training: dict[str, str] = Field(default_factory=dict)

    @property
    def heatmap_temperature(self) -> float:
        """A class activation map shares the frame logit's scale; a where-blended map has
        its own, trained on masks."""
        return self.temperature if self.heatmap == "class-activation" else 1.0

    @classmethod
    def load(cls, path: Path) -> PretrainedConfig:
        return cls.model_validate_json(Path(path).read_text())
