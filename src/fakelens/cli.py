"""Command line: a thin wrapper over the Python API (flags mirror ``analyze``'s keywords)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fakelens import __version__
from fakelens.errors import FakeLensError

MEDIA_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".flv", ".wmv", ".gif",
                  ".m4v", ".mpg", ".mpeg", ".ts", ".jpg", ".jpeg", ".png", ".webp", ".bmp",
                  ".tif", ".tiff"}


AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".flac", ".ogg", ".oga", ".opus", ".aac", ".weba"}


def _collect(paths: list[str], suffixes: set[str] = MEDIA_SUFFIXES,
             links: bool = False) -> list[Path | str]:
    """Files as given; folders walked recursively for media files (hidden ones skipped);
    with ``links``, links (``https://...``) kept as they are (fetched later)."""
    from fakelens.fetch.guard import is_link

    out: list[Path | str] = []
    for raw in paths:
        if links and is_link(raw):
            out.append(raw)
            continue
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()
                              and f.suffix.lower() in suffixes
                              and not any(part.startswith(".") for part in f.parts[len(p.parts):])))
        else:
            out.append(p)
    return out


def _voice_cell(r) -> str:
    """The voice check in the table: its verdict and score, or why there is none."""
    from fakelens.analysis.caveats import verdict_label

    a = r.audio
    if a is None:
        return "-"
    if a.verdict is None:
        return {"no_speech": "no speech", "no_audio": "no audio",
                "unreadable": "unreadable"}.get(a.status.value, a.status.value)
    return f"{verdict_label(a.verdict)} {_fmt_score(a.score)}"


