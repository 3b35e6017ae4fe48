"""How the shipped detectors hold up on still photos made by today's face-swap tools:
stills taken from the held-out swap clips, each fake against its own original.

The swap tools (inswapper_128 behind roop / FaceFusion / Deep-Live-Cam, faceswap-GAN,
DeepFaceLive) are used on single photos too. From every clip of ``swap-generators`` and
``live-swap``, ``FRAMES`` evenly spaced frames (the centres of equal slices, as the
analysis samples a video) are decoded and saved as JPEG quality 95 (Pillow, 4:2:0), then
analysed by ``fakelens.analyze`` with the shipped defaults (both detectors, shipped
threshold and band), exactly as a user gets a photo. Per set and generator, for the
test-role clips (``training/splits.py``) and, apart, for every clip: AUC of the fakes'
stills against the stills of their own originals (same ``group``; a fake with no original
in the view against every real of the view, marked), with a bootstrap interval over
stills; fakes caught (Likely manipulated or Uncertain), fakes called Likely manipulated,
reals called Likely manipulated (Wilson 95% intervals over stills). It writes
docs/eval/swap-stills.md (and .json, the verdict of every still), which
scripts/record_metrics.py takes the face-swap card's still-photo blind spots from.

    nice -n 10 python benchmarks/swap_stills.py             # about 3 min on 2 busy cores
    python benchmarks/swap_stills.py --from-json             # the table again

The stills live in a temporary folder and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "docs" / "eval" / "swap-stills"  # .md (the table) and .json
SETS = ("swap-generators", "live-swap")
VIEWS = ("test", "all")  # test role only; every clip of the set
FRAMES = 3
JPEG_QUALITY = 95
CAUGHT = ("FAKE", "UNCERTAIN")
FACED = ("FAKE", "UNCERTAIN", "REAL")  # a face was found and scored
SWAP, SYNTH = "fakelens-faceswap", "fakelens-synthetic"  # the shipped detectors


def _helpers():
    """benchmarks/photo_compression.py (its AUC and share helpers), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "photo_compression", Path(__file__).with_name("photo_compression.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stills_of(clip: Path, folder: Path, frames: int = FRAMES) -> list[tuple[float, Path]]:
    """``frames`` evenly spaced frames of ``clip`` saved as JPEGs: (timestamp, path)."""
    from fakelens.media.load import iter_frames, probe

    out = []
    for frame in iter_frames(clip, probe(clip), frames=frames):
        dst = folder / f"{clip.stem}_{frame.index:05d}.jpg"
        Image.fromarray(frame.rgb).save(dst, "JPEG", quality=JPEG_QUALITY)
        out.append((round(frame.timestamp_s, 3), dst))
    return out


def detectors(analysis) -> dict[str, float]:
    """Each detector's own score of the still: its highest over the faces found."""
    out: dict[str, float] = {}
    for track in analysis.tracks:
        for m in track.model_scores:
            out[m.model] = round(max(out.get(m.model, 0.0), m.score), 6)
    return out


def measure(data: Path, frames: int = FRAMES) -> list[dict]:
    import fakelens
    from fakelens.errors import FakeLensError
    from fakelens.training.datasets import open_dataset
    from fakelens.training.splits import role_of

    rows = []
    with tempfile.TemporaryDirectory(prefix="swap-stills-") as tmp:
        for name in SETS:
            for item in open_dataset(str(data / name)):
                for t, path in stills_of(Path(item.path), Path(tmp), frames):
                    try:
                        a = fakelens.analyze(path)
                        verdict, score, models = a.verdict.value, a.score, detectors(a)
                    except FakeLensError as exc:
                        verdict, score, models = f"error: {exc}", None, {}
                    rows.append({"set": name, "file": Path(item.path).name, "t": t,
                                 "label": item.label, "method": item.method,
                                 "group": item.group, "role": role_of(name, item),
                                 "verdict": verdict,
                                 "score": None if score is None else round(score, 6),
                                 "models": models})
                    path.unlink()
    return rows


def generator_rows(rows: list[dict], set_name: str, view: str) -> list[dict]:
    """One block per generator of the set in the view: its fakes' stills, the stills of
    their own originals (``own``: False when none is in the view, and every real of the
    view stands in), and the figures."""
    mine = [r for r in rows if r["set"] == set_name and (view == "all" or r["role"] == view)]
    fakes, reals = [r for r in mine if r["label"] == 1], [r for r in mine if r["label"] == 0]
    out = []
    for method in sorted({r["method"] for r in fakes}):
        f = [r for r in fakes if r["method"] == method]
        groups = {r["group"] for r in f}
        own = [r for r in reals if r["group"] in groups]
        out.append({"set": set_name, "view": view, "method": method, "fakes": f,
                    "reals": own or reals, "own": bool(own)})
    return out


def summary(block: dict) -> dict:
    """The figures of one generator block (stills with no face left out of the shares)."""
    fakes = [r["verdict"] for r in block["fakes"] if r["verdict"] in FACED]
    reals = [r["verdict"] for r in block["reals"] if r["verdict"] in FACED]
    clips = {r["file"] for r in block["fakes"]}
    originals = {r["file"] for r in block["reals"]}
    return {"clips": len(clips), "originals": len(originals), "n_fake": len(fakes),
            "n_real": len(reals), "caught": sum(v in CAUGHT for v in fakes),
            "fake_called_fake": fakes.count("FAKE"), "fake_no_sign": fakes.count("REAL"),
            "real_called_fake": reals.count("FAKE"),
            "real_fake_by_synthetic": sum(r["verdict"] == "FAKE"
                                          and r["models"].get(SYNTH, 0.0) >= 0.5
                                          for r in block["reals"]),
            "no_face": len(block["fakes"]) - len(fakes) + len(block["reals"]) - len(reals)}


def auc_interval(block: dict, model: str | None = None
                 ) -> tuple[float, float, float] | None:
    """AUC of the block's fake stills against its real stills (the shipped score, or
    ``model``'s own), with the percentile bootstrap interval of ``training/metrics.py``
    (None: a class has no score)."""
    import numpy as np

    from fakelens.training.metrics import bootstrap_ci, roc_auc

    def score(r: dict) -> float | None:
        return r["score"] if model is None else r["models"].get(model)

    scored = [r for r in block["fakes"] + block["reals"] if score(r) is not None]
    y = np.array([r["label"] for r in scored])
    s = np.array([score(r) for r in scored], dtype=float)
    if len(set(y.tolist())) < 2:
        return None
    lo, hi = bootstrap_ci(roc_auc, y, s)
    return roc_auc(y, s), lo, hi


def _interval(v: tuple[float, float, float] | None) -> str:
    return "-" if v is None else f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"


def table(rows: list[dict]) -> list[str]:
    pc = _helpers()
    lines = ["| view | set | generator | fake clips / originals | AUC [95% CI], stills | "
             f"AUC, {SWAP} alone | "
             "fakes caught (Likely manipulated or Uncertain) | fakes Likely manipulated | "
             "reals called Likely manipulated | of those, "
             f"{SYNTH} >= 0.5 | no face found |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for view in VIEWS:
        for name in SETS:
            for block in generator_rows(rows, name, view):
                s = summary(block)
                originals = str(s["originals"]) if block["own"] else \
                    f"none: all {s['originals']} reals of the view*"
                lines.append(
                    f"| {view} | {name} | {block['method']} | {s['clips']} / {originals} | "
                    f"{pc._auc(block['fakes'] + block['reals'])} | "
                    f"{_interval(auc_interval(block, SWAP))} | "
                    f"{pc._share(s['caught'], s['n_fake'])} | "
                    f"{s['fake_called_fake']} of {s['n_fake']} | "
                    f"{pc._share(s['real_called_fake'], s['n_real'])} | "
                    f"{s['real_fake_by_synthetic']} | {s['no_face']} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--frames", type=int, default=FRAMES, help="stills per clip")
    parser.add_argument("--from-json", action="store_true",
                        help="rebuild the table from docs/eval/swap-stills.json")
    args = parser.parse_args()
    start = time.time()
    if args.from_json:
        doc = json.loads(OUT.with_suffix(".json").read_text())
        rows, frames = doc["stills"], doc["frames_per_clip"]
    else:
        rows, frames = measure(args.data, args.frames), args.frames
    took = "(rebuilt from the .json)" if args.from_json else \
        f"in {time.time() - start:.0f} s"
    lines = table(rows) + [
        "", f"{len(rows)} stills analysed {took}. *: a fake with no original of its own in "
        "the view, against every real still of the set in that view. The interval resamples "
        f"stills; the {frames} stills of one clip are alike, so it is narrower than one over "
        "clips would be: read the clip counts beside it."]
    head = ["# Still photos of today's face-swap tools", "",
            f"{frames} evenly spaced frames of every clip of swap-generators and live-swap, "
            f"saved as JPEG quality {JPEG_QUALITY} (Pillow, 4:2:0) and analysed by "
            "`fakelens.analyze` with the shipped defaults, each generator's fakes against "
            "their own originals (same `group`). View `test`: the clips of the test role "
            "(src/fakelens/training/splits.py), never trained on, selected or calibrated "
            "on; view `all`: every clip (the shipped face-swap detector v2 trained on the "
            "live-swap clips of the train-role face models and saw no swap-generators clip; "
            "the GAN-face detector v2 trained on the real frames of the train-role "
            "originals of both sets, so the view's real stills flatter it). "
            "Caught: Likely manipulated or Uncertain; shares: Wilson 95%. Written by:", "",
            "    nice -n 10 python benchmarks/swap_stills.py"
            + (f" --frames {frames}" if frames != FRAMES else ""), "",
            "What it shows: docs/MODELS.md, \"Still photos of today's face-swap tools\". "
            "The face-swap card's still-photo blind spots (`missed_by_media.image`) come "
            "from the test view (scripts/record_metrics.py).", ""]
    if not args.from_json:
        OUT.with_suffix(".json").write_text(
            '{"frames_per_clip": ' + str(frames) + ', "jpeg_quality": ' + str(JPEG_QUALITY)
            + ', "stills": [\n' + ",\n".join(json.dumps(r, separators=(",", ":"))
                                            for r in rows) + "\n]}\n")
    OUT.with_suffix(".md").write_text("\n".join(head + lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
