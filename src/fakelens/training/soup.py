"""Uniform weight averages ("model soups", Wortsman et al., 2022) of checkpoints that were
fine-tuned from the same ImageNet start with the same recipe.

Single checkpoints of the face-swap runs scored differently from one evaluation to the
next; averaging the weights of several good ones gives one model (same size and speed)
whose errors are less tied to one run's noise. Batch-norm statistics are averaged too.
"""

from __future__ import annotations

from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save_file

from fakelens.errors import FakeLensError


def average_checkpoints(sources: list[Path], out: Path) -> Path:
    """Write the element-wise mean of ``sources`` (same architecture) to ``out``."""
    if len(sources) < 2:
        raise FakeLensError("averaging needs at least two checkpoints")
    states = [load_file(p) for p in sources]
    keys = set(states[0])
    for path, state in zip(sources[1:], states[1:], strict=True):
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise FakeLensError(f"{path} does not have the tensors of {sources[0]}")
    with safe_open(str(sources[0]), "pt") as first:
        meta = dict(first.metadata() or {})
    averaged = {}
    for k in sorted(keys):
        if states[0][k].is_floating_point():
            averaged[k] = sum(s[k].double() for s in states).div(len(states)).to(
                states[0][k].dtype).contiguous()
        else:  # counters such as num_batches_tracked
            averaged[k] = states[0][k].contiguous()
    meta["averaged_from"] = ", ".join(str(p) for p in sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(averaged, out, metadata=meta)
    return out
