"""Untrained detectors exported exactly like the shipped ones, for plumbing tests."""

from __future__ import annotations

from pathlib import Path


def export_untrained(out: Path, name: str, *, input_size: int, pretrained: bool) -> Path:
    """Export ``mobilenet_gru`` (random, or ImageNet backbone with a random head) to
    ``out`` as detector ``name``; returns ``out`` (a FAKELENS_WEIGHTS_DIR)."""
    import torch
    from safetensors.torch import save_file

    from fakelens.models.architectures import build_model
    from fakelens.training.config import TrainConfig
    from fakelens.training.export import export_detector

    torch.manual_seed(0)
    model = build_model("mobilenet_gru", pretrained=pretrained)
    cfg = TrainConfig(name=name, architecture="mobilenet_gru", pretrained=False,
                      data={"kind": "sbi", "face_caches": []}, input_size=input_size)
    ckpt = out / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, ckpt)
    export_detector(ckpt, cfg, out, task="face-swap", description="untrained, tests only")
    ckpt.unlink()
    return out
