"""CLI sub-commands of the training toolkit; torch is imported only when they run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_train(args: argparse.Namespace) -> int:
    from fakelens.training.loop import main as train_main

    argv = [str(args.config), "--out", str(args.out)]
    if args.device:
        argv += ["--device", args.device]
    return train_main(argv)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console

    from fakelens.training.datasets import open_dataset
    from fakelens.training.evaluate import run_eval

    items = open_dataset(args.dataset)
    out = Path(args.out)
    err = Console(stderr=True)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            err.print(f"\r{done}/{total}", end="")

    run_eval(items, model=args.model, out_dir=out, title=f"{args.dataset} ({args.model})",
             frames=args.frames, threshold=args.threshold, progress=progress)
    print((out / "eval.md").read_text())
    return 0


def add_training_commands(sub) -> None:
    p = sub.add_parser("train", help="train a detector from a YAML config ([train] extra)")
    p.add_argument("config", type=Path)
    p.add_argument("--out", type=Path, required=True, help="run folder (resumes if present)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="AUC, EER, AP, log loss with bootstrap intervals")
    p.add_argument("dataset", help="folder with labels.csv, real/+fake/, or ffpp:|celebdf:|"
                                   "dfdc:PATH")
    p.add_argument("--model", default=None, help="installed detector (default: shipped ones)")
    p.add_argument("--out", default="eval-out", help="folder for eval.json, eval.md, roc.png")
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--threshold", type=float, default=None)
    p.set_defaults(func=cmd_eval)
