"""Combining trained checkpoints into one detector.

- *Weight averages* ("model soups", Wortsman et al., 2022): the element-wise mean of
  checkpoints fine-tuned from the same ImageNet start; one model of the same size and speed.
- *Output ensembles* (deep ensembles, Lakshminarayanan et al., 2017): the members are kept
  whole and their outputs averaged; one forward pass per member, but no assumption that
  the weights of independent runs can be mixed.

Both write one ``.safetensors`` file that ``fakelens export RUN --checkpoint NAME``
calibrates and exports like a run's checkpoint. An ensemble file holds each member's
tensors under ``member<i>.`` and records its sources in the metadata.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from fakelens.errors import FakeLensError
from fakelens.models.architectures import FrameSequenceModel, build_model

ENSEMBLE_KEY = "ensemble_of"


class EnsembleModel(nn.Module):
    """Members of one architecture whose frame logits (and where-blended maps) are
    averaged; ``forward`` matches a single model's for the keys calibration uses."""

    def __init__(self, members: list[FrameSequenceModel]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.temporal = None

    def forward(self, clips: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [m(clips) for m in self.members]
        averaged = {"frame_logits": torch.stack([o["frame_logits"] for o in outs]).mean(0)}
        if all("blend_logits" in o for o in outs):
            averaged["blend_logits"] = torch.stack([o["blend_logits"] for o in outs]).mean(0)
        return averaged


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), "pt") as f:
        return dict(f.metadata() or {})


def _load_states(sources: list[Path]) -> list[dict[str, torch.Tensor]]:
    if len(sources) < 2:
        raise FakeLensError("combining needs at least two checkpoints")
    states = [load_file(p) for p in sources]
    keys = set(states[0])
    for path, state in zip(sources[1:], states[1:], strict=True):
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise FakeLensError(f"{path} does not have the tensors of {sources[0]}")
    return states


def average_checkpoints(sources: list[Path], out: Path) -> Path:
    """Write the element-wise mean of ``sources`` (same architecture) to ``out``;
    batch-norm statistics are averaged too."""
    states = _load_states(sources)
    meta = _metadata(sources[0])
    averaged = {}
    for k in sorted(states[0]):
        if states[0][k].is_floating_point():
            averaged[k] = sum(s[k].double() for s in states).div(len(states)).to(
                states[0][k].dtype).contiguous()
        else:  # counters such as num_batches_tracked
            averaged[k] = states[0][k].contiguous()
    meta["averaged_from"] = ", ".join(str(p) for p in sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(averaged, out, metadata=meta)
    return out


def ensemble_checkpoints(sources: list[Path], out: Path) -> Path:
    """Write the members ``sources`` (same architecture) side by side to ``out``."""
    if any(ensemble_sources(p) for p in sources):
        raise FakeLensError("an ensemble cannot be a member of another ensemble")
    states = _load_states(sources)
    combined = {f"member{i}.{k}": t.contiguous()
                for i, state in enumerate(states) for k, t in state.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(combined, out, metadata={ENSEMBLE_KEY: ", ".join(str(p) for p in sources)})
    return out


def ensemble_sources(checkpoint: Path) -> list[str]:
    """The member checkpoints an ensemble file was made from ([] for a single model)."""
    listed = _metadata(checkpoint).get(ENSEMBLE_KEY, "")
    return [s for s in listed.split(", ") if s]


def load_trained(checkpoint: Path, architecture: str) -> nn.Module:
    """A checkpoint of a run, a weight average or an ensemble, ready for evaluation."""
    n_members = len(ensemble_sources(checkpoint))
    state = load_file(checkpoint)
    if not n_members:
        model = build_model(architecture, pretrained=False)
        model.load_state_dict(state)
        return model.eval()
    members = []
    for i in range(n_members):
        prefix = f"member{i}."
        member = build_model(architecture, pretrained=False)
        member.load_state_dict({k[len(prefix):]: t for k, t in state.items()
                                if k.startswith(prefix)})
        members.append(member)
    return EnsembleModel(members).eval()
