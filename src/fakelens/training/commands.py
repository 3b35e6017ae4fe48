"""CLI sub-commands of the training toolkit; torch is imported only when they run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_train(args: argparse.Namespace) -> int:
    from fakelens.training.loop import main as train_main

    argv = [str(args.config), "--out", str(args.out)]
    if args.device:
        argv += ["--device", args.device]
    return train_main(argv)


def cmd_suite(args: argparse.Namespace) -> int:
    from fakelens.training.suite import run_suite

    data = Path(args.data) if args.data else Path(os.environ.get("FAKELENS_SAMPLES", ""))
    if not data.is_dir():
        print("error: --suite needs the shared data folder (--data DIR or FAKELENS_SAMPLES)",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.suite == "audio":
        from fakelens.training.audio_suite import run_audio_suite

        run_audio_suite(data, out, aasist=args.aasist, limit=args.limit, cache=args.cache)
        print((out / "suite.md").read_text())
        return 0
    run_suite(data, out, suite=args.suite, baseline=args.baseline, frames=args.frames,
              model=args.model)
    print((out / "suite.md").read_text())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console

    from fakelens.training.datasets import open_dataset
    from fakelens.training.evaluate import run_eval

    if args.suite:
        return cmd_suite(args)
    if not args.dataset:
        print("error: give a dataset or --suite NAME", file=sys.stderr)
        return 2
    items = open_dataset(args.dataset, split=args.split)
    if args.exclude:
        items = [i for i in items if i.path.stem not in set(args.exclude)]
    if args.holdout_fraction:
        import numpy as np

        from fakelens.training.datasets import split_by_group

        _, val = split_by_group(np.array([i.group for i in items]), args.holdout_fraction,
                                args.holdout_seed)
        items = [items[i] for i in val]
    out = Path(args.out)
    err = Console(stderr=True)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            err.print(f"\r{done}/{total}", end="")

    title = f"{args.dataset} ({args.model or 'shipped defaults'})"
    run_eval(items, model=args.model, out_dir=out, title=title,
             frames=args.frames, threshold=args.threshold, progress=progress)
    print((out / "eval.md").read_text())
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    import logging

    from fakelens.config import get_settings
    from fakelens.training.datasets import REAL, _label, open_dataset
    from fakelens.training.preprocess import Source, build_face_cache

    logging.getLogger("fakelens").setLevel(logging.INFO)
    root = Path(args.dataset)
    if args.label:  # a plain folder of images/videos that all share one label
        label = _label(args.label)
        sources = [Source(str(p), p.name if p.suffix.lower() in IMAGE_SUFFIXES else p.stem,
                          label, args.frames)
                   for p in sorted(root.rglob("*")) if p.suffix.lower() in MEDIA_SUFFIXES]
    else:
        items = open_dataset(args.dataset)
        if args.split:
            from fakelens.training.splits import select

            items = select(root, items, args.split)
        sources = _pair_sources(items, args.frames) if args.pairs else [
            Source(str(i.path), i.group, i.label, args.frames, method=i.method) for i in items]
    if args.only:
        sources = [s for s in sources if Path(s.path).stem in set(args.only)]
    if not sources:
        print("error: no media selected", file=sys.stderr)
        return 2
    build_face_cache(sources, Path(args.out), get_settings(), crop_scale=args.crop_scale,
                     size=args.size, workers=args.workers, shard_size=args.shard_size)
    n_real = sum(s.label == REAL for s in sources)
    print(f"{len(sources)} sources ({n_real} real) -> {args.out}")
    return 0


def _pair_sources(items, frames: int):
    """One source per group holding a REAL clip and a FAKE made from it."""
    from fakelens.training.datasets import FAKE, REAL
    from fakelens.training.preprocess import Source

    by_group: dict[str, dict[int, list]] = {}
    for i in items:
        by_group.setdefault(i.group, {}).setdefault(i.label, []).append(i)
    return [Source(str(g[REAL][0].path), group, REAL, frames, fake_path=str(fake.path),
                   method=fake.method)
            for group, g in sorted(by_group.items()) if REAL in g and FAKE in g
            for fake in g[FAKE]]


def cmd_export(args: argparse.Namespace) -> int:
    import json

    from fakelens.training.ship import ship

    info = ship(frame_run=args.run, frame_config=args.config, out_dir=args.out,
                task=args.task, description=args.description,
                applies_to=tuple(args.applies_to.split(",")), temporal_run=args.temporal_run,
                temporal_config=args.temporal_config, calibration_cache=args.calibration_cache,
                checkpoint=args.checkpoint, temporal_checkpoint=args.temporal_checkpoint,
                name=args.name, max_real_at_threshold=args.max_real_at_threshold)
    print(json.dumps(info, indent=1))
    return 0


def cmd_combine(args: argparse.Namespace) -> int:
    from fakelens.training import combine

    print(getattr(combine, args.combine)(args.checkpoints, args.out))
    return 0


def cmd_unexport(args: argparse.Namespace) -> int:
    from fakelens.training.unexport import unexport

    print(unexport(args.config, args.out, fold_calibration=not args.raw_logits))
    return 0


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
MEDIA_SUFFIXES = IMAGE_SUFFIXES | {".mp4", ".mov", ".mkv", ".webm", ".avi"}


def add_training_commands(sub) -> None:
    p = sub.add_parser("preprocess", help="videos/images -> cached face crops + landmarks")
    p.add_argument("dataset", help="dataset spec (as for eval) or a plain folder with --label")
    p.add_argument("--out", required=True)
    p.add_argument("--label", default=None, help="label every file of a plain folder (real)")
    p.add_argument("--only", nargs="*", default=None, help="keep only these file stems")
    p.add_argument("--split", choices=["train", "val", "test"], default=None,
                   help="only the items of this role (training/splits.py)")
    p.add_argument("--pairs", action="store_true",
                   help="aligned crops of each FAKE and the REAL clip of its group")
    p.add_argument("--frames", type=int, default=1, help="frames sampled per video")
    p.add_argument("--crop-scale", type=float, default=1.0)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--shard-size", type=int, default=500)
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser("export", help="calibrate a run and export ONNX + config")
    p.add_argument("run", type=Path, help="run folder of the frame stage")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--temporal-run", type=Path, default=None)
    p.add_argument("--temporal-config", type=Path, default=None)
    p.add_argument("--temporal-checkpoint", default="last", help="checkpoint of the temporal "
                   "run to ship beside a mixed frame run's --checkpoint (last or step-NNNNN)")
    p.add_argument("--task", choices=["face-swap", "synthetic-face", "lip-sync"],
                   required=True)
    p.add_argument("--description", required=True)
    p.add_argument("--applies-to", default="video,image")
    p.add_argument("--calibration-cache", type=Path, default=None,
                   help="face cache of real faces the run never saw: the temperature is "
                        "fitted on self-blended pairs made from it (mixed runs: a labelled "
                        "photo cache whose real photos outside the benchmark's hold-out "
                        "join the real clips of calibration)")
    p.add_argument("--checkpoint", default="best", help="checkpoint of the run to ship "
                   "(best, last or step-NNNNN)")
    p.add_argument("--out", type=Path, default=Path("src/fakelens/weights"))
    p.add_argument("--name", default=None, help="detector name to ship under (default: the "
                   "config's), e.g. a detector for one kind of media")
    p.add_argument("--max-real-at-threshold", type=float, default=None,
                   metavar="FRACTION", help="mixed runs: the share of real calibration "
                   "clips (and photos) allowed at the threshold (default 1/12; 0: none)")
    p.set_defaults(func=cmd_export)

    for name, function, what in (
            ("average", "average_checkpoints", "uniform weight average of checkpoints of one "
             "architecture (a model soup)"),
            ("ensemble", "ensemble_checkpoints", "output ensemble of checkpoints of one "
             "architecture (their scores averaged)")):
        p = sub.add_parser(name, help=f"{what}, exportable like a run's checkpoint")
        p.add_argument("checkpoints", type=Path, nargs="+", help=".safetensors files")
        p.add_argument("--out", type=Path, required=True,
                       help="RUN/NAME.safetensors: then `fakelens export RUN --checkpoint NAME`")
        p.set_defaults(func=cmd_combine, combine=function)

    p = sub.add_parser("unexport", help="rebuild a checkpoint from a shipped detector's "
                       "frame graph (its calibration folded into the frame head)")
    p.add_argument("config", type=Path, help="the detector's pretrained config (.json), its "
                   "frame graph beside it")
    p.add_argument("--out", type=Path, required=True, help="RUN/NAME.safetensors")
    p.add_argument("--raw-logits", action="store_true",
                   help="keep the frame head as exported (no calibration folded in)")
    p.set_defaults(func=cmd_unexport)

    p = sub.add_parser("train", help="train a detector from a YAML config ([train] extra)")
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path, required=True, help="run folder (resumes if present)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="AUC, EER, AP, log loss with bootstrap intervals")
    p.add_argument("dataset", nargs="?", help="folder with labels.csv, real/+fake/, or "
                                              "ffpp:|celebdf:|dfdc:PATH")
    p.add_argument("--suite", default=None, help="default: the quality benchmark, every "
                   "held-out set of the shared data, beside --baseline weights; selection: "
                   "the validation-role sets that checkpoints are chosen on; audio: the voice "
                   "detector on the audio test clips as is, as phone audio and as MP3")
    p.add_argument("--data", default=None, help="shared data folder for --suite (default: "
                   "$FAKELENS_SAMPLES)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="folder of previous weights to score beside the installed ones")
    p.add_argument("--aasist", type=Path, default=None, help="--suite audio: AASIST.pth "
                   "(../shared/models/aasist) to score beside the voice detector (torch)")
    p.add_argument("--cache", type=Path, default=None, help="--suite audio: folder of the "
                   "re-encoded clips (default: OUT/media)")
    p.add_argument("--limit", type=int, default=None, help="--suite audio: score only about "
                   "this many clips (a quick check)")
    p.add_argument("--model", default=None, help="installed detector, or several separated "
                   "by commas (default: the shipped ones; with --suite, the current version's "
                   "detectors: --baseline scores its shipped defaults)")
    p.add_argument("--out", default="eval-out", help="folder for eval.json, eval.md, roc.png")
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--split", default=None, help="rows of this split only (labels.csv 'split')")
    p.add_argument("--exclude", nargs="*", default=None, help="file stems to leave out "
                   "(e.g. clips used in training)")
    p.add_argument("--holdout-fraction", type=float, default=None,
                   help="only the validation part of a group split made like training's")
    p.add_argument("--holdout-seed", type=int, default=0)
    p.set_defaults(func=cmd_eval)
