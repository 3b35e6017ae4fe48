"""AASIST (Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal
Graph Attention Networks", ICASSP 2022), for the audio benchmark only (torch, the
``[train]`` extra); never shipped, never in the product path.

Written from the paper, laid out so that the published ASVspoof 2019 LA weights
(``../shared/models/aasist/AASIST.pth``, clovaai/aasist, MIT) load strictly:

1. a fixed sinc front end: ``filts[0]`` band-pass filters of ``first_conv + 1`` taps,
   band edges evenly spaced on the mel scale over 0-8 kHz, Hamming-windowed (no weights);
   ``|.|``, 3x3 max-pool, batch norm, SELU;
2. six residual blocks on the (filter x time) map (2x3 convolutions, 1x3 max-pool);
3. a spectral graph (max over time, plus a learnt positional embedding) and a temporal
   graph (max over frequency), each through a graph attention layer and a top-k graph
   pooling;
4. two branches of heterogeneous (spectro-temporal) graph attention, each with its own
   learnt master node, two layers each with pooling in between; the branches are
   max-combined ("max graph operation") and read out as max |.| and mean of the temporal
   and spectral nodes plus the master node (5 x 32 values) into 2 logits:
   class 0 spoof, class 1 bona fide.

Input: 16 kHz waveforms of ``nb_samp`` (64,600) samples in [-1, 1]; shorter clips are
repeat-padded, longer ones cut (``pad``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

NB_SAMP = 64_600


def _mel(hz):
    return 2595 * np.log10(1 + hz / 700)


def _hz(mel):
    return 700 * (10 ** (mel / 2595) - 1)


class SincFrontEnd(nn.Module):
    """Fixed mel-spaced band-pass filters (no learnt weights: none in the state dict)."""

    def __init__(self, n_filters: int, kernel_size: int, sample_rate: int = 16_000):
        super().__init__()
        k = kernel_size + 1 if kernel_size % 2 == 0 else kernel_size
        freqs = sample_rate // 2 * np.linspace(0, 1, 257)
        mel = np.linspace(_mel(freqs).min(), _mel(freqs).max(), n_filters + 1)
        edges = _hz(mel)
        t = np.arange(-(k - 1) / 2, (k - 1) / 2 + 1)
        bank = np.zeros((n_filters, k), np.float32)
        for i in range(n_filters):
            lo, hi = edges[i], edges[i + 1]
            ideal = (2 * hi / sample_rate) * np.sinc(2 * hi * t / sample_rate) - \
                (2 * lo / sample_rate) * np.sinc(2 * lo * t / sample_rate)
            bank[i] = np.hamming(k) * ideal
        self.register_buffer("filters", torch.from_numpy(bank)[:, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, 1, S] -> [B, F, S']
        return F.conv1d(x, self.filters)


class ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int, first: bool = False):
        super().__init__()
        self.first = first
        if not first:
            self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, (2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, (2, 3), padding=(0, 1))
        if cin != cout:
            self.conv_downsample = nn.Conv2d(cin, cout, (1, 3), padding=(0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # as the published weights were trained: the first convolution reads the block's
        # input itself (bn1 is part of the state dict but its output is not used)
        out = self.conv2(F.selu(self.bn2(self.conv1(x))))
        identity = self.conv_downsample(x) if hasattr(self, "conv_downsample") else x
        return F.max_pool2d(out + identity, (1, 3))


def _att_param(dim: int) -> nn.Parameter:
    p = nn.Parameter(torch.empty(dim, 1))
    nn.init.xavier_normal_(p)
    return p


def _bn_nodes(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    shape = x.shape
    return bn(x.reshape(-1, shape[-1])).reshape(shape)


def _pairwise(x: torch.Tensor) -> torch.Tensor:  # [B, N, D] -> [B, N, N, D]
    return x.unsqueeze(2) * x.unsqueeze(1)


class GraphAttention(nn.Module):
    """Graph attention over fully connected nodes: attention from the element-wise
    product of node pairs, a temperature on its softmax."""

    def __init__(self, din: int, dout: int, temperature: float = 1.0):
        super().__init__()
        self.att_proj = nn.Linear(din, dout)
        self.att_weight = _att_param(dout)
        self.proj_with_att = nn.Linear(din, dout)
        self.proj_without_att = nn.Linear(din, dout)
        self.bn = nn.BatchNorm1d(dout)
        self.drop = nn.Dropout(0.2)
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(x)
        att = torch.tanh(self.att_proj(_pairwise(x))) @ self.att_weight
        att = F.softmax(att / self.temperature, dim=-2).squeeze(-1)
        x = self.proj_with_att(att @ x) + self.proj_without_att(x)
        return F.selu(_bn_nodes(self.bn, x))


class HeteroGraphAttention(nn.Module):
    """HS-GAL: attention over the union of temporal and spectral nodes, with one weight
    vector per pair of node types, and a master node attending to every node."""

    def __init__(self, din: int, dout: int, temperature: float = 1.0):
        super().__init__()
        self.proj_type1 = nn.Linear(din, din)
        self.proj_type2 = nn.Linear(din, din)
        self.att_proj = nn.Linear(din, dout)
        self.att_projM = nn.Linear(din, dout)
        self.att_weight11 = _att_param(dout)
        self.att_weight22 = _att_param(dout)
        self.att_weight12 = _att_param(dout)
        self.att_weightM = _att_param(dout)
        self.proj_with_att = nn.Linear(din, dout)
        self.proj_without_att = nn.Linear(din, dout)
        self.proj_with_attM = nn.Linear(din, dout)
        self.proj_without_attM = nn.Linear(din, dout)
        self.bn = nn.BatchNorm1d(dout)
        self.drop = nn.Dropout(0.2)
        self.temperature = temperature

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, master: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n1 = x1.size(1)
        x = self.drop(torch.cat([self.proj_type1(x1), self.proj_type2(x2)], dim=1))
        pair = torch.tanh(self.att_proj(_pairwise(x)))
        att = torch.empty(*pair.shape[:3], 1, dtype=x.dtype, device=x.device)
        att[:, :n1, :n1] = pair[:, :n1, :n1] @ self.att_weight11
        att[:, n1:, n1:] = pair[:, n1:, n1:] @ self.att_weight22
        att[:, :n1, n1:] = pair[:, :n1, n1:] @ self.att_weight12
        att[:, n1:, :n1] = pair[:, n1:, :n1] @ self.att_weight12
        att = F.softmax(att / self.temperature, dim=-2).squeeze(-1)
        # the master node (from the nodes before this layer's projection)
        att_m = torch.tanh(self.att_projM(x * master)) @ self.att_weightM
        att_m = F.softmax(att_m / self.temperature, dim=-2).squeeze(-1).unsqueeze(1)
        master = self.proj_with_attM(att_m @ x) + self.proj_without_attM(master)
        x = self.proj_with_att(att @ x) + self.proj_without_att(x)
        x = F.selu(_bn_nodes(self.bn, x))
        return x[:, :n1], x[:, n1:], master


class GraphPool(nn.Module):
    """Keep the top ``ratio`` of nodes by a learnt sigmoid score, scaled by it."""

    def __init__(self, ratio: float, dim: int, p: float = 0.3):
        super().__init__()
        self.ratio = ratio
        self.proj = nn.Linear(dim, 1)
        self.drop = nn.Dropout(p)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.proj(self.drop(h)))
        k = max(int(h.size(1) * self.ratio), 1)
        _, idx = torch.topk(scores, k, dim=1)
        return torch.gather(h * scores, 1, idx.expand(-1, -1, h.size(-1)))


class AASIST(nn.Module):
    """Attribute names (``pos_S``, ``HtrgGAT_layer_ST11``, ...) are the published state
    dict's keys."""

    def __init__(self, first_conv: int = 128,
                 filts=(70, (1, 32), (32, 32), (32, 64), (64, 64)),
                 gat_dims=(64, 32), pool_ratios=(0.5, 0.7, 0.5, 0.5),
                 temperatures=(2.0, 2.0, 100.0, 100.0), nb_samp: int = NB_SAMP, **_):
        super().__init__()
        self.nb_samp = nb_samp
        self.conv_time = SincFrontEnd(filts[0], first_conv)
        self.first_bn = nn.BatchNorm2d(1)
        blocks = [filts[1], filts[2], filts[3], filts[4], filts[4], filts[4]]
        self.encoder = nn.Sequential(*[nn.Sequential(ResidualBlock(a, b, first=i == 0))
                                       for i, (a, b) in enumerate(blocks)])
        c, g0, g1 = filts[-1][-1], gat_dims[0], gat_dims[1]
        n_freq = filts[0] // 3  # after the front end's 3x3 pool; the encoder keeps it
        self.pos_S = nn.Parameter(torch.randn(1, n_freq, c))
        self.master1 = nn.Parameter(torch.randn(1, 1, g0))
        self.master2 = nn.Parameter(torch.randn(1, 1, g0))
        self.GAT_layer_S = GraphAttention(c, g0, temperatures[0])
        self.GAT_layer_T = GraphAttention(c, g0, temperatures[1])
        self.HtrgGAT_layer_ST11 = HeteroGraphAttention(g0, g1, temperatures[2])
        self.HtrgGAT_layer_ST12 = HeteroGraphAttention(g1, g1, temperatures[2])
        self.HtrgGAT_layer_ST21 = HeteroGraphAttention(g0, g1, temperatures[2])
        self.HtrgGAT_layer_ST22 = HeteroGraphAttention(g1, g1, temperatures[2])
        self.pool_S = GraphPool(pool_ratios[0], g0)
        self.pool_T = GraphPool(pool_ratios[1], g0)
        self.pool_hS1 = GraphPool(pool_ratios[2], g1)
        self.pool_hT1 = GraphPool(pool_ratios[2], g1)
        self.pool_hS2 = GraphPool(pool_ratios[2], g1)
        self.pool_hT2 = GraphPool(pool_ratios[2], g1)
        self.drop_way = nn.Dropout(0.2)
        self.drop = nn.Dropout(0.5)
        self.out_layer = nn.Linear(5 * g1, 2)

    def _branch(self, out_t, out_s, master, first, second, pool_s, pool_t):
        t1, s1, m1 = first(out_t, out_s, master)
        s1, t1 = pool_s(s1), pool_t(t1)
        t_aug, s_aug, m_aug = second(t1, s1, m1)
        return (self.drop_way(t1 + t_aug), self.drop_way(s1 + s_aug),
                self.drop_way(m1 + m_aug))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """[B, nb_samp] waveforms -> [B, 2] logits (0: spoof, 1: bona fide)."""
        x = self.conv_time(wave.unsqueeze(1)).unsqueeze(1)
        x = F.selu(self.first_bn(F.max_pool2d(x.abs(), (3, 3))))
        e = self.encoder(x)  # [B, C, F, T]
        e_s = e.abs().max(dim=3).values.transpose(1, 2) + self.pos_S
        out_s = self.pool_S(self.GAT_layer_S(e_s))
        e_t = e.abs().max(dim=2).values.transpose(1, 2)
        out_t = self.pool_T(self.GAT_layer_T(e_t))
        batch = wave.size(0)
        t1, s1, m1 = self._branch(out_t, out_s, self.master1.expand(batch, -1, -1),
                                  self.HtrgGAT_layer_ST11, self.HtrgGAT_layer_ST12,
                                  self.pool_hS1, self.pool_hT1)
        t2, s2, m2 = self._branch(out_t, out_s, self.master2.expand(batch, -1, -1),
                                  self.HtrgGAT_layer_ST21, self.HtrgGAT_layer_ST22,
                                  self.pool_hS2, self.pool_hT2)
        out_t, out_s, master = torch.max(t1, t2), torch.max(s1, s2), torch.max(m1, m2)
        hidden = torch.cat([out_t.abs().max(dim=1).values, out_t.mean(dim=1),
                            out_s.abs().max(dim=1).values, out_s.mean(dim=1),
                            master.squeeze(1)], dim=1)
        return self.out_layer(self.drop(hidden))


