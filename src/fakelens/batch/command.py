"""``fakelens batch``: the command line of the batch runner."""

from __future__ import annotations

import argparse
import sys


def _format(value: str) -> str:
    if value not in ("jsonl", "parquet"):
        raise argparse.ArgumentTypeError("choose jsonl or parquet")
    return value


def add_batch_command(sub) -> None:
    p = sub.add_parser("batch", help="analyse a whole archive (folders, fsspec URLs such as "
                       "s3://, lists of paths) on Ray, one result line per file, resumable")
    p.add_argument("sources", nargs="*", help="folders (walked recursively), files or fsspec "
                   "URLs (s3://bucket/prefix with s3fs installed)")
    p.add_argument("--from-list", action="append", default=[], metavar="FILE",
                   help="a text file with one path or URL per line (repeatable)")
    p.add_argument("--out", required=True, help="output file or URL: JSONL (appended, one "
                   "line per file) or, with --format parquet, a folder of part files")
    p.add_argument("--format", type=_format, default="jsonl", metavar="{jsonl,parquet}",
                   help="output format (default jsonl)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="actors (one per CPU; default: every CPU of the cluster)")
    p.add_argument("--gpus", type=int, default=None, metavar="N",
                   help="N workers, one per GPU (1 GPU + 1 CPU each), the detectors on ONNX "
                   "Runtime's CUDA provider (onnxruntime-gpu; else the CPU, with a warning); "
                   "refused at once when the cluster has fewer GPUs")
    p.add_argument("--address", default=None, help="a running Ray cluster (ray://host:10001 "
                   "or host:6379; default RAY_ADDRESS, else a local cluster)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="ONNX Runtime / OpenCV threads per worker (default 1)")
    p.add_argument("--frames", type=int, default=32, help="evenly spaced frames per video")
    p.add_argument("--fps", type=float, default=None, help="dense mode instead of --frames")
    p.add_argument("--keyframes", action="store_true", help="key frames only (fast)")
    p.add_argument("--model", default=None, help="one installed detector instead of defaults")
    p.add_argument("--threshold", type=float, default=None, help="score at which FAKE starts")
    p.add_argument("--summary", action="store_true", help="print counts by verdict, errors by "
                   "type and throughput at the end")
    p.add_argument("--jsonl-progress", action="store_true", help="one JSON object per "
                   "finished file on stdout instead of the progress bar")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_batch)


BATCH_PACKAGES = ("ray", "fsspec", "pyarrow")  # the [batch] extra


def cmd_batch(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    missing = [name for name in BATCH_PACKAGES if find_spec(name) is None]
    if missing:
        print(f"error: fakelens batch needs {', '.join(missing)}: "
              "pip install 'fakelens[batch]'", file=sys.stderr)
        return 2
    from fakelens.batch import run_batch

    if not args.sources and not args.from_list:
        print("error: give folders, files, URLs or --from-list", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.gpus is not None and args.gpus < 1:
        print("error: --gpus must be at least 1", file=sys.stderr)
        return 2
    if args.gpus and args.workers:
        print("error: --gpus N runs N workers, one per GPU: leave --workers out",
              file=sys.stderr)
        return 2
    mode = ("jsonl" if args.jsonl_progress
            else "quiet" if args.quiet or not sys.stderr.isatty() else "bar")
    options = dict(frames=args.frames, frames_per_second=args.fps,
                   keyframes_only=args.keyframes, model=args.model, threshold=args.threshold,
                   settings={"intra_op_threads": args.threads})
    tally = run_batch(args.sources, args.out, fmt=args.format, list_files=args.from_list,
                      workers=args.workers, gpus=args.gpus, address=args.address, options=options,
                      display=mode, summary=args.summary, verbose=args.verbose)
    return 1 if tally.errors else 0