def _fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def cmd_detect(args: argparse.Namespace) -> int:
    from fakelens.analysis.caveats import (
        accuracy_line,
        blind_spots,
        media_warnings,
        verdict_caveats,
        verdict_label,
    )
    from fakelens.analysis.pipeline import analyze_detailed
    from fakelens.models.registry import default_detector_names, get_detector

    if not args.verbose:  # OpenCV's own C++ warnings would break the one-line errors
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    err = Console(stderr=True)
    files = _collect(args.paths, MEDIA_SUFFIXES | AUDIO_SUFFIXES, links=True)
    if not files:
        err.print("error: no media files found in the given folders")
        return 2
    try:  # refuse before decoding anything: no trained model, or an unknown report format
        if args.report:  # matplotlib and Jinja2 load only for reports
            from fakelens.reports import report_format, write_report

            report_format(args.report)
        if args.model:
            get_detector(args.model)
        else:
            default_detector_names("video")
    except FakeLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    from fakelens.config import get_settings

    settings = get_settings(**({"face_fallback": True} if args.centre_fallback else {}))
    results, failures, outcomes = [], [], []
    show_progress = sys.stderr.isatty() and not args.quiet
    from rich.progress import Progress

    with Progress(console=err, transient=True, disable=not show_progress) as bar:
        overall = bar.add_task("files", total=len(files))
        for path in files:
            link = isinstance(path, str)
            name = path if link else path.name
            task = bar.add_task(escape(name), total=100)

            def progress(stage: str, fraction: float, task=task, name=name, link=link) -> None:
                bar.update(task, completed=_bar_position(stage, fraction, link),
                           description=escape(f"{name} [{_STAGE_WORDS.get(stage, stage)}]"))

            options = dict(frames=args.frames, frames_per_second=args.fps,
                           keyframes_only=args.keyframes, model=args.model,
                           threshold=args.threshold, settings=settings, progress=progress,
                           # the HTML and PDF reports show the key frames; nothing else does
                           key_frames=bool(args.report) and report_format(args.report) != "json")
            try:
                if link:
                    from fakelens.fetch.analyze import analyze_link

                    detailed = analyze_link(path, item=args.item, **options)
                else:
                    detailed = analyze_detailed(path, **options)
                if args.report:
                    write_report(detailed, _report_path(args.report, path, len(files)))
            except FakeLensError as exc:
                failures.append((path, exc))
                outcomes.append((path, exc))
                print(f"error: {exc}", file=sys.stderr)
            else:
                results.append(detailed.analysis)
                outcomes.append((path, detailed.analysis))
            bar.remove_task(task)
            bar.advance(overall)

    if args.json:
        # input order; a failed file is an error object, so scripts can tell which failed
        docs = [_error_doc(path, out) if isinstance(out, FakeLensError)
                else json.loads(out.to_json()) for path, out in outcomes]
        print(json.dumps(docs[0] if len(files) == 1 else docs, indent=2))
    elif results:
        table = Table(title=None)
        table.add_column("file", overflow="fold", ratio=2)  # a long name folds, never cut
        table.add_column("verdict", ratio=2)
        # the voice column only where some file had sound (a narrow terminal keeps names)
        voiced = any(r.audio is not None and r.audio.status.value != "no_audio"
                     for r in results)
        for col in ("score", "faces", *(["voice"] if voiced else []), "frames", "seconds",
                    "C2PA"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(escape(Path(r.media.path).name), verdict_label(r.verdict),
                          _fmt_score(r.score), str(len(r.tracks)),
                          *([_voice_cell(r)] if voiced else []),
                          str(r.frames_sampled), f"{r.timings.total_s:.1f}",
                          r.provenance.credentials.state.value if r.provenance else "-")
        Console().print(table)
        if len(results) == 1:
            Console().print(escape(results[0].reason))
            if results[0].provenance:
                Console().print(f"provenance: {escape(results[0].provenance.summary)}")
                if results[0].provenance.source:
                    Console().print(f"source: {escape(_source_line(results[0].provenance.source))}")
            for w in results[0].warnings:
                Console(stderr=True).print(f"warning: {escape(w)}")
        for r in results:
            about = "" if len(results) == 1 else f"{Path(r.media.path).name}: "
            c = verdict_caveats(r)  # the deciding detector's accuracy on this kind of media
            if c.deciding is not None:
                Console().print(f"[bold]how reliable:[/bold] "
                                f"{escape(about + accuracy_line(c.deciding))}")
            if c.contradicting:
                Console().print(f"note: {escape(about)}contradicted by "
                                f"{escape(', '.join(c.contradicting))}, which scored below "
                                "the uncertain band")
            for spot in blind_spots(r):
                Console().print(f"[bold]blind spot:[/bold] {escape(about + spot)}")
            for note in media_warnings(r):
                Console().print(f"note: {escape(about + note)}")
            for alarm in c.false_alarms:
                Console().print(f"[bold]known false alarm:[/bold] {escape(about + alarm)}")
    if failures:
        return failures[0][1].exit_code if len(files) == 1 else 1
    return 0


def _source_line(src) -> str:
    """Where a fetched file came from, in one line."""
    parts = [src.url, src.platform if src.platform != "generic" else src.site]
    parts += [x for x in (src.title, src.uploader or src.channel,
                          src.upload_date and f"uploaded {src.upload_date}") if x]
    return " · ".join(parts) + f" (sha256 {src.sha256[:16]}…)"


_STAGE_WORDS = {"download": "downloading", "decode": "reading frames",
                "model": "scoring"}


def _bar_position(stage: str, fraction: float, link: bool) -> float:
    """Where a file's progress bar stands (0-100): a link downloads first."""
    start, decode = (30.0, 50.0) if link else (0.0, 80.0)
    if stage == "download":
        return start * fraction
    if stage == "decode":
        return start + decode * fraction
    return start + decode + 20 * fraction


def _error_doc(path: Path | str, exc: FakeLensError) -> dict:
    return {"file": str(path), "error": {"type": type(exc).__name__, "message": str(exc)}}


def _report_path(target: str, media: Path | str, n_files: int) -> Path:
    """The report file for one media file: ``target`` itself, or ``<stem>-<target name>``
    beside it when several files are analysed (a link's stem: its last path part)."""
    out = Path(target)
    if n_files == 1:
        return out
    if isinstance(media, str):
        from urllib.parse import urlsplit

        stem = Path(urlsplit(media).path).stem or urlsplit(media).hostname or "link"
    else:
        stem = media.stem
    return out.parent / f"{stem}-{out.name}"


def cmd_provenance(args: argparse.Namespace) -> int:
    from fakelens.config import get_settings
    from fakelens.provenance import inspect_provenance

    anchors = get_settings().c2pa_trust_anchors
    outcomes = []
    for path in _collect(args.paths, MEDIA_SUFFIXES | AUDIO_SUFFIXES):
        try:
            outcomes.append((path, inspect_provenance(path, trust_anchors=anchors)))
        except FakeLensError as exc:
            outcomes.append((path, exc))
            print(f"error: {exc}", file=sys.stderr)
    if args.json:
        docs = [_error_doc(path, out) if isinstance(out, FakeLensError)
                else {"file": str(path), "provenance": json.loads(out.model_dump_json())}
                for path, out in outcomes]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
    else:
        console = Console()
        for path, out in outcomes:
            if not isinstance(out, FakeLensError):
                console.print(f"[bold]{escape(path.name)}[/bold]")
                for line in _provenance_lines(out):
                    console.print("  " + escape(line))
    failed = [out for _, out in outcomes if isinstance(out, FakeLensError)]
    return (failed[0].exit_code if len(outcomes) == 1 else 1) if failed else 0


def _provenance_lines(p) -> list[str]:
    c = p.credentials
    lines = [c.summary]
    if c.signer:
        lines.append(f"signer: {c.signer} ({'trusted' if c.signer_trusted else 'untrusted'})"
                     + (f", signed {c.signed_at}" if c.signed_at else ""))
    if c.claim_generator:
        lines.append(f"claim generator: {c.claim_generator}")
    lines += [f"action: {a.words}" + (f" ({a.software})" if a.software else "")
              for a in c.actions]
    lines += [f"ingredient: {i.title or 'untitled'} ({i.relationship or 'related'})"
              for i in c.ingredients]
    lines += [f"validation failure: {text}" for text in c.problems]
    lines += [f"{f.title} [{f.evidence}]: suggests {f.suggests}. {f.does_not_prove}"
              for f in p.findings]
    lines += [f"could not read {x.part}: {x.message}" for x in p.problems]
    return lines


def cmd_live(args: argparse.Namespace) -> int:
    import signal
    import threading

    from fakelens.errors import StreamError
    from fakelens.live.display import Display
    from fakelens.live.runner import run_live
    from fakelens.live.sources import parse_source

    if not args.verbose:  # OpenCV's own C++ warnings would break the one-line output
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    if args.report:
        from fakelens.reports import report_format, write_report

        report_format(args.report)
    spec = parse_source(args.source, realtime=args.realtime)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    display = Display(jsonl=args.jsonl, quiet=args.quiet)
    try:
        with display:
            result = run_live(spec, options=_live_options(args), on_update=display.update,
                              stop=stop, stall_s=args.stall_timeout, max_fps=args.fps,
                              max_seconds=args.duration)
    except StreamError as exc:  # nothing could be read: still say how it ended
        print(f"error: {exc}", file=sys.stderr)
        print("summary: no frame was analysed", file=sys.stderr)
        return exc.exit_code
    finally:
        signal.signal(signal.SIGINT, previous)
    report = None
    if args.report:
        write_report(result.detailed, Path(args.report))
        report = args.report
    display.summary(result.summary, result.detailed.analysis.reason, report)
    if result.summary.error:
        print(f"error: {result.summary.ended}", file=sys.stderr)
        return StreamError.exit_code
    return 0


def _live_options(args: argparse.Namespace):
    from fakelens.live import LiveOptions

    return LiveOptions(model=args.model, threshold=args.threshold,
                       alert_after_s=args.alert_after)


def cmd_schema(args: argparse.Namespace) -> int:
    from fakelens.types import Analysis

    print(json.dumps(Analysis.model_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fakelens", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fakelens {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("detect", help="analyse videos and images for manipulated faces")
    p.add_argument("paths", nargs="+", help="files, folders (searched recursively) or links "
                   "(https://...: a video page, a post or a direct media link, fetched "
                   "with yt-dlp)")
    p.add_argument("--item", type=int, default=1, metavar="N",
                   help="for a link that holds several videos: analyse the Nth (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--frames", type=int, default=32, help="evenly spaced frames per video")
    p.add_argument("--fps", type=float, default=None,
                   help="dense mode: analyse this many frames per second instead")
    p.add_argument("--keyframes", action="store_true",
                   help="snap sampled frames to key frames and decode only those (fast)")
    p.add_argument("--model", default=None, help="one installed detector, or several separated "
                   "by commas, instead of the defaults")
    p.add_argument("--threshold", type=float, default=None, help="score at which FAKE starts")
    p.add_argument("--report", default=None, help="write a report file: .html, .pdf or .json "
                   "(<name>-<report> per file when several are analysed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--centre-fallback", action="store_true",
                   help="when no face detector is installed, analyse the centre of each frame "
                   "as one face instead of stopping (FAKELENS_FACE_FALLBACK=1)")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("provenance", help="content credentials (C2PA) and metadata traces of "
                       "any image, video or audio file, without the detectors")
    p.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.set_defaults(func=cmd_provenance)

    p = sub.add_parser("live", help="follow a camera, a stream or a file as it plays: rolling "
                       "scores every second, alerts, a summary at the end or on Ctrl-C")
    p.add_argument("source", help="camera (/dev/video0), stream URL (rtsp://, rtmp://, "
                   "http(s):// incl. HLS .m3u8) or file")
    p.add_argument("--realtime", action="store_true",
                   help="play a file at its own speed (default: as fast as possible)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per update on stdout")
    p.add_argument("--alert-after", type=float, default=3.0, metavar="SECONDS",
                   help="ALERT when a face stays above the threshold this long (default 3)")
    p.add_argument("--fps", type=float, default=None,
                   help="analyse at most this many frames per second of the source")
    p.add_argument("--stall-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="end when no frame arrives for this long (default 10)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="stop after this many seconds")
    p.add_argument("--model", default=None, help="one installed detector, or several separated "
                   "by commas, instead of the defaults")
    p.add_argument("--threshold", type=float, default=None, help="score at which FAKE starts")
    p.add_argument("--report", default=None, help="write a report at the end: .html, .pdf "
                   "or .json")
    p.add_argument("-q", "--quiet", action="store_true", help="only alerts and the summary")
    p.set_defaults(func=cmd_live)

    p = sub.add_parser("schema", help="print the JSON schema of an analysis result")
    p.set_defaults(func=cmd_schema)

    from fakelens.models.commands import add_models_commands

    add_models_commands(sub)
    from fakelens.batch.command import add_batch_command

    add_batch_command(sub)
    from fakelens.training.commands import add_training_commands

    add_training_commands(sub)
    from fakelens.web.commands import add_web_commands

    add_web_commands(sub)
    return parser


def _validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if getattr(args, "item", 1) < 1:
        parser.error("--item must be at least 1")
    limit = getattr(args, "max_real_at_threshold", None)
    if limit is not None and not 0 <= limit < 1:
        parser.error("--max-real-at-threshold is a share of the real calibration media, "
                     "from 0 up to 1")
    if getattr(args, "frames", 1) is not None and getattr(args, "frames", 1) < 1:
        parser.error("--frames must be at least 1")
    if getattr(args, "fps", None) is not None and not 0 < args.fps <= 60:
        parser.error("--fps must be in (0, 60]")
    for flag in ("alert_after", "stall_timeout", "duration"):
        if getattr(args, flag, None) is not None and getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')} cannot be negative")
    thr = getattr(args, "threshold", None)
    if thr is not None and not 0 < thr < 1:
        parser.error("--threshold must be between 0 and 1")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(args, parser)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.func(args)
    except FakeLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
