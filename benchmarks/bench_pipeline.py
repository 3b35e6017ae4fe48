"""Speed and memory of the analysis pipeline against plain decoding of the same frames.

    python benchmarks/bench_pipeline.py [VIDEO] [--frames 32] [--model NAME] [--repeat 3]
    python benchmarks/bench_pipeline.py --make-long-clip long-720p.mp4   # 60 s, 1280x720, 25 fps

Each measurement runs in a fresh Python process (this script with ``--child``), so peak
RSS (``ru_maxrss``) and the per-process model caches of one measurement do not leak into
another. In each process the first call is timed separately ("first call": it loads the
models and warms the caches), then ``--repeat`` more calls give the median ("warm").

Targets (docs/BENCHMARKS.md): whole pipeline <= 1.5x decode-only, >= 30x faster than real
time on a 60 s 720p clip on 2 cores, peak RSS < 1 GB on long videos.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("FAKELENS_SAMPLES", REPO.parent / "shared" / "data"))
DEFAULT_VIDEO = SAMPLES / "videos" / "ffpp_original_004.mp4"  # 1280x720, 12 s, 25 fps
STAGES = ("decode", "detect", "crop", "model")
TARGET_RATIO, TARGET_REALTIME, TARGET_RSS_MB = 1.5, 30.0, 1024


def _peak_rss_mb() -> float:
    # Linux reports KiB, macOS bytes
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# --- measurements, each in its own process -----------------------------------------------


def _child(mode: str, video: str, frames: int, fps: float | None, model: str | None,
           repeat: int, keyframes: bool = False) -> dict:
    rss_start = _peak_rss_mb()
    if mode == "pipeline":
        from fakelens.analysis.pipeline import analyze

        def once():
            result = analyze(video, frames=frames, frames_per_second=fps, model=model,
                             keyframes_only=keyframes)
            return result.timings.total_s, {
                "frames": result.frames_sampled,
                "duration_s": result.media.duration_s,
                "media": f"{result.media.width}x{result.media.height} {result.media.codec}, "
                         f"{result.media.duration_s:.1f} s, {result.media.fps or 0:g} fps",
                "models": [m.name for m in result.models],
                "face_detector": result.face_detector,
                "stages": {s: getattr(result.timings, f"{s}_s") for s in STAGES},
            }
    else:
        from fakelens.media import iter_frames, probe

        def once():
            t0 = time.perf_counter()
            info = probe(video)
            count = sum(1 for _ in iter_frames(video, info, frames=frames,
                                               frames_per_second=fps,
                                               keyframes_only=keyframes))
            return time.perf_counter() - t0, {"frames": count, "duration_s": info.duration_s}

    rss_imported = _peak_rss_mb()
    first_s, detail = once()
    warm = [once() for _ in range(repeat)]
    warm_s = [w[0] for w in warm]
    median_i = warm_s.index(sorted(warm_s)[len(warm_s) // 2])
    return {"mode": mode, "first_s": first_s, "warm_s": statistics.median(warm_s),
            "warm_runs_s": warm_s, "detail": warm[median_i][1] if warm else detail,
            "rss_start_mb": rss_start, "rss_imported_mb": rss_imported,
            "peak_rss_mb": _peak_rss_mb()}


def _measure(mode: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), str(args.video), "--child", mode,
           "--frames", str(args.frames), "--repeat", str(args.repeat)]
    if args.fps:
        cmd += ["--fps", str(args.fps)]
    if args.model:
        cmd += ["--model", args.model]
    if args.keyframes:
        cmd += ["--keyframes"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"the {mode} measurement failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the long test clip -------------------------------------------------------------------


def make_long_clip(out: Path, source: Path, seconds: float, size: tuple[int, int], fps: int,
                   gop: int, preset: str, crf: int) -> None:
    """Loop the frames of a real clip, re-encoded to ``size`` at ``fps`` (H.264, yuv420p),
    until ``seconds`` are written; the index (moov) goes first, as on the web."""
    import av
    import cv2

    total = round(seconds * fps)
    written = 0
    t0 = time.perf_counter()
    with av.open(str(out), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream("libx264", rate=fps,
                                options={"preset": preset, "crf": str(crf)})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = gop
        while written < total:
            with av.open(str(source)) as src:
                for frame in src.decode(video=0):
                    rgb = frame.to_ndarray(format="rgb24")
                    if (rgb.shape[1], rgb.shape[0]) != size:
                        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                    new = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    new.pts = written
                    dst.mux(stream.encode(new))
                    written += 1
                    if written == total:
                        break
            if written == 0:
                raise SystemExit(f"{source}: no decodable frame")
        dst.mux(stream.encode())
    print(f"wrote {out}: {written} frames ({written / fps:.1f} s) {size[0]}x{size[1]} at {fps} "
          f"fps from {source.name}, {out.stat().st_size / 1e6:.1f} MB, "
          f"in {time.perf_counter() - t0:.0f} s")


# --- report -------------------------------------------------------------------------------


def _report(args: argparse.Namespace, pipe: dict, dec: dict) -> dict:
    d = pipe["detail"]
    n = d["frames"]
    duration = d["duration_s"] or 0.0
    total, decode_only = pipe["warm_s"], dec["warm_s"]
    ratio = total / decode_only if decode_only else float("inf")
    realtime = duration / total if total else float("inf")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"video     {args.video.name}: {d['media']}")
    print(f"sampling  {n} frames" + (f" ({args.fps:g} per second)" if args.fps else "")
          + f"; models {', '.join(d['models'])}; faces {d['face_detector']}")
    print(f"machine   {platform.processor() or platform.machine()}, {cores} cores usable; "
          f"median of {args.repeat} warm runs, each measurement in a fresh process\n")
    print(f"{'stage':<34}{'seconds':>9}{'frames/s':>10}")
    for stage in STAGES:
        s = d["stages"][stage]
        print(f"{stage:<34}{s:9.3f}{(n / s if s else float('inf')):10.1f}")
    other = total - sum(d["stages"].values())
    print(f"{'other (probe+sha256, tracking)':<34}{other:9.3f}")
    print(f"{'pipeline total (warm)':<34}{total:9.3f}{n / total:10.1f}")
    print(f"{'pipeline first call (loads models)':<34}{pipe['first_s']:9.3f}")
    print(f"{'decode only (probe + iter_frames)':<34}{decode_only:9.3f}{n / decode_only:10.1f}")
    print()
    ok = {True: "ok", False: "MISSED"}
    print(f"pipeline / decode-only   {ratio:6.2f}x   target <= {TARGET_RATIO}x  "
          f"{ok[ratio <= TARGET_RATIO]}")
    print(f"real-time factor         {realtime:6.1f}x   target >= {TARGET_REALTIME:g}x "
          f"(60 s 720p clip)  {ok[realtime >= TARGET_REALTIME]}")
    print(f"peak RSS pipeline        {pipe['peak_rss_mb']:6.0f} MB target < {TARGET_RSS_MB} MB"
          f"  {ok[pipe['peak_rss_mb'] < TARGET_RSS_MB]}  (after imports "
          f"{pipe['rss_imported_mb']:.0f} MB)")
    print(f"peak RSS decode-only     {dec['peak_rss_mb']:6.0f} MB (after imports "
          f"{dec['rss_imported_mb']:.0f} MB)")
    return {"video": str(args.video), "frames": n, "duration_s": duration, "cores": cores,
            "pipeline": pipe, "decode_only": dec, "ratio": ratio, "realtime_factor": realtime}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO,
                        help=f"clip to analyse (default: {DEFAULT_VIDEO.name} from the samples)")
    parser.add_argument("--frames", type=int, default=32, help="evenly spaced frames (32)")
    parser.add_argument("--fps", type=float, default=None, help="dense mode instead")
    parser.add_argument("--keyframes", action="store_true",
                        help="key-frame sampling (fakelens detect --keyframes)")
    parser.add_argument("--model", default=None,
                        help="installed detector (default: the shipped defaults; "
                             "FAKELENS_WEIGHTS_DIR selects where they are looked up)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per measurement (3)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    long = parser.add_argument_group("test clip")
    long.add_argument("--make-long-clip", type=Path, metavar="PATH",
                      help="write a long clip made of a real one, then exit")
    long.add_argument("--source", type=Path, default=DEFAULT_VIDEO, help="clip to loop")
    long.add_argument("--seconds", type=float, default=60.0)
    long.add_argument("--size", default="1280x720", help="WxH (1280x720)")
    long.add_argument("--clip-fps", type=int, default=25)
    long.add_argument("--gop", type=int, default=50, help="key frame every N frames (2 s)")
    long.add_argument("--preset", default="medium", help="libx264 preset (medium)")
    long.add_argument("--crf", type=int, default=23)
    parser.add_argument("--child", choices=["pipeline", "decode"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = _child(args.child, str(args.video), args.frames, args.fps, args.model,
                        args.repeat, args.keyframes)
        print(json.dumps(result))
        return 0
    if args.make_long_clip:
        w, h = (int(v) for v in args.size.lower().split("x"))
        make_long_clip(args.make_long_clip, args.source, args.seconds, (w, h), args.clip_fps,
                       args.gop, args.preset, args.crf)
        return 0
    if not args.video.is_file():
        parser.error(f"{args.video}: no such file")
    if args.frames < 1 or args.repeat < 1:
        parser.error("--frames and --repeat must be at least 1")
    args.video.read_bytes()  # same start for both: the file in the page cache
    dec = _measure("decode", args)
    pipe = _measure("pipeline", args)
    numbers = _report(args, pipe, dec)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
