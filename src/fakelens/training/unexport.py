"""A checkpoint rebuilt from a shipped detector's frame graph (``fakelens unexport``).

The training checkpoint of a shipped detector is not always kept (v2's lived on the
machine that trained it), but its ONNX frame graph holds every weight: the exporter folds
each batch norm into the convolution before it, so a rebuilt convolution carries the
folded kernel and its batch norm becomes a pure shift (weight 1, mean 0, variance
``1 - eps``, bias = the folded bias). Optionally the detector's calibration is folded into
the frame head, so that the rebuilt model's logit is the shipped one's ``(logit - offset) /
temperature``: members of an output ensemble then average logits on one scale.

The rebuilt model is checked against the graph on random crops before it is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from safetensors.torch import save_file
from torch import nn

from fakelens.errors import FakeLensError
from fakelens.models.architectures import build_model
from fakelens.models.pretrained import PretrainedConfig
from fakelens.training.export import PARITY_TOLERANCE, FrameGraph

# v2's graph names its heads model.*, later exports members.0.* (training/export.py)
HEAD_PREFIXES = ("model.", "members.0.")


def _graph_convolutions(graph: onnx.GraphProto) -> tuple[list, dict[str, np.ndarray]]:
    """(the backbone's convolutions as (kernel, bias) in graph order, the named heads)."""
    weights = {t.name: numpy_helper.to_array(t).copy() for t in graph.initializer}
    heads = {k[len(p):]: v for k, v in weights.items() for p in HEAD_PREFIXES
             if k.startswith(p) and k[len(p):].startswith(("frame_head.", "blend_head."))}
    first = next((n for n in graph.node if n.op_type == "Conv"), None)
    if first is None or first.input[0] != graph.input[0].name:
        raise FakeLensError("the frame graph does not feed its crops straight to the "
                            "backbone (a graph exported with flip averaging cannot be rebuilt)")
    convs = []
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1].endswith("blend_head.weight"):
            continue
        if node.input[1] not in weights or len(node.input) < 3:
            raise FakeLensError("the frame graph's convolutions are not plain folded "
                                "initializers: cannot rebuild its weights")
        convs.append((weights[node.input[1]], weights[node.input[2]]))
    return convs, heads


def _load_folded(model: nn.Module, convs: list, heads: dict[str, np.ndarray]) -> None:
    layers = list(model.features.modules())
    pairs = [(conv, layers[i + 1]) for i, conv in enumerate(layers[:-1])
             if isinstance(conv, nn.Conv2d)]
    if len(pairs) != len(convs) or not all(isinstance(bn, nn.BatchNorm2d) for _, bn in pairs):
        raise FakeLensError(f"the frame graph has {len(convs)} backbone convolutions, the "
                            f"architecture {len(pairs)} convolution + batch norm pairs")
    with torch.no_grad():
        for (conv, bn), (kernel, bias) in zip(pairs, convs, strict=True):
            if tuple(conv.weight.shape) != kernel.shape:
                raise FakeLensError(f"kernel shape {kernel.shape} does not fit "
                                    f"{tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(kernel))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(bias))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        for prefix, head in (("frame_head.", model.frame_head),
                             ("blend_head.", model.blend_head)):
            if head is None:
                continue
            for name, param in head.named_parameters():
                key = prefix + name
                if key not in heads:
                    raise FakeLensError(f"the frame graph has no {key}")
                param.copy_(torch.from_numpy(heads[key]).reshape(param.shape))


def _check_parity(model: nn.Module, graph_path: Path, size: int) -> float:
    crops = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = FrameGraph(model)(crops)[0].numpy()
    session = ort.InferenceSession(str(graph_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"crops": crops.numpy()})
    return float(np.abs(got.ravel() - expected.ravel()).max())


def unexport(config_path: Path, out: Path, *, fold_calibration: bool = True) -> Path:
    """Write the checkpoint of the detector whose pretrained config is ``config_path``
    (its frame graph beside it) to ``out``, loadable by ``fakelens ensemble`` and
    ``fakelens export`` like a run's checkpoint."""
    cfg = PretrainedConfig.load(config_path)
    graph_path = config_path.parent / cfg.frame_graph
    if cfg.temporal_graph:
        raise FakeLensError(f"{cfg.name} has a temporal graph: only frame detectors can be "
                            "rebuilt")
    model = build_model(cfg.architecture, pretrained=False).eval()
    _load_folded(model, *_graph_convolutions(onnx.load(str(graph_path)).graph))
    error = _check_parity(model, graph_path, cfg.input_size)
    if error > PARITY_TOLERANCE:
        raise FakeLensError(f"the rebuilt {cfg.name} differs from its frame graph by "
                            f"{error:.2g}")
    if fold_calibration:
        with torch.no_grad():
            model.frame_head.weight.div_(cfg.temperature)
            model.frame_head.bias.sub_(cfg.logit_offset).div_(cfg.temperature)
    meta = {"architecture": cfg.architecture, "unexported_from": str(config_path),
            "frame_sha256": cfg.frame_sha256 or "",
            "calibration_folded": (f"offset {cfg.logit_offset}, temperature {cfg.temperature}"
                                   if fold_calibration else "no")}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out, metadata=meta)
    return out
