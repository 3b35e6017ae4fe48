"""Export trained weights to ONNX (+ pretrained config), with a parity check vs torch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from fakelens.errors import FakeLensError
from fakelens.models.pretrained import PretrainedConfig
from fakelens.models.store import file_sha256
from fakelens.training.combine import load_trained
from fakelens.training.config import TrainConfig
from fakelens.training.data import IMAGENET_MEAN, IMAGENET_STD

log = logging.getLogger(__name__)
PARITY_TOLERANCE = 1e-3


class FrameGraph(nn.Module):
    """crops [N,3,H,W] -> logits [N], embeddings [N,C], cam [N,h,w].

    ``cam`` is the where-blended map (per-cell logit) of models with a blend head, and
    otherwise the class activation map (mean(cam) == logit). An output ensemble's graph
    returns the mean of each output over its members. With ``flip_average`` each output is
    the mean over the crop and its mirror image (the mirror's map flipped back).
    """

    def __init__(self, model, flip_average: bool = False):
        super().__init__()
        self.members = nn.ModuleList(getattr(model, "members", [model]))
        self.flip_average = flip_average

    @staticmethod
    def _member(model, crops):
        fmap = model.feature_maps(crops)
        emb = fmap.mean(dim=(2, 3))
        head = model.frame_head
        logits = head(emb).squeeze(-1)
        if model.blend_head is not None:
            return logits, emb, model.blend_head(fmap)[:, 0]
        cam = (fmap * head.weight.view(1, -1, 1, 1)).sum(dim=1) + head.bias
        return logits, emb, cam

    def _single(self, crops):
        outs = [self._member(m, crops) for m in self.members]
        if len(outs) == 1:
            return outs[0]
        return tuple(torch.stack(parts).mean(0) for parts in zip(*outs, strict=True))

    def forward(self, crops):
        if not self.flip_average:
            return self._single(crops)
        n = crops.shape[0]
        logits, emb, cam = self._single(torch.cat([crops, crops.flip(-1)]))
        return ((logits[:n] + logits[n:]) / 2, (emb[:n] + emb[n:]) / 2,
                (cam[:n] + cam[n:].flip(-1)) / 2)


class TemporalGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.temporal = model.temporal

    def forward(self, embeddings):
        return self.temporal(embeddings)


def _export(module: nn.Module, example: torch.Tensor, path: Path, input_name: str,
            output_names: list[str], dynamic: dict) -> None:
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, (example,), str(path), input_names=[input_name],
                          output_names=output_names, dynamic_axes=dynamic, opset_version=17,
                          dynamo=False)


def _parity(module: nn.Module, path: Path, inputs: torch.Tensor, input_name: str) -> float:
    with torch.no_grad():
        expected = module(inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {input_name: inputs.numpy()})
    worst = max(float(np.abs(e.numpy() - g).max()) for e, g in zip(expected, got, strict=True))
    if worst > PARITY_TOLERANCE:
        raise FakeLensError(f"{path.name}: ONNX output differs from torch by {worst:.2e}")
    return worst


def export_detector(checkpoint: Path, cfg: TrainConfig, out_dir: Path, *, task: str,
                    description: str, temperature: float = 1.0,
                    temporal_temperature: float = 1.0, temporal_offset: float = 0.0,
                    threshold: float = 0.5,
                    logit_offset: float = 0.0,
                    applies_to: tuple[str, ...] = ("video", "image"),
                    metrics: dict[str, str] | None = None,
                    training: dict[str, str] | None = None,
                    parity_crops: np.ndarray | None = None) -> PretrainedConfig:
    """Write ``<name>.frame.onnx`` (+ ``<name>.temporal.onnx``) and ``<name>.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_trained(checkpoint, cfg.architecture)
    size = cfg.input_size
    frame_path = out_dir / f"{cfg.name}.frame.onnx"
    frame = FrameGraph(model, cfg.flip_average)
    _export(frame, torch.randn(2, 3, size, size), frame_path, "crops",
            ["logits", "embeddings", "cam"], {"crops": {0: "n"}, "logits": {0: "n"},
                                              "embeddings": {0: "n"}, "cam": {0: "n"}})
    check = torch.randn(3, 3, size, size) if parity_crops is None else \
        torch.from_numpy(parity_crops.astype(np.float32))
    worst = _parity(frame, frame_path, check, "crops")
    log.info("%s parity: max abs diff %.2e", frame_path.name, worst)
    temporal_name = temporal_sha = None
    if model.temporal is not None:
        t_path = out_dir / f"{cfg.name}.temporal.onnx"
        tg = TemporalGraph(model)
        _export(tg, torch.randn(1, 8, model.embed_dim), t_path, "embeddings",
                ["track_logit"], {"embeddings": {1: "t"}})
        worst_t = _parity(tg, t_path, torch.randn(1, 21, model.embed_dim), "embeddings")
        log.info("%s parity: max abs diff %.2e", t_path.name, worst_t)
        temporal_name, temporal_sha = t_path.name, file_sha256(t_path)
    config = PretrainedConfig(
        name=cfg.name, version=cfg.version, architecture=cfg.architecture, task=task,
        description=description, input_size=size, crop_scale=cfg.crop_scale,
        region=cfg.region, region_source_size=cfg.region_source_size,
        mean=IMAGENET_MEAN, std=IMAGENET_STD, colour_order="RGB", temperature=temperature,
        logit_offset=logit_offset,
        heatmap="blend-map" if frame.members[0].blend_head is not None else "class-activation",
        temporal_temperature=temporal_temperature, temporal_offset=temporal_offset,
        threshold=threshold,
        frame_graph=frame_path.name, frame_sha256=file_sha256(frame_path),
        temporal_graph=temporal_name, temporal_sha256=temporal_sha, applies_to=applies_to,
        metrics=metrics or {}, training=training or {})
    (out_dir / f"{cfg.name}.json").write_text(config.model_dump_json(indent=1))
    return config
