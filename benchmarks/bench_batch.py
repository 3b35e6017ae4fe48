"""Batch throughput (issue 27): files per second of ``fakelens batch`` on a local Ray
cluster with 1 and 2 workers, against a plain single-process loop of ``fakelens.analyze``
over the same files, in one run (one Ray cluster with as many CPUs as the most workers).

    python benchmarks/bench_batch.py [--files DIR] [--limit 8] [--frames 32] [--workers 1 2]
    python benchmarks/bench_batch.py --costs [--limit 3]   # what each knob costs

Each worker runs ONNX Runtime and OpenCV on one thread (``--threads 1``, the batch
default), and so does the loop, so the ratio is what the pool adds. The loop is warmed
up (models loaded) before it is timed; the batch runs include starting the actors and
their model loading (about a second), not ``ray.init``. "Ray overhead" is the wall time
per file beyond the analysis time the results report (``timings.total_s``), per worker,
also as a share of that analysis time (the issue's target: under 5%). The scaling model
printed last projects files/s for N cores from the measured analysis time per file.

``--costs`` measures, in one Ray actor (1 CPU) over the same files: its memory (RSS) with
the detectors loaded and its peak while analysing, bytes read and seconds per file for
several frame settings, the bytes of a JSONL line, a Parquet row and a progress event,
and the resume index's memory per file; no timing of the pool.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

MB = 1 << 20


def _proc(field_file: str, name: str) -> int:
    """A number from /proc/self/status (kB, as bytes) or /proc/self/io (bytes); 0 where
    /proc is not there."""
    try:
        with open(f"/proc/self/{field_file}") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    value = int(line.split()[1])
                    return value * 1024 if field_file == "status" else value
    except OSError:
        pass
    return 0


def _settle(timeout: float = 30.0) -> None:
    """Wait until the cluster's CPUs are free again (killed actors release them a little
    after ``ray.kill``), so that one run's teardown is not timed in the next."""
    import ray

    total = ray.cluster_resources().get("CPU", 0)
    end = time.monotonic() + timeout
    while ray.available_resources().get("CPU", 0) < total and time.monotonic() < end:
        time.sleep(0.05)


def _actor_start(n: int, options: dict) -> float:
    """Seconds to start ``n`` batch actors at once and load their detectors: the part of
    a run's overhead paid once per worker, not per file."""
    import ray

    from fakelens.batch.worker import Analyser

    cls = ray.remote(num_cpus=1)(Analyser)
    t = time.perf_counter()
    actors = [cls.remote(options) for _ in range(n)]
    ray.get([a.pid.remote() for a in actors])
    seconds = time.perf_counter() - t
    for a in actors:
        ray.kill(a)
    _settle()
    return seconds


