"""Calibrate a trained run on its validation split and export it as a shipped detector."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from fakelens.errors import FakeLensError
from fakelens.training import metrics
from fakelens.training.calibrate import MAX_REAL_AT_THRESHOLD
from fakelens.training.combine import ENSEMBLE_KEY
from fakelens.training.config import load_config
from fakelens.training.data import SBIPairs
from fakelens.training.export import export_detector
from fakelens.training.loop import Trainer, build_datasets
from fakelens.training.preprocess import load_face_cache

log = logging.getLogger(__name__)


def validation_logits(run_dir: Path, config_path: Path, checkpoint: str = "best",
                      calibration_cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(labels, logits) of a run's best weights on its own validation split, or on
    self-blended pairs made from a face cache the run never saw."""
    cfg = load_config(config_path)
    trainer = Trainer(cfg.model_copy(update={"init_from": run_dir / f"{checkpoint}.safetensors",
                                             "pretrained": False}), run_dir / "_calibration")
    if calibration_cache is not None:
        cache = load_face_cache(calibration_cache)
        n = len(cache["crops"])
        val = SBIPairs(cache["crops"], cache["mesh"], np.arange(n), np.ones(n),
                       size=cfg.input_size, seed=cfg.seed + 2,
                       cross_blend_prob=cfg.data.cross_blend_prob, length=n,
                       degradation=cfg.data.degradation, region=cfg.region)
    else:
        _, val = build_datasets(cfg, 1)
    ev = trainer.evaluate(val)
    return ev["labels"], ev["logits"]


def same_frame_stage(frame_weights: Path, temporal_weights: Path) -> None:
    """A temporal run's checkpoint must carry the frame stage it was trained on unchanged
    (the frame head's calibration is fitted on that stage's checkpoint)."""
    frame, temporal = load_file(frame_weights), load_file(temporal_weights)
    differ = [k for k, v in frame.items() if k not in temporal or
              not torch.equal(v, temporal[k])]
    if differ:
        raise FakeLensError(f"{temporal_weights} does not hold the frame stage of "
                            f"{frame_weights} ({len(differ)} tensors differ, e.g. {differ[0]}): "
                            "train the temporal stage with init_from that checkpoint")


def ship_on_real_media(*, run: Path, config: Path, out_dir: Path, task: str,
                       description: str, applies_to: tuple[str, ...], checkpoint: str,
                       photo_cache: Path | None, temporal_run: Path | None = None,
                       temporal_config: Path | None = None,
                       temporal_checkpoint: str = "last", name: str | None = None,
                       max_real_at_threshold: float = MAX_REAL_AT_THRESHOLD) -> dict:
    """A mixed run: calibrate the chosen checkpoint on held-out real media, export. With a
    temporal run (its frame stage that checkpoint, frozen), the temporal head is calibrated
    on the validation role's whole clips beside it and both graphs are exported under the
    temporal config's name."""
    from fakelens.training.calibrate import calibrate, calibrate_track, calibration_media

    cfg = load_config(config)
    if name:
        cfg = cfg.model_copy(update={"name": name})
    weights = run / f"{checkpoint}.safetensors"
    cal = calibrate(calibration_media(weights, cfg, photo_cache), max_real_at_threshold)
    training = {"checkpoint": checkpoint,
                "calibration_max_real_at_threshold": f"{max_real_at_threshold:.4f}"}
    temporal = {}
    if temporal_run is not None:
        if temporal_config is None:
            raise FakeLensError("--temporal-run needs --temporal-config")
        t_weights = temporal_run / f"{temporal_checkpoint}.safetensors"
        same_frame_stage(weights, t_weights)
        t_cfg = load_config(temporal_config)
        if name:
            t_cfg = t_cfg.model_copy(update={"name": name})
        t_cal = calibrate_track(t_weights, t_cfg, cal)
        temporal = dict(temporal_temperature=t_cal.temperature,
                        temporal_offset=t_cal.offset)
        training.update(temporal_checkpoint=temporal_checkpoint,
                        **{f"calibration_{k}": str(v) for k, v in t_cal.summary().items()})
        t_state = json.loads((temporal_run / "state.json").read_text())
        training.update(temporal_steps_run=str(t_state["step"]),
                        temporal_minutes=f"{t_state['elapsed_s'] / 60:.1f}")
    chosen = None
    if (run / "state.json").is_file():  # a training run (also there for a stopped one)
        state = json.loads((run / "state.json").read_text())
        chosen = next((h for h in state["history"] if f"step-{h['step']:05d}" == checkpoint),
                      None)
        training.update(steps_run=str(state["step"]), minutes=f"{state['elapsed_s'] / 60:.1f}")
    else:  # a weight average or an ensemble (training/combine.py) records its sources
        with safe_open(str(weights), "pt") as f:
            meta = f.metadata() or {}
        training.update({k: meta[k] for k in ("averaged_from", ENSEMBLE_KEY) if k in meta})
    if chosen:
        training.update({k: f"{chosen[k]:.4f}" for k in ("video_auc", "frame_auc")
                         if k in chosen})
    training.update({f"calibration_{k}": str(v) for k, v in cal.summary().items()})
    export_detector(t_weights if temporal else weights, t_cfg if temporal else cfg, out_dir,
                    task=task, description=description, temperature=cal.temperature,
                    logit_offset=cal.offset, applies_to=applies_to, training=training,
                    **temporal)
    info = cal.summary()
    if temporal:
        info.update(t_cal.summary())
    log.info("shipped %s: %s", cfg.name, info)
    return info


