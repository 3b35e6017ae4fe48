"""The training loop shared by every registered architecture.

Seeded, resumable (``last.safetensors`` + optimiser state every few steps, elapsed time
carried across restarts), early stopping on validation AUC, bf16 autocast on CUDA.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from safetensors.torch import load_file, save_file

from fakelens.errors import ConfigError
from fakelens.models.architectures import build_model
from fakelens.training import metrics
from fakelens.training.config import TrainConfig
from fakelens.training.data import LabelledFaces, MixedPairs, PseudoTracks, SBIPairs, VideoFrames
from fakelens.training.datasets import split_by_group
from fakelens.training.preprocess import check_crop_scale, load_face_cache
from fakelens.training.tracks import ClipTracks, track_datasets

log = logging.getLogger(__name__)


def _as_clips(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Flatten pair/batch dims: [B, P, (T,) 3, H, W] -> [B*P, T, 3, H, W]."""
    if x.dim() == 5:
        return x.reshape(-1, 1, *x.shape[2:]), y.reshape(-1)
    return x.reshape(-1, *x.shape[2:]), y.reshape(-1)


def _real_faces(cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rows of a cache labelled real (a labelled cache also holds fakes)."""
    if "label" not in cache or not (cache["label"] != 0).any():
        return cache
    keep = cache["label"] == 0
    return {k: v[keep] for k, v in cache.items()}


def _without_groups(cache: dict[str, np.ndarray], holdout=frozenset()
                    ) -> dict[str, np.ndarray]:
    """A cache without the rows of the ``holdout`` groups (a rotation fold leaves out
    whole generators with the clips they were made from)."""
    if not holdout:
        return cache
    keep = ~np.isin(cache["group"], sorted(holdout))
    return {k: v[keep] for k, v in cache.items()}


def _generators(cache: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's generator: the cache's method column, its group where that is unknown
    (a cache written before the column, or a dataset without one)."""
    if "method" not in cache:
        return cache["group"]
    return np.where(cache["method"] == "", cache["group"], cache["method"])


def _fake_faces(caches, balance: str = "face"):
    """The FAKE-labelled crops of labelled caches, the probability of drawing each
    (``None``: every face alike; with ``balance="method"``, one generator first and then
    one of its faces) and their groups. ``(None, None, None)`` without caches."""
    if not caches:
        return None, None, None
    crops = np.concatenate([c["crops"][c["label"] == 1] for c in caches])
    groups = np.concatenate([c["group"][c["label"] == 1] for c in caches])
    if balance == "face":
        return crops, None, groups
    gens = np.concatenate([_generators(c)[c["label"] == 1] for c in caches])
    names, index, counts = np.unique(gens, return_inverse=True, return_counts=True)
    log.info("unpaired fakes: %d faces of %d generators, drawn generator first",
             len(crops), len(names))
    return crops, 1.0 / (len(names) * counts[index]), groups


def _concat_caches(paths, loaded, weights=None
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    caches = [_real_faces(c) for c in loaded]
    weights = weights or [1.0] * len(caches)
    # a fold may hold out every real face of a cache: it then drops out with its weight
    for p in [p for p, c in zip(paths, caches, strict=True) if not len(c["crops"])]:
        log.info("%s: no real face left after the held-out groups", p)
    weights = [w for w, c in zip(weights, caches, strict=True) if len(c["crops"])]
    caches = [c for c in caches if len(c["crops"])]
    merged = {k: np.concatenate([c[k] for c in caches]) for k in ("crops", "mesh", "group")}
    per_item = np.concatenate([np.full(len(c["crops"]), w / len(c["crops"]))
                               for c, w in zip(caches, weights, strict=True)])
    return merged, per_item


def check_holdout_groups(data, caches) -> None:
    """Every group a fold holds out must exist in its training ``caches``: a misspelt
    group would otherwise be trained on without a word."""
    if not data.holdout_groups:
        return
    seen: set[str] = set()
    for cache in caches:
        seen.update(np.unique(cache["group"]).tolist())
    missing = sorted(set(data.holdout_groups) - seen)
    if missing:
        raise ConfigError(f"holdout_groups not found in any training cache: {missing}")


def _even(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def video_validation(data, size: int, region: str = "face") -> VideoFrames:
    """Held-out real clips and real fakes, ``val_frames_per_clip`` evenly spaced frames
    of each: checkpoint selection looks at what the benchmark measures (real media).
    ``crops`` are the cached face crops; items are their ``region`` at ``size``."""
    crops, labels, clips = [], [], []

    def add(frames, label, name):
        for i in _even(len(frames), data.val_frames_per_clip):
            crops.append(frames[i])
            labels.append(label)
            clips.append(name)

    for p in data.val_pair_caches:
        c = load_face_cache(p)
        for g in np.unique(c["group"]):
            sel = np.flatnonzero(c["group"] == g)
            add(c["crops"][sel], 0, f"{g}/real")
            add(c["fake_crops"][sel], 1, f"{g}/fake")
    for p in data.val_real_caches:
        c = load_face_cache(p)
        for g in np.unique(c["group"]):
            add(c["crops"][c["group"] == g], 0, f"{g}/real")
    for p in getattr(data, "val_caches", ()):
        c = load_face_cache(p)
        for g in np.unique(c["group"]):
            for label, kind in ((0, "real"), (1, "fake")):
                sel = (c["group"] == g) & (c["label"] == label)
                if sel.any():
                    add(c["crops"][sel], label, f"{p.name}:{g}/{kind}")
    return VideoFrames(np.stack(crops), np.array(labels), clips, size=size, region=region)


def _cache_paths(data) -> list[Path]:
    return [Path(p) for key in ("face_caches", "pair_caches", "fake_caches",
                                "val_pair_caches", "val_real_caches", "val_caches",
                                "still_caches")
            for p in getattr(data, key, ())]


def check_cache_crops(cfg: TrainConfig) -> None:
    """Every cache must hold crops cut at the config's ``crop_scale`` (the exported config
    tells analysis to cut that crop), and a region run's crops must be
    ``region_source_size`` px (analysis cuts the region from a face crop of that size):
    the same pixels only then."""
    for path in _cache_paths(cfg.data):
        manifest = check_crop_scale(path, cfg.crop_scale)
        if manifest is None or cfg.region == "face":
            continue
        size = manifest.get("size")
        if size != cfg.region_source_size:
            raise ConfigError(f"{path}: face crops of {size} px, but region_source_size is "
                              f"{cfg.region_source_size}: a region is cut from crops of one "
                              "size (rebuild the cache with fakelens preprocess --size "
                              f"{cfg.region_source_size})")


def build_datasets(cfg: TrainConfig, length: int):
    data = cfg.data
    check_cache_crops(cfg)
    if data.kind == "mixed":
        # each training cache is read once: the held-out check and every dataset share it
        loaded = {p: load_face_cache(p)
                  for p in {*data.face_caches, *data.pair_caches, *data.fake_caches}}
        check_holdout_groups(data, loaded.values())
        holdout = frozenset(data.holdout_groups)
        kept = {p: _without_groups(c, holdout) for p, c in loaded.items()}
        faces, weights = _concat_caches(data.face_caches,
                                        [kept[p] for p in data.face_caches], data.cache_weights)
        n = len(faces["crops"])
        sbi = SBIPairs(faces["crops"], faces["mesh"], np.arange(n), weights,
                       size=cfg.input_size, seed=cfg.seed, cross_blend_prob=data.cross_blend_prob,
                       length=length, degradation=data.degradation, groups=faces["group"],
                       reenact_prob=data.reenact_prob, region=cfg.region)
        pairs = [kept[p] for p in data.pair_caches]
        real = np.concatenate([c["crops"] for c in pairs]) if pairs else faces["crops"][:0]
        fake = np.concatenate([c["fake_crops"] for c in pairs]) if pairs else real
        fake_faces, fake_weights, fake_groups = _fake_faces(
            [kept[p] for p in data.fake_caches], data.fake_balance)
        train = MixedPairs(sbi, real, fake, np.arange(len(real)), size=cfg.input_size,
                           seed=cfg.seed, length=length, pair_share=data.pair_share,
                           map_size=-(-cfg.input_size // 32), degradation=data.degradation,
                           smooth_prob=data.smooth_prob, real_soften_prob=data.real_soften_prob,
                           fake_faces=fake_faces, fake_weights=fake_weights,
                           fake_share=data.fake_share, fake_groups=fake_groups,
                           own_original_prob=data.own_original_prob)
        return train, video_validation(data, cfg.input_size, cfg.region)
    if data.kind == "sbi":
        caches = [load_face_cache(p) for p in data.face_caches]
        crops = np.concatenate([c["crops"] for c in caches])
        meshes = np.concatenate([c["mesh"] for c in caches])
        groups = np.concatenate([c["group"] for c in caches])
        weights_per_cache = data.cache_weights or [1.0] * len(caches)
        weights = np.concatenate([np.full(len(c["crops"]), w / len(c["crops"]))
                                  for c, w in zip(caches, weights_per_cache, strict=True)])
        train_idx, val_idx = split_by_group(groups, data.val_fraction, cfg.seed)
        train = SBIPairs(crops, meshes, train_idx, weights[train_idx], size=cfg.input_size,
                         seed=cfg.seed, cross_blend_prob=data.cross_blend_prob, length=length,
                         degradation=data.degradation, region=cfg.region)
        val = SBIPairs(crops, meshes, val_idx, np.ones(len(val_idx)), size=cfg.input_size,
                       seed=cfg.seed + 1, cross_blend_prob=data.cross_blend_prob,
                       length=min(400, len(val_idx)), degradation=data.degradation,
                       region=cfg.region)
        return train, val
    if data.kind == "images":
        caches = [load_face_cache(p) for p in data.face_caches]
        crops = np.concatenate([c["crops"] for c in caches])
        labels = np.concatenate([c["label"] for c in caches])
        groups = np.concatenate([c["group"] for c in caches])
        train_idx, val_idx = split_by_group(groups, data.val_fraction, cfg.seed)
        train = LabelledFaces(crops, labels, train_idx, size=cfg.input_size, seed=cfg.seed,
                              length=length, region=cfg.region)
        val = LabelledFaces(crops, labels, val_idx, size=cfg.input_size, seed=cfg.seed + 1,
                            length=len(val_idx), augment=False, region=cfg.region)
        return train, val
    if data.clip_level:
        return track_datasets(cfg, length)
    tracks, meshes = [], []
    for p in data.face_caches:
        c = load_face_cache(p)
        for g in np.unique(c["group"]):
            sel = np.flatnonzero(c["group"] == g)
            tracks.append(c["crops"][sel])
            meshes.append(c["mesh"][sel])
    stills, still_meshes = [], []
    for p in data.still_caches:
        c = load_face_cache(p)
        stills += [c["crops"][i:i + 1] for i in range(len(c["crops"]))]
        still_meshes += [c["mesh"][i:i + 1] for i in range(len(c["crops"]))]
    n_val = max(1, len(stills) // 20)
    train = PseudoTracks(tracks + stills[n_val:], meshes + still_meshes[n_val:],
                         size=cfg.input_size, seed=cfg.seed, length=length,
                         sequence_length=data.sequence_length)
    val = PseudoTracks(stills[:n_val] or tracks, still_meshes[:n_val] or meshes,
                       size=cfg.input_size, seed=cfg.seed + 1, length=min(150, n_val),
                       sequence_length=data.sequence_length)
    return train, val


def _lr_factor(step: int, cfg: TrainConfig, elapsed_s: float = 0.0) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    if cfg.schedule == "time":
        progress = max(progress, elapsed_s / (cfg.max_minutes * 60))
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def _param_groups(model: torch.nn.Module, backbone_lr_scale: float) -> list[dict]:
    """Trainable parameters: the pretrained trunk (``features``) at ``backbone_lr_scale``
    of the learning rate, everything else (heads) at the full rate. One group when the
    scale is 1, so runs started before the option existed resume unchanged."""
    if backbone_lr_scale == 1.0:
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]
    trunk_ids = {id(p) for p in model.features.parameters()}
    trunk, heads = [], []
    for p in model.parameters():
        if p.requires_grad:
            (trunk if id(p) in trunk_ids else heads).append(p)
    groups = [{"params": trunk, "lr_scale": backbone_lr_scale},
              {"params": heads, "lr_scale": 1.0}]
    return [g for g in groups if g["params"]]


class Trainer:
    def __init__(self, cfg: TrainConfig, out_dir: Path, device: str | None = None):
        self.cfg, self.out = cfg, Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch.manual_seed(cfg.seed)
        torch.set_num_threads(cfg.threads)
        self.temporal_only = cfg.data.kind == "temporal"
        self.model = build_model(cfg.architecture, pretrained=cfg.pretrained and not cfg.init_from)
        if cfg.init_from:
            missing, unexpected = self.model.load_state_dict(load_file(cfg.init_from),
                                                             strict=False)
            log.info("initialised from %s (missing %s, unexpected %s)", cfg.init_from,
                     missing, unexpected)
        self.model.to(self.device, memory_format=torch.channels_last)
        if self.temporal_only:
            if self.model.temporal is None:
                raise ValueError(f"{cfg.architecture} has no temporal head to train")
            for p in self.model.parameters():
                p.requires_grad_(False)
            for p in self.model.temporal.parameters():
                p.requires_grad_(True)
        # the EMA copy (batch-norm statistics averaged too) is what gets evaluated,
        # checkpointed per step and shipped; the raw weights only carry the optimisation
        self.ema = None
        if cfg.ema_decay:
            self.ema = torch.optim.swa_utils.AveragedModel(
                self.model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(
                    cfg.ema_decay), use_buffers=True)
        self.opt = torch.optim.AdamW(_param_groups(self.model, cfg.backbone_lr_scale),
                                     lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.state = {"step": 0, "elapsed_s": 0.0, "best_auc": -1.0, "stale": 0,
                      "history": []}
        self._resume()

    def _resume(self) -> None:
        state_path = self.out / "state.json"
        if not state_path.exists():
            return
        self.state = json.loads(state_path.read_text())
        self.model.load_state_dict(load_file(self.out / "last.safetensors"))
        self.opt.load_state_dict(torch.load(self.out / "optimizer.pt", weights_only=True))
        if self.ema is not None:
            self.ema.module.load_state_dict(load_file(self.out / "last-ema.safetensors"))
            self.ema.n_averaged.fill_(max(1, self.state["step"]))  # else the next update copies
        log.info("resumed at step %d (%.1f min done)", self.state["step"],
                 self.state["elapsed_s"] / 60)

    @property
    def scored_model(self) -> torch.nn.Module:
        return self.ema.module if self.ema is not None else self.model

    def _save(self, name: str) -> None:
        meta = {"architecture": self.cfg.architecture, "step": str(self.state["step"])}

        def write(model: torch.nn.Module, file: str) -> None:
            tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
            save_file(tensors, self.out / file, metadata=meta)

        if name == "last":
            write(self.model, "last.safetensors")
            if self.ema is not None:
                write(self.ema.module, "last-ema.safetensors")
            torch.save(self.opt.state_dict(), self.out / "optimizer.pt")
            (self.out / "state.json").write_text(json.dumps(self.state, indent=1))
        else:
            write(self.scored_model, f"{name}.safetensors")

    def _logits(self, clips: torch.Tensor, model: torch.nn.Module | None = None) -> torch.Tensor:
        model = self.model if model is None else model
        if self.temporal_only:
            b, t = clips.shape[:2]
            with torch.no_grad():
                emb = model.embed(clips.flatten(0, 1).contiguous(
                    memory_format=torch.channels_last))
            return model.temporal(emb.view(b, t, -1))
        return model(clips)["frame_logits"][:, 0]

    def evaluate(self, val) -> dict:
        model = self.scored_model
        model.eval()
        # whole clips differ in length: one a batch
        loader = torch.utils.data.DataLoader(val, batch_size=1 if isinstance(val, ClipTracks)
                                             else 16, num_workers=0)
        ys, zs = [], []
        with torch.no_grad():
            for x, y, *_ in loader:
                clips, labels = _as_clips(x, y)
                ys.append(labels.numpy())
                zs.append(self._logits(clips.to(self.device), model).float().cpu().numpy())
        self.model.train()
        if self.temporal_only:
            self.model.features.eval()
        y, z = np.concatenate(ys), np.concatenate(zs)
        p = 1 / (1 + np.exp(-z))
        out = {"auc": metrics.roc_auc(y, z), "loss": metrics.log_loss(y, p),
               "acc": metrics.accuracy(y, p, 0.5), "labels": y, "logits": z}
        if isinstance(val, VideoFrames):
            # select on real media: mean of the video-level and the frame-level AUC
            names = sorted(set(val.clips))
            vy = np.array([y[val.clips == c][0] for c in names])
            vp = np.array([p[val.clips == c].mean() for c in names])
            out.update(frame_auc=out["auc"], video_auc=metrics.roc_auc(vy, vp),
                       real_clips_above_half=float((vp[vy == 0] >= 0.5).mean()))
            out["auc"] = (out["video_auc"] + out["frame_auc"]) / 2
        elif isinstance(val, ClipTracks):  # an item is a whole clip: the AUC is the clip AUC
            out.update(video_auc=out["auc"], real_clips_above_half=float((p[y == 0] >= 0.5)
                                                                         .mean()))
        return out

    def fit(self) -> dict:
        cfg = self.cfg
        length = cfg.max_steps * cfg.batch_size
        train, val = build_datasets(cfg, length)
        start = self.state["step"]
        last = min(cfg.max_steps, cfg.stop_at_step or cfg.max_steps)
        sampler = range(start * cfg.batch_size, last * cfg.batch_size)
        loader = torch.utils.data.DataLoader(train, batch_size=cfg.batch_size, sampler=sampler,
                                             num_workers=cfg.workers, drop_last=True,
                                             persistent_workers=False)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        blend_weight = cfg.blend_loss_weight if self.model.blend_head is not None else 0.0
        self.model.train()
        if self.temporal_only:
            self.model.features.eval()
        t0 = time.monotonic() - self.state["elapsed_s"]
        use_amp = self.device.type == "cuda"
        stop_reason = "max_steps" if last == cfg.max_steps else "stop_at_step"
        running = []
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} {task.fields[info]}"),
                      TimeElapsedColumn(), transient=False) as bar:
            task = bar.add_task(cfg.name, total=cfg.max_steps, completed=start, info="")
            for x, y, *maps in loader:
                step = self.state["step"]
                for g in self.opt.param_groups:
                    g["lr"] = cfg.lr * g.get("lr_scale", 1.0) * _lr_factor(step, cfg,
                                                                  self.state["elapsed_s"])
                clips, labels = _as_clips(x, y)
                clips, labels = clips.to(self.device), labels.to(self.device)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                    if blend_weight and maps:
                        out = self.model(clips)
                        target = maps[0].flatten(0, 1).to(self.device)
                        known = target >= 0  # maps of -1: where the fake differs is unknown
                        blend = loss_fn(out["blend_logits"].float()[known], target[known]) \
                            if known.any() else out["blend_logits"].sum() * 0.0
                        loss = loss_fn(out["frame_logits"][:, 0].float(), labels) + \
                            blend_weight * blend
                    else:
                        loss = loss_fn(self._logits(clips).float(), labels)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                if self.ema is not None:
                    self.ema.update_parameters(self.model)
                running.append(float(loss.detach()))
                self.state["step"] = step = step + 1
                self.state["elapsed_s"] = time.monotonic() - t0
                bar.update(task, completed=step,
                           info=f"loss {np.mean(running[-20:]):.3f} best auc "
                                f"{self.state['best_auc']:.3f}")
                if step % cfg.eval_every == 0 or step in (cfg.max_steps, cfg.stop_at_step):
                    ev = self.evaluate(val)
                    self.state["history"].append({"step": step, "train_loss":
                                                  float(np.mean(running[-cfg.eval_every:])),
                                                  "val_auc": ev["auc"], "val_loss": ev["loss"],
                                                  "minutes": self.state["elapsed_s"] / 60,
                                                  **{k: ev[k] for k in ("video_auc",
                                                     "frame_auc", "real_clips_above_half")
                                                     if k in ev}})
                    log.info("step %d val %s", step, {k: round(float(v), 4) for k, v in
                                                       self.state["history"][-1].items()})
                    if isinstance(val, VideoFrames | ClipTracks):  # each can be chosen
                        self._save(f"step-{step:05d}")
                    if ev["auc"] > self.state["best_auc"]:
                        self.state["best_auc"], self.state["stale"] = ev["auc"], 0
                        self._save("best")
                    else:
                        self.state["stale"] += 1
                if step % cfg.checkpoint_every == 0:
                    self._save("last")
                    # a line per checkpoint: progress shows in a log without a terminal
                    log.info("step %d loss %.4f lr %.3g %.1f min", step,
                             np.mean(running[-cfg.checkpoint_every:]), self.opt.param_groups[0]
                             ["lr"], self.state["elapsed_s"] / 60)
                if self.state["stale"] >= cfg.patience:
                    stop_reason = "early_stop"
                    break
                if self.state["elapsed_s"] > cfg.max_minutes * 60:
                    stop_reason = "time_limit"
                    break
        self._save("last")
        summary = {"name": cfg.name, "steps": self.state["step"], "stop_reason": stop_reason,
                   "minutes": self.state["elapsed_s"] / 60, "best_val_auc":
                   self.state["best_auc"], "history": self.state["history"],
                   "config": json.loads(cfg.model_dump_json())}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary


def main(argv: list[str] | None = None) -> int:
    import argparse

    from fakelens.training.config import load_config

    parser = argparse.ArgumentParser(prog="fakelens-train")
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    summary = Trainer(load_config(args.config), args.out, args.device).fit()
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
