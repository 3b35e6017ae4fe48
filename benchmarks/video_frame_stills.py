"""Real video frames saved as photos (screenshots, video-call captures): how many the
shipped detectors call Likely manipulated, and how the swap tools' fake stills fare.

The stills are those of benchmarks/swap_stills.py (evenly spaced frames, JPEG quality
95, analysed by ``fakelens.analyze`` with the installed detectors: set
FAKELENS_WEIGHTS_DIR to score a candidate), taken from clips no GAN-face detector trained
on (``training/splits.py`` roles; ``VIEWS``): by default the test-role clips of live-swap
and swap-generators (originals and fakes), the test-role real clips of talking-heads and
the validation-role clips of videos-real; ``--view replication`` the clips that view
left out. It prints, per source, real stills called Likely manipulated, real stills the
GAN-face detector scored at or above its threshold, and fake stills caught (Likely
manipulated or Uncertain), with Wilson 95% intervals, and writes every still's verdict to
``--out``.

    nice -n 10 python benchmarks/video_frame_stills.py --out runs/frames-v1.json
    FAKELENS_WEIGHTS_DIR=runs/cand-synth-v2 nice -n 10 python \\
        benchmarks/video_frame_stills.py --out runs/frames-v2.json
    python benchmarks/video_frame_stills.py --from-json runs/frames-v1.json runs/frames-v2.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
# (set, the role of its clips that no GAN-face detector trained on ("all": every clip),
# which labels), per view: "heldout" scored the v2 candidate first; "replication" holds
# clips that view left out, for a second rule (docs/training-log.md)
VIEWS = {
    "heldout": (("live-swap", "test", (0, 1)), ("swap-generators", "test", (0, 1)),
                ("talking-heads", "test", (0,)), ("videos-real", "val", (0,))),
    "replication": (("live-swap", "val", (0, 1)), ("swap-generators", "val", (0, 1)),
                    ("talking-heads", "val", (0,)), ("videos", "all", (0,)),
                    ("generated-videos", "all", (0,))),
}
SYNTH = "fakelens-synthetic"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(data: Path, frames: int, sources) -> list[dict]:
    import fakelens
    from fakelens.errors import FakeLensError
    from fakelens.training.datasets import open_dataset
    from fakelens.training.splits import role_of

    stills = _load("swap_stills")
    rows = []
    with tempfile.TemporaryDirectory(prefix="frame-stills-") as tmp:
        for name, role, labels in sources:
            for item in open_dataset(str(data / name)):
                if role not in ("all", role_of(name, item)) or item.label not in labels:
                    continue
                for t, path in stills.stills_of(Path(item.path), Path(tmp), frames):
                    try:
                        a = fakelens.analyze(path)
                        verdict, models = a.verdict.value, stills.detectors(a)
                    except FakeLensError as exc:
                        verdict, models = f"error: {exc}", {}
                    rows.append({"set": name, "file": Path(item.path).name, "t": t,
                                 "label": item.label, "method": item.method,
                                 "verdict": verdict, "models": models})
                    path.unlink()
    return rows


def table(runs: dict[str, list[dict]]) -> list[str]:
    share = _load("photo_compression")._share  # "k of n [low, high]" (Wilson 95%)
    lines = ["| source | version | real stills called FAKE | real stills the GAN-face "
             "detector scored >= 0.5 | fake stills caught |", "|---|---|---|---|---|"]
    names = list(dict.fromkeys(r["set"] for rows in runs.values() for r in rows))
    for name in names + ["all"]:
        for version, rows in runs.items():
            mine = [r for r in rows if name == "all" or r["set"] == name]
            reals = [r["verdict"] for r in mine if r["label"] == 0 and
                     r["verdict"] in ("FAKE", "UNCERTAIN", "REAL")]
            fakes = [r["verdict"] for r in mine if r["label"] == 1 and
                     r["verdict"] in ("FAKE", "UNCERTAIN", "REAL")]
            caught = sum(v in ("FAKE", "UNCERTAIN") for v in fakes)
            synth = sum(r["models"].get(SYNTH, 0.0) >= 0.5 for r in mine
                        if r["label"] == 0 and r["verdict"] in ("FAKE", "UNCERTAIN", "REAL"))
            real_cell = share(reals.count("FAKE"), len(reals)) if reals else "-"
            synth_cell = share(synth, len(reals)) if reals else "-"
            fake_cell = share(caught, len(fakes)) if fakes else "-"
            lines.append(f"| {name} | {version} | {real_cell} | {synth_cell} | {fake_cell} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--frames", type=int, default=3, help="stills per clip")
    parser.add_argument("--view", choices=sorted(VIEWS), default="heldout")
    parser.add_argument("--out", type=Path, help="write every still's verdict here")
    parser.add_argument("--from-json", type=Path, nargs="+",
                        help="print the table of earlier runs side by side")
    args = parser.parse_args()
    if args.from_json:
        runs = {p.stem: json.loads(p.read_text()) for p in args.from_json}
    else:
        rows = measure(args.data, args.frames, VIEWS[args.view])
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1) + "\n")
        runs = {"this run": rows}
    print("\n".join(table(runs)))


if __name__ == "__main__":
    main()
