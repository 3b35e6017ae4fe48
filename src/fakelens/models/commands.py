"""``fakelens models``: the installed detectors with their model cards (``list``) and the
face detector / face-mesh files of the model store (``fetch``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def cmd_models(args: argparse.Namespace) -> int:
    from fakelens.audio.model import installed_voice_detectors
    from fakelens.faces.regions import REGION_WORDS
    from fakelens.models.registry import ARCHITECTURE_SUMMARIES, installed_detectors

    installed = installed_detectors()
    voices = installed_voice_detectors()
    if args.json:
        print(json.dumps({"installed": {n: json.loads(d.config.model_dump_json())
                                        for n, d in installed.items()},
                          "voice": {n: json.loads(c.model_dump_json())
                                    for n, c in voices.items()},
                          "architectures": ARCHITECTURE_SUMMARIES}, indent=2))
        return 0
    console = Console()
    if not installed:
        console.print("no trained model installed")
    elif args.wide:
        table = Table(title="installed detectors")
        for col in ("name", "version", "task", "architecture", "input", "threshold",
                    "metrics"):
            table.add_column(col, no_wrap=col == "name")
        for name, det in installed.items():
            c = det.config
            table.add_row(name, c.version, c.task, c.architecture, f"{c.input_size}px",
                          f"{c.threshold:.2f}", "\n".join(
                              line for acc in c.accuracy_by_media() for line in acc.lines()))
        console.print(table)
    else:  # one block per detector: reads at 80 columns, metrics one per line
        console.print("[bold]installed detectors[/bold]")
        for name, det in installed.items():
            c = det.config
            console.print(f"\n[bold]{escape(name)}[/bold] v{escape(c.version)}")
            looks_at = "" if c.region == "face" else f" of {REGION_WORDS[c.region]}"
            console.print(f"  {escape(c.task)} · {escape(c.architecture)} · {c.input_size} px"
                          f"{looks_at} · threshold {c.threshold:.2f} · "
                          f"{', '.join(c.applies_to)}")
            for acc in c.accuracy_by_media():  # videos, then still photos: never mixed
                if not acc.figures:
                    console.print(f"  [yellow]{escape(acc.missing)}[/yellow]")
                    continue
                console.print(f"  [bold]{escape(acc.heading)}[/bold]")
                for key, value in acc.figures.items():
                    console.print(f"    {escape(key)}")
                    console.print(f"        [cyan]{escape(str(value))}[/cyan]")
            for spots in c.blind_spots_by_media():  # what it misses, per kind measured on
                console.print(f"  [bold]{escape(spots.heading)}, often misses[/bold]")
                for kind, what in spots.spots.items():
                    console.print(f"    [yellow]blind spot:[/yellow] {escape(kind)} "
                                  f"({escape(what)})")
    _print_voice_detectors(console, voices)
    arch = Table(title="architectures (trainable with `fakelens train`)")
    arch.add_column("name", no_wrap=True)
    arch.add_column("description")
    for name, text in ARCHITECTURE_SUMMARIES.items():
        arch.add_row(name, text)
    console.print()
    console.print(arch)
    return 0


def _print_voice_detectors(console, voices: dict) -> None:
    """The voice-clone detectors (audio files, soundtracks) with their model cards."""
    console.print()
    if not voices:
        console.print("no voice detector installed (the voice check is off)")
        return
    console.print("[bold]voice detectors[/bold] (speech of audio files and soundtracks)")
    for name, c in voices.items():
        console.print(f"\n[bold]{escape(name)}[/bold] v{escape(c.version)}")
        console.print(f"  {escape(c.task)} · {escape(c.architecture)} · {c.window_s:g} s "
                      f"windows at {c.sample_rate:,} Hz · threshold {c.threshold:.2f} · "
                      "audio files and soundtracks")
        console.print(f"  {escape(c.description)}")
        for key, value in c.metrics.items():
            console.print(f"  {escape(key)}")
            console.print(f"      [cyan]{escape(str(value))}[/cyan]")
        for kind, what in c.missed.items():
            console.print(f"  [yellow]blind spot:[/yellow] {escape(kind)} ({escape(what)})")


def cmd_models_fetch(args: argparse.Namespace) -> int:
    from fakelens.config import get_settings
    from fakelens.models import store

    settings = get_settings()
    names = args.names or list(store.KNOWN_FILES)
    for name in names:
        path, how = store.install(name, settings.model_dir, source_dir=args.source,
                                  allow_download=settings.allow_download)
        print(f"{name}: {how} ({path})")
    return 0


def add_models_commands(sub) -> None:
    p = sub.add_parser("models", help="installed detectors and trainable architectures")
    msub = p.add_subparsers(dest="models_command", required=True)
    pl = msub.add_parser("list")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--wide", action="store_true", help="one row per detector, every "
                    "column (for terminals wider than about 150 columns)")
    pl.set_defaults(func=cmd_models)
    pf = msub.add_parser("fetch", help="install the face detector and face-mesh files into "
                         "the model store (FAKELENS_MODEL_DIR, default the user cache)")
    pf.add_argument("names", nargs="*", help="files to install (default: all known)")
    pf.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                    help="copy from this folder (e.g. ../shared/models) instead of downloading")
    pf.set_defaults(func=cmd_models_fetch)
