"""Train, calibrate, measure and export the voice-clone detector (``[train]`` extra).

    python -m fakelens.training.voice src/fakelens/training/configs/voice_v1.yaml \
        --data ../shared/data/audio --out runs/voice-v1 --ship src/fakelens/weights/voice

Roles come from ``training.splits`` (``audio``: split by speaker group, generators held
out). Each training clip is featurised clean and in ``variants`` augmented copies
(``audio_augment``: codecs, resampling, telephone band, noise, level; the same for both
labels); windows of ``window_s`` seconds are repeat-padded like at run time. The epoch
with the best validation AUC is kept; the temperature is fitted on the validation role
and the threshold's offset set so that at most 1 in 12 real validation clips (clean and
augmented) reach the threshold. Test-role figures are measured through the run-time path
(``fakelens.audio.analyse``: decode, speech detection, windows, ONNX) with bootstrap
intervals, per generator, and written into the model card (the exported config).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from fakelens.audio.decode import decode_audio
from fakelens.audio.features import fixed_length, log_mel
from fakelens.audio.model import AudioModelConfig
from fakelens.models.architectures.audio import build_audio_model
from fakelens.models.store import file_sha256
from fakelens.training import metrics
from fakelens.training.audio_augment import augment
from fakelens.training.datasets import Item, labelled_folder
from fakelens.training.splits import role_of

log = logging.getLogger(__name__)
MAX_REAL_AT_THRESHOLD = 1 / 12


class VoiceTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "fakelens-voice"
    version: str = "1"
    architecture: str = "logmel_cnn"
    window_s: float = 2.0
    hop_s: float = 1.0
    variants: int = Field(6, ge=0, description="augmented copies of each training clip")
    val_variants: int = Field(2, ge=0, description="augmented copies of each val clip")
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    max_minutes: float = 10.0
    spec_mask: int = Field(8, ge=0, description="SpecAugment: widest frequency/time mask")
    seed: int = 0
    threads: int = 2


def _items(data: Path, role: str) -> list[Item]:
    return [i for i in labelled_folder(data) if role_of("audio", i) == role]


def featurise(items: list[Item], variants: int, window: int, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-mel windows of each clip, clean and in ``variants`` augmented copies (the
    window starts at a random point of the repeat-padded clip). -> features, labels,
    clip index."""
    rng = np.random.default_rng(seed)
    feats, labels, clip = [], [], []
    for k, item in enumerate(items):
        audio = decode_audio(item.path)
        for v in range(variants + 1):
            x = audio if v == 0 else augment(audio, rng)
            shift = int(rng.integers(0, max(1, x.size))) if v else 0
            x = fixed_length(np.roll(x, -shift) if x.size > window else x, window)
            feats.append(log_mel(x))
            labels.append(item.label)
            clip.append(k)
    return np.stack(feats), np.array(labels, np.float32), np.array(clip)


def _spec_mask(x: torch.Tensor, width: int, gen: torch.Generator) -> torch.Tensor:
    if width <= 0:
        return x
    x = x.clone()
    n, f, t = x.shape
    for i in range(n):
        fw, tw = (int(v) for v in torch.randint(0, width + 1, (2,), generator=gen))
        f0 = int(torch.randint(0, max(1, f - fw), (1,), generator=gen))
        t0 = int(torch.randint(0, max(1, t - tw), (1,), generator=gen))
        x[i, f0:f0 + fw] = 0
        x[i, :, t0:t0 + tw] = 0
    return x


def _logits(model: nn.Module, feats: np.ndarray, batch: int = 128) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(feats), batch):
            out.append(model(torch.from_numpy(feats[i:i + batch])).numpy())
    return np.concatenate(out).astype(np.float64)