def ship(*, frame_run: Path, frame_config: Path, out_dir: Path, task: str, description: str,
         applies_to: tuple[str, ...], temporal_run: Path | None = None,
         temporal_config: Path | None = None, metrics_card: dict[str, str] | None = None,
         calibration_cache: Path | None = None, checkpoint: str = "best",
         temporal_checkpoint: str = "last", name: str | None = None,
         max_real_at_threshold: float | None = None) -> dict:
    """Fit temperatures (frame head; temporal head if any), export ONNX + config (under
    ``name`` instead of the config's, and with real calibration media at the threshold
    limited to ``max_real_at_threshold``, for a mixed run)."""
    if load_config(frame_config).data.kind == "mixed":
        return ship_on_real_media(run=frame_run, config=frame_config, out_dir=out_dir,
                                  task=task, description=description, applies_to=applies_to,
                                  checkpoint=checkpoint, photo_cache=calibration_cache,
                                  temporal_run=temporal_run, temporal_config=temporal_config,
                                  temporal_checkpoint=temporal_checkpoint, name=name,
                                  max_real_at_threshold=MAX_REAL_AT_THRESHOLD
                                  if max_real_at_threshold is None else max_real_at_threshold)
    if name or max_real_at_threshold is not None:
        raise FakeLensError("--name and --max-real-at-threshold are for mixed runs "
                            "(calibrated on real media)")
    y, z = validation_logits(frame_run, frame_config, calibration_cache=calibration_cache)
    temperature = metrics.fit_temperature(y, z)
    info = {"frame_val_auc": metrics.roc_auc(y, z), "temperature": temperature,
            "frame_val_n": int(len(y))}
    temporal_temperature = 1.0
    checkpoint, cfg_path = frame_run / "best.safetensors", frame_config
    if temporal_run is not None:
        ty, tz = validation_logits(temporal_run, temporal_config)
        temporal_temperature = metrics.fit_temperature(ty, tz)
        info.update(temporal_val_auc=metrics.roc_auc(ty, tz),
                    temporal_temperature=temporal_temperature, temporal_val_n=int(len(ty)))
        checkpoint, cfg_path = temporal_run / "best.safetensors", temporal_config
    cfg = load_config(cfg_path)
    summary = json.loads((frame_run / "summary.json").read_text())
    training = {"frame_steps": str(summary["steps"]),
                "frame_minutes": f"{summary['minutes']:.1f}",
                "frame_val_auc": f"{info['frame_val_auc']:.4f}"}
    if temporal_run is not None:
        t_summary = json.loads((temporal_run / "summary.json").read_text())
        training.update(temporal_steps=str(t_summary["steps"]),
                        temporal_minutes=f"{t_summary['minutes']:.1f}",
                        temporal_val_auc=f"{info['temporal_val_auc']:.4f}")
    export_detector(checkpoint, cfg, out_dir, task=task, description=description,
                    temperature=temperature, temporal_temperature=temporal_temperature,
                    applies_to=applies_to, metrics=metrics_card or {}, training=training)
    log.info("shipped %s: %s", cfg.name, info)
    return info
