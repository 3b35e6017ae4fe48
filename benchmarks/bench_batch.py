"""Batch throughput (issue 27): files per second of ``fakelens batch`` on a local Ray
cluster with 1 and 2 workers, against a plain single-process loop of ``fakelens.analyze``
over the same files, in one run (one Ray cluster with as many CPUs as the most workers).

    python benchmarks/bench_batch.py [--files DIR] [--limit 8] [--frames 32] [--workers 1 2]

Each worker runs ONNX Runtime and OpenCV on one thread (``--threads 1``, the batch
default), and so does the loop, so the ratio is what the pool adds. The loop is warmed
up (models loaded) before it is timed; the batch runs include starting the actors and
their model loading (about a second), not ``ray.init``. "Ray overhead" is the wall time
per file beyond the analysis time the results report (``timings.total_s``), per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default=os.path.join(os.environ.get("FAKELENS_SAMPLES",
                                                                   "../shared/data"), "videos"))
    ap.add_argument("--limit", type=int, default=8, help="the N smallest videos")
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import ray

    import fakelens
    from fakelens.batch import run_batch
    from fakelens.config import get_settings

    files = sorted(Path(args.files).glob("*.mp4"), key=lambda p: p.stat().st_size)[:args.limit]
    options = {"frames": args.frames, "settings": {"intra_op_threads": 1}}
    settings = get_settings(intra_op_threads=1)
    fakelens.analyze(files[0], frames=args.frames, settings=settings)  # warm-up
    t = time.perf_counter()
    analysis_s = sum(fakelens.analyze(f, frames=args.frames, settings=settings).timings.total_s
                     for f in files)
    loop_s = time.perf_counter() - t
    rows = [{"runner": "plain loop (1 process)", "workers": 1, "seconds": loop_s,
             "files_per_s": len(files) / loop_s, "analysis_s": analysis_s}]

    ray.init(num_cpus=max(args.workers), include_dashboard=False, log_to_driver=False)
    for n in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.jsonl"
            t = time.perf_counter()
            run_batch([str(f) for f in files], str(out), workers=n, options=options,
                      count=False)
            wall = time.perf_counter() - t
            docs = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(docs) == len(files) and not any("error" in d for d in docs)
        analysis = sum(d["timings"]["total_s"] for d in docs)
        rows.append({"runner": f"fakelens batch, {n} worker{'s' if n > 1 else ''}",
                     "workers": n, "seconds": wall, "files_per_s": len(files) / wall,
                     "analysis_s": analysis,
                     "overhead_per_file_s": (wall * n - analysis) / len(files)})
    ray.shutdown()
    base = rows[0]["files_per_s"]
    one = next((r["files_per_s"] for r in rows[1:] if r["workers"] == 1), None)
    for r in rows:
        r["vs_loop"] = r["files_per_s"] / base
        r["vs_1_worker"] = r["files_per_s"] / one if one else None
    meta = {"files": len(files), "frames": args.frames, "cores": os.cpu_count(),
            "load_avg": os.getloadavg()}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    print(f"{len(files)} files, {args.frames} frames each, {os.cpu_count()} cores, "
          f"load average {meta['load_avg'][0]:.2f}")
    print("| runner | seconds | files/s | vs loop | vs 1 worker | analysis s/file "
          "| overhead s/file/worker |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        over = r.get("overhead_per_file_s")
        print(f"| {r['runner']} | {r['seconds']:.1f} | {r['files_per_s']:.2f} | "
              f"{r['vs_loop']:.2f}x | "
              f"{'-' if r['vs_1_worker'] is None or r['workers'] == 1 and 'loop' in r['runner'] else format(r['vs_1_worker'], '.2f') + 'x'} | "  # noqa: E501
              f"{r['analysis_s'] / len(files):.2f} | {'-' if over is None else f'{over:.2f}'} |")


if __name__ == "__main__":
    main()