def pad(audio: np.ndarray, n: int = NB_SAMP) -> np.ndarray:
    """The first ``n`` samples, a shorter clip repeated until it fills them."""
    audio = np.asarray(audio, np.float32).reshape(-1)
    if audio.size == 0:
        return np.zeros(n, np.float32)
    return np.tile(audio, n // audio.size + 1)[:n]


def load_aasist(weights: Path, config: Path | None = None) -> AASIST:
    """AASIST with ``weights`` loaded strictly (every key, every shape), in eval mode.
    The hyper-parameters come from ``config`` (default: the ``.conf`` beside it)."""
    weights = Path(weights)
    config = Path(config) if config else weights.with_suffix(".conf")
    args = json.loads(config.read_text())["model_config"] if config.is_file() else {}
    model = AASIST(**{k: v for k, v in args.items() if k != "architecture"})
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


@torch.no_grad()
def score_waveforms(model: AASIST, waves: list[np.ndarray], batch: int = 16) -> np.ndarray:
    """Spoof probability (softmax of class 0) of each 16 kHz waveform."""
    out = []
    for i in range(0, len(waves), batch):
        x = torch.from_numpy(np.stack([pad(w, model.nb_samp) for w in waves[i:i + batch]]))
        out.append(F.softmax(model(x), dim=1)[:, 0].numpy())
    return np.concatenate(out) if out else np.zeros(0)