def throughput(args, files: list[Path]) -> None:
    import ray

    import fakelens
    from fakelens.batch import run_batch
    from fakelens.config import get_settings

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
    line_bytes = []
    for n in args.workers:
        start = _actor_start(n, options)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.jsonl"
            t = time.perf_counter()
            run_batch([str(f) for f in files], str(out), workers=n, options=options,
                      count=False)
            wall = time.perf_counter() - t
            lines = out.read_text().splitlines()
        _settle()
        docs = [json.loads(line) for line in lines]
        line_bytes += [len(line) + 1 for line in lines]
        if len(docs) != len(files) or any("error" in d for d in docs):
            raise SystemExit(f"the batch of {n} workers did not analyse every file: "
                             f"{[d for d in docs if 'error' in d][:2]}")
        analysis = sum(d["timings"]["total_s"] for d in docs)
        over = (wall * n - analysis) / len(files)
        steady = ((wall - start) * n - analysis) / len(files)  # start paid once, not per file
        rows.append({"runner": f"fakelens batch, {n} worker{'s' if n > 1 else ''}",
                     "workers": n, "seconds": wall, "files_per_s": len(files) / wall,
                     "analysis_s": analysis, "overhead_per_file_s": over, "start_s": start,
                     "steady_share": steady / (analysis / len(files))})
    ray.shutdown()
    base = rows[0]["files_per_s"]
    one = next((r["files_per_s"] for r in rows[1:] if r["workers"] == 1), None)
    for r in rows:
        r["vs_loop"] = r["files_per_s"] / base
        r["vs_1_worker"] = r["files_per_s"] / one if one and "loop" not in r["runner"] else None
    per_core = len(files) / analysis_s  # files/s of one core, analysis only
    mean_in = sum(f.stat().st_size for f in files) / len(files)
    mean_out = sum(line_bytes) / len(line_bytes)
    meta = {"files": len(files), "frames": args.frames, "cores": os.cpu_count(),
            "load_avg": os.getloadavg(), "per_core_files_per_s": per_core,
            "mean_file_bytes": mean_in, "mean_line_bytes": mean_out}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    print(f"{len(files)} files, {args.frames} frames each, {os.cpu_count()} cores, "
          f"load average {meta['load_avg'][0]:.2f}")
    print("| runner | seconds | files/s | vs loop | vs 1 worker | analysis s/file "
          "| overhead s/file/worker | actor start s (once) | overhead beyond start / analysis |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")

    def cell(value, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    for r in rows:
        print(f"| {r['runner']} | {r['seconds']:.1f} | {r['files_per_s']:.2f} | "
              f"{r['vs_loop']:.2f}x | {cell(r['vs_1_worker'], '.2f')}"
              f"{'' if r['vs_1_worker'] is None else 'x'} | "
              f"{r['analysis_s'] / len(files):.2f} | {cell(r.get('overhead_per_file_s'), '.2f')}"
              f" | {cell(r.get('start_s'), '.1f')} | {cell(r.get('steady_share'), '.1%')} |")
    print()
    print(f"Scaling model: each file is CPU work in one worker (decode, face detector, "
          f"detectors), nothing shared but the driver, so files/s ~ cores x "
          f"{per_core:.2f} (1 / {1 / per_core:.2f} s analysis per file per core here), "
          f"e.g. {100 * per_core:.0f} files/s on 100 cores, until a shared part saturates:")
    print(f"  bytes in: {mean_in / MB:.2f} MB a file (the whole file, read by its worker; an "
          f"s3:// object is downloaded first): 100 cores read "
          f"{100 * per_core * mean_in / MB:.0f} MB/s from the store;")
    print(f"  bytes out: {mean_out / 1024:.1f} KB a result line, sent to the driver, which "
          f"writes it (JSONL: one fsync a line): 100 cores send "
          f"{100 * per_core * mean_out / 1024:.0f} KB/s.")


def costs(args, files: list[Path]) -> None:
    """Memory, bytes and seconds per file of one worker, per frame setting."""
    import ray

    from fakelens.batch.progress import Display, Tally
    from fakelens.batch.records import flat_row
    from fakelens.batch.resume import ResumeIndex
    from fakelens.batch.sinks import _schema
    from fakelens.batch.sources import item_for
    from fakelens.batch.worker import Analyser

    @ray.remote(num_cpus=1)
    class Probe:
        def __init__(self, options: dict, warm: bool = True):
            self.rss0 = _proc("status", "VmRSS")
            self.worker = Analyser(options) if warm else None

        def memory(self) -> dict:
            return {"before": self.rss0, "rss": _proc("status", "VmRSS"),
                    "peak": _proc("status", "VmHWM")}

        def run(self, item, options: dict) -> dict:
            read0 = _proc("io", "rchar")
            doc = self.worker.analyse(item, options)
            return {"doc": doc, "read": _proc("io", "rchar") - read0}

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    empty = Probe.remote({}, warm=False)  # Ray's own share of an actor
    base = {"settings": {"intra_op_threads": 1}}
    settings = {"--frames 8": {"frames": 8}, "--frames 32": {"frames": 32},
                "--keyframes (32)": {"frames": 32, "keyframes_only": True}}
    items = [item_for(str(f)) for f in files]
    mean_in = sum(i.size for i in items) / len(items)
    probe = Probe.remote(base | {"frames": 32})
    m_empty, m_idle = ray.get(empty.memory.remote()), ray.get(probe.memory.remote())
    rows, docs = [], []
    for label, extra in settings.items():
        opts = base | extra
        results = [ray.get(probe.run.remote(item, opts)) for item in items]
        bad = [r["doc"]["error"] for r in results if "error" in r["doc"]]
        if bad:
            raise SystemExit(f"{label}: {bad[:2]}")
        if label == "--frames 32":
            docs = [r["doc"] for r in results]
        rows.append({"setting": label,
                     "seconds": sum(r["doc"]["timings"]["total_s"] for r in results) / len(items),
                     "read": sum(r["read"] for r in results) / len(items)})
    m_busy = ray.get(probe.memory.remote())
    ray.shutdown()

    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [json.dumps(d) + "\n" for d in docs]
    part = []  # a part file's worth of rows (200), each with its own name, hash and score
    for i in range(200):
        row = flat_row(docs[i % len(docs)])
        part.append(row | {"file": f"{row['file']}.{i}",
                           "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                           "score": (row["score"] or 0.5) * (1 + i / 1e4)})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(part, schema=_schema()), buf)
    parquet_row = buf.tell() / len(part)
    progress = io.StringIO()
    with contextlib.redirect_stdout(progress):
        Display(Tally(), "jsonl").update(docs[0])
    tracemalloc.start()
    index = ResumeIndex({"file": f"s3://bucket/archive/{i:09d}.mp4",
                         "batch": {"size": 1_000_000 + i, "mtime": 1.7e9 + i}}
                        for i in range(100_000))
    index_bytes = tracemalloc.get_traced_memory()[0] / len(index)
    tracemalloc.stop()
    t = time.perf_counter()
    with open(files[-1], "rb") as fh:
        h = hashlib.sha256()
        while chunk := fh.read(MB):
            h.update(chunk)
    sha_mb_s = files[-1].stat().st_size / MB / (time.perf_counter() - t)

    print(f"{len(files)} files ({mean_in / MB:.2f} MB mean), {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f}; one Ray actor, 1 CPU, 1 thread")
    print(f"memory of one worker (RSS): {m_empty['rss'] / MB:.0f} MB an empty Ray actor, "
          f"{m_idle['rss'] / MB:.0f} MB with the detectors loaded, peak "
          f"{m_busy['peak'] / MB:.0f} MB while analysing")
    print("| setting | analysis s/file | bytes read/file | read / file size |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['setting']} | {r['seconds']:.2f} | {r['read'] / MB:.2f} MB | "
              f"{r['read'] / mean_in:.1f}x |")
    print(f"output per file: JSONL line {sum(map(len, lines)) / len(lines) / 1024:.1f} KB, "
          f"Parquet row {parquet_row:.0f} B (200-row part), --jsonl-progress event "
          f"{len(progress.getvalue())} B")
    print(f"resume index: {index_bytes:.0f} B of driver memory per file done (100,000 keys); "
          f"sha256 of a file: {sha_mb_s:.0f} MB/s on one core")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default=os.path.join(os.environ.get("FAKELENS_SAMPLES",
                                                                   "../shared/data"), "videos"))
    ap.add_argument("--limit", type=int, default=8, help="the N smallest videos")
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--costs", action="store_true", help="what each knob costs, not speed")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    files = sorted(Path(args.files).glob("*.mp4"), key=lambda p: p.stat().st_size)[:args.limit]
    if not files:
        raise SystemExit(f"no .mp4 files in {args.files}")
    (costs if args.costs else throughput)(args, files)


if __name__ == "__main__":
    main()
