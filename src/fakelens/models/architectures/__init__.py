"""Torch modules of the registered architectures (needs the ``[train]`` extra).

Every model maps face crops ``[B, T, 3, H, W]`` (a batch of face tracks, or ``T == 1``
for stills) to per-frame logits ``[B, T]`` and, when it has a temporal head, one
track logit ``[B]``. Pooling over time is the mean of the recurrent outputs, in
training and inference alike.
"""

from fakelens.models.architectures.nets import (
    ARCHITECTURES,
    FrameSequenceModel,
    TemporalHead,
    build_model,
)

__all__ = ["ARCHITECTURES", "FrameSequenceModel", "TemporalHead", "build_model"]