def train(cfg: VoiceTrainConfig, train_set, val_set) -> tuple[nn.Module, dict]:
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = build_audio_model(cfg.architecture)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x_tr, y_tr, _ = train_set
    x_va, y_va, _ = val_set
    pos_weight = torch.tensor(float((y_tr == 0).sum() / max(1, (y_tr == 1).sum())))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * int(np.ceil(len(x_tr) / cfg.batch_size)))
    best = (-1.0, None, 0)
    history = []
    start = time.monotonic()
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(x_tr), generator=gen).numpy()
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            xb = _spec_mask(torch.from_numpy(x_tr[idx]), cfg.spec_mask, gen)
            loss = loss_fn(model(xb), torch.from_numpy(y_tr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        auc = metrics.roc_auc(y_va, _logits(model, x_va))
        history.append({"epoch": epoch, "loss": total / len(x_tr), "val_auc": auc})
        log.info("epoch %d loss %.4f val AUC %.4f", epoch, total / len(x_tr), auc)
        if auc > best[0]:
            best = (auc, {k: v.clone() for k, v in model.state_dict().items()}, epoch)
        if (time.monotonic() - start) / 60 > cfg.max_minutes:
            log.info("time budget reached after epoch %d", epoch)
            break
    model.load_state_dict(best[1])
    model.eval()
    return model, {"best_epoch": best[2], "val_auc": best[0], "epochs_run": len(history),
                   "minutes": (time.monotonic() - start) / 60, "history": history}


def calibrate(y: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """(temperature, offset): temperature by log loss, then the offset that keeps at most
    1 in 12 real clips at or above probability 0.5 (and never below the fitted one)."""
    b, t = metrics.fit_platt(y, z)
    real = np.sort(z[y == 0])[::-1]
    allowed = int(np.floor(len(real) * MAX_REAL_AT_THRESHOLD))
    offset = max(b, float(real[allowed]) + 1e-3) if len(real) > allowed else b
    return float(t), float(offset)


class _Graph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, features):
        return self.model(features)


def export(model: nn.Module, cfg: VoiceTrainConfig, out_dir: Path, n_mels: int,
           frames: int) -> Path:
    from fakelens.training.export import _export, _parity

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{cfg.name}.onnx"
    graph = _Graph(model).eval()
    _export(graph, torch.randn(2, n_mels, frames), path, "features", ["logits"],
            {"features": {0: "n", 2: "t"}, "logits": {0: "n"}})
    _parity(graph, path, torch.randn(3, n_mels, frames), "features")
    return path


def measure(config_dir: Path, name: str, items: list[Item]) -> tuple[dict, dict]:
    """Test-role figures through the run-time path: per-clip scores of the shipped files."""
    import os

    from fakelens.audio.analyse import analyze_audio

    os.environ["FAKELENS_WEIGHTS_DIR"] = str(config_dir.parent)
    scores, labels, methods = [], [], []
    for item in items:
        result = analyze_audio(item.path, detector=name)
        if result.score is None:
            continue
        scores.append(result.score)
        labels.append(item.label)
        methods.append(item.method)
    y, s, m = np.array(labels), np.array(scores), np.array(methods)
    card, raw = {}, {"n": len(y)}

    def auc_text(yy, ss) -> str:
        lo, hi = metrics.bootstrap_ci(metrics.roc_auc, yy, ss)
        return f"{metrics.roc_auc(yy, ss):.3f} [{lo:.3f}, {hi:.3f}] (n={len(yy)})"

    card["clip AUC, test role (unheard speakers; generators held out)"] = auc_text(y, s)
    for method in sorted(set(m[y == 1])):
        keep = (y == 0) | (m == method)
        card[f"clip AUC, {method} vs every test real clip"] = auc_text(y[keep], s[keep])
        raw[method] = {"n": int((m == method).sum()),
                       "fake_at_threshold": int((s[m == method] >= 0.5).sum())}
    real = s[y == 0]
    missed = {}
    for method in sorted(set(m[y == 1])):
        keep = (y == 0) | (m == method)
        if metrics.roc_auc(y[keep], s[keep]) < 0.8:
            caught = int((s[m == method] >= 0.5).sum())
            auc = card[f"clip AUC, {method} vs every test real clip"].split(" (")[0]
            missed[f"Synthetic speech of {method}"] = (
                f"on {int((m == method).sum())} test clips AUC {auc}, {caught} at or above "
                "the threshold")
    raw["missed"] = missed
    card["real test clips at or above the threshold"] = \
        f"{int((real >= 0.5).sum())} of {len(real)}"
    card["cloned test clips at or above the threshold"] = \
        f"{int((s[y == 1] >= 0.5).sum())} of {int((y == 1).sum())}"
    raw["scores"] = [{"label": int(a), "method": str(b), "score": float(c)}
                     for a, b, c in zip(y, m, s, strict=True)]
    return card, raw


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("config", type=Path)
    p.add_argument("--data", type=Path, required=True, help="../shared/data/audio")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--ship", type=Path, help="write the ONNX and config here too")
    p.add_argument("--measure-only", action="store_true", help="measure the config already "
                   "in OUT/voice on the test role again and rewrite its model card")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.measure_only:
        return _remeasure(args)
    cfg = VoiceTrainConfig.model_validate(yaml.safe_load(args.config.read_text()) or {})
    window = int(cfg.window_s * 16000)
    t0 = time.monotonic()
    train_items, val_items = _items(args.data, "train"), _items(args.data, "val")
    train_set = featurise(train_items, cfg.variants, window, cfg.seed)
    val_set = featurise(val_items, cfg.val_variants, window, cfg.seed + 1)
    log.info("features: %d train, %d val windows in %.1f min", len(train_set[0]),
             len(val_set[0]), (time.monotonic() - t0) / 60)
    model, summary = train(cfg, train_set, val_set)
    z_val = _logits(model, val_set[0])
    temperature, offset = calibrate(val_set[1], z_val)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = args.out / "voice"
    graph = export(model, cfg, folder, val_set[0].shape[1], val_set[0].shape[2])
    real_val = z_val[val_set[1] == 0]
    training = {
        "train_clips": str(len(train_items)), "val_clips": str(len(val_items)),
        "windows_per_clip": str(cfg.variants + 1), "epochs_run": str(summary["epochs_run"]),
        "best_epoch": str(summary["best_epoch"]), "val_auc": f"{summary['val_auc']:.4f}",
        "minutes": f"{(time.monotonic() - t0) / 60:.1f}",
        "calibration_val_real_at_threshold":
            f"{int((real_val >= offset).sum())} of {len(real_val)}",
    }
    config = AudioModelConfig(
        name=cfg.name, version=cfg.version, architecture=cfg.architecture,
        description="Small CNN on 64-band log-mel spectrograms of 2 s speech windows, "
                    "trained on zero-shot Tortoise clones and Mandarin FastSpeech2 against "
                    "real speech, every clip re-encoded, resampled and noised alike",
        window_s=cfg.window_s, hop_s=cfg.hop_s, temperature=temperature,
        logit_offset=offset, graph=graph.name, sha256=file_sha256(graph), training=training)
    cfg_path = folder / f"{cfg.name}.json"
    cfg_path.write_text(config.model_dump_json(indent=1))
    card, raw = measure(folder, cfg.name, _items(args.data, "test"))
    config = config.model_copy(update={"metrics": card, "missed": raw["missed"]})
    cfg_path.write_text(config.model_dump_json(indent=1))
    (args.out / "summary.json").write_text(json.dumps(
        {"config": cfg.model_dump(), "train": summary, "test": raw,
         "calibration": {"temperature": temperature, "offset": offset}}, indent=1))
    log.info("model card: %s", json.dumps(card, indent=1))
    if args.ship:
        args.ship.mkdir(parents=True, exist_ok=True)
        (args.ship / graph.name).write_bytes(graph.read_bytes())
        (args.ship / cfg_path.name).write_text(cfg_path.read_text())
    return 0


def _remeasure(args: argparse.Namespace) -> int:
    cfg = VoiceTrainConfig.model_validate(yaml.safe_load(args.config.read_text()) or {})
    folder = args.out / "voice"
    cfg_path = folder / f"{cfg.name}.json"
    card, raw = measure(folder, cfg.name, _items(args.data, "test"))
    config = AudioModelConfig.load(cfg_path).model_copy(update={"metrics": card,
                                                                "missed": raw["missed"]})
    cfg_path.write_text(config.model_dump_json(indent=1))
    summary = json.loads((args.out / "summary.json").read_text())
    summary["test"] = raw
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    log.info("model card: %s", json.dumps(card, indent=1))
    if args.ship:
        (args.ship / cfg_path.name).write_text(cfg_path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
