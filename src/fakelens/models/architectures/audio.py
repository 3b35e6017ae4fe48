"""Torch module of the voice-clone detector (needs the ``[train]`` extra).

``logmel_cnn``: a small CNN over a log-mel spectrogram ``[N, n_mels, T]`` (from
``fakelens.audio.features.log_mel``, the same numpy code at training and at run time) to
one logit per window. Four conv blocks (3x3, batch norm, ReLU, 2x2 max-pool) and a mean
over time and frequency, so any window length works.
"""

from __future__ import annotations

import torch
from torch import nn

AUDIO_ARCHITECTURES = {
    "logmel_cnn": "small CNN (4 conv blocks, about 100k weights) on a 64-band log-mel "
                  "spectrogram of 2 s windows",
}


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2))


class LogMelCNN(nn.Module):
    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 96), dropout: float = 0.3):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers.append(_block(cin, w))
            cin = w
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cin, 1)
        self.embed_dim = cin

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[N, n_mels, T] -> [N] logits (fake > 0)."""
        x = self.body(features.unsqueeze(1))
        emb = x.mean(dim=(2, 3))
        return self.head(self.dropout(emb)).squeeze(-1)


def build_audio_model(name: str) -> nn.Module:
    if name != "logmel_cnn":
        raise ValueError(f"unknown audio architecture {name!r}")
    return LogMelCNN()
