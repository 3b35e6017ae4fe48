"""``fakelens eval --suite default``: the one quality benchmark.

Scores the installed detectors through the product's own ``analyze()`` path (shipped
defaults, 32 evenly spaced frames) on every public held-out set, beside a previous
version of the weights, and writes one table: per set the AUC of the media score with
a bootstrap interval, the share of real media called FAKE and of UNCERTAIN verdicts at
the shipped threshold, and for aligned pairs how often a fake outranks its own original.
Only material of the ``test`` role (``training/splits.py``) is scored.

``--suite selection`` scores the ``val`` role the same way (held-out live-swap face
models and real clips, the DFDC training crops, which no run trains on): checkpoints are
chosen on it, so that the default suite stays a clean before/after measurement.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fakelens.errors import FakeLensError
from fakelens.training import metrics
from fakelens.training.datasets import Item, open_dataset, split_by_group
from fakelens.training.evaluate import Scored, score_items
from fakelens.training.splits import select


@dataclass(frozen=True)
class SuiteSet:
    name: str
    folder: str | tuple[str, ...]  # under the shared data folder; several are pooled
    description: str
    role: str = "test"  # training/splits.py
    split: str | None = None  # rows of labels.csv with this split
    holdout_fraction: float | None = None  # the validation part of a group split
    paired: bool = False  # groups hold a fake and its own original
    stills: bool = False  # images: left out of the pooled video row


DEFAULT_SUITE = (
    SuiteSet("dev-videos", "videos", "dev clips never trained on: 4 FF++ c23 fakes (one per "
             "method), 3 of their originals, 3 real talking heads"),
    SuiteSet("live-swap-heldout", "live-swap", "DeepFaceLive swaps of 5 held-out face "
             "models and their own originals", paired=True),
    SuiteSet("generated-videos", "generated-videos", "GHOST swaps, SadTalker heads, a "
             "Wav2Lip lip-sync and their real sources"),
    SuiteSet("swap-generators", "swap-generators", "face swaps of the open swap tools "
             "(roop / inswapper_128, faceswap-GAN, a landmark warp) with their originals and "
             "the phone and news clips the tools ship as targets", paired=True),
    SuiteSet("talking-heads", "talking-heads", "talking heads, lip-sync and reenactment of "
             "11 generators with their driving / source clips and other real talking faces",
             paired=True),
    SuiteSet("dfdc-crops", "dfdc-crops", "DFDC face crops (stills), validation split",
             split="validation", stills=True),
    SuiteSet("gan-stills", "gan-faces", "StyleGAN2 faces vs real photos (stills), the 20% "
             "held out of the synthetic-face run", holdout_fraction=0.2, stills=True),
)

SELECTION_SUITE = (
    SuiteSet("val-videos", ("live-swap", "videos-real"), "DeepFaceLive swaps of 3 validation "
             "face models with their own originals, and 10 held-out real talking-face clips",
             role="val", paired=True),
    SuiteSet("dfdc-crops-train", "dfdc-crops", "DFDC face crops (stills), training split "
             "(never trained on)", split="train", role="val", stills=True),
    SuiteSet("val-swap-generators", "swap-generators", "a held-out faceswap-GAN demo pair, "
             "the GAN v1 / v2 panels and a target clip (validation role)", role="val",
             paired=True),
    SuiteSet("val-talking-heads", "talking-heads", "PD-FGC (a generator held out whole) "
             "with its drivers, and real MEAD / dataset clips (validation role)", role="val",
             paired=True),
)

SUITES = {"default": DEFAULT_SUITE, "selection": SELECTION_SUITE}


def suite_items(data_dir: Path, entry: SuiteSet) -> list[Item]:
    folders = (entry.folder,) if isinstance(entry.folder, str) else entry.folder
    items = [item for name in folders for item in select(
        Path(data_dir) / name, open_dataset(str(Path(data_dir) / name), split=entry.split),
        entry.role)]
    if entry.holdout_fraction:
        _, val = split_by_group(np.array([i.group for i in items]), entry.holdout_fraction, 0)
        items = [items[i] for i in val]
    return items


@contextmanager
def weights_from(folder: Path | None) -> Iterator[None]:
    """Use the detectors of ``folder`` (None: the installed ones) for the block."""
    before = os.environ.get("FAKELENS_WEIGHTS_DIR")
    if folder is not None:
        os.environ["FAKELENS_WEIGHTS_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("FAKELENS_WEIGHTS_DIR", None)
        else:
            os.environ["FAKELENS_WEIGHTS_DIR"] = before


def _scored_weights(folder: Path | None, model: str | None = None
                    ) -> dict[str, dict[str, str]]:
    """Version and frame-graph sha256 of each detector a version scores with (the default
    ones, or those ``model`` names): ties a recorded table to the exact files (tests check
    the shipped ones against it)."""
    from fakelens.models.registry import DEFAULT_DETECTORS, installed_detectors

    names = [n.strip() for n in model.split(",")] if model else DEFAULT_DETECTORS
    with weights_from(folder):
        installed = installed_detectors()
    return {name: {"version": installed[name].config.version,
                   "frame_sha256": installed[name].config.frame_sha256}
            for name in names if name in installed}


def _pairs_ranked(scored: list[Scored]) -> tuple[int, int]:
    """(fakes scored above their own original, pairs)."""
    by_group: dict[str, dict[int, list[float]]] = {}
    for s in scored:
        if s.fakelens_score is not None:
            by_group.setdefault(s.item.group, {}).setdefault(s.item.label, []).append(
                s.fakelens_score)
    pairs = [(f, r) for g in by_group.values() if 0 in g and 1 in g
             for f in g[1] for r in g[0]]
    return sum(f > r for f, r in pairs), len(pairs)


def summarise_set(scored: list[Scored], paired: bool,
                  n_boot: int = 1000) -> dict:
    ok = [s for s in scored if s.fakelens_score is not None]
    y = np.array([s.item.label for s in ok])
    score = np.array([s.fakelens_score for s in ok])
    mean_frames = np.array([s.video_score for s in ok])
    verdicts = np.array([s.verdict for s in ok])
    reals, fakes = y == 0, y == 1
    out = {"n": len(scored), "n_scored": len(ok), "n_fake": int(fakes.sum()),
           "n_real": int(reals.sum()),
           "not_scored": [{"file": Path(s.item.path).name, "reason": s.error or "no face"}
                          for s in scored if s.fakelens_score is None],
           "real_flagged_fake": int((verdicts[reals] == "FAKE").sum()),
           "real_uncertain": int((verdicts[reals] == "UNCERTAIN").sum()),
           "fake_called_fake": int((verdicts[fakes] == "FAKE").sum()),
           # caught: FAKE or UNCERTAIN, anything but a "no sign" for a fake
           "fake_caught": int(np.isin(verdicts[fakes], ("FAKE", "UNCERTAIN")).sum()),
           "uncertain": int((verdicts == "UNCERTAIN").sum())}
    if fakes.any():
        out["fake_caught_ci95"] = list(metrics.proportion_ci(out["fake_caught"],
                                                             out["n_fake"]))
    methods = sorted({s.item.method for s in ok if s.item.label == 1})
    if len(methods) > 1 or (methods and reals.any()):
        out["per_method"] = {m: _method_block(ok, m, y, score, verdicts) for m in methods}
    if reals.any() and fakes.any():
        out["auc"] = metrics.roc_auc(y, score)
        out["auc_ci95"] = metrics.bootstrap_ci(metrics.roc_auc, y, score, n=n_boot)
        out["auc_mean_of_frames"] = metrics.roc_auc(y, mean_frames)
    if paired:
        out["pairs_ranked"], out["pairs"] = _pairs_ranked(ok)
    out["items"] = [{"file": Path(s.item.path).name, "label": s.item.label,
                     "method": s.item.method, "score": s.fakelens_score,
                     "mean_of_frames": s.video_score, "verdict": s.verdict}
                    for s in scored]
    return out


def _method_block(ok: list[Scored], method: str, y, score, verdicts) -> dict:
    """One generator / method of a set: its fakes caught at the shipped rule, and their
    AUC against all the set's reals (a leave-nothing-out view: what a user gets)."""
    mine = np.array([s.item.label == 1 and s.item.method == method for s in ok])
    block = {"n_fake": int(mine.sum()),
             "caught": int(np.isin(verdicts[mine], ("FAKE", "UNCERTAIN")).sum()),
             "called_fake": int((verdicts[mine] == "FAKE").sum())}
    versus = mine | (y == 0)
    if (y[versus] == 0).any():
        block["auc_vs_reals"] = metrics.roc_auc(y[versus], score[versus])
    return block


POOLED_VIDEOS = "all videos (pooled)"


def _matched(current: dict, previous: dict) -> tuple[list, list, list, list]:
    """(labels, current scores, previous scores, files) of the media both versions
    scored."""
    before = {x["file"]: x["score"] for x in previous["items"] if x["score"] is not None}
    rows = [(x["label"], x["score"], before[x["file"]], x["file"]) for x in current["items"]
            if x["score"] is not None and x["file"] in before]
    return tuple([r[k] for r in rows] for k in range(4))  # type: ignore[return-value]


def _difference(y: list, a: list, b: list, n_boot: int, groups: list | None = None
                ) -> dict | None:
    if not 0 < sum(y) < len(y):  # both classes are needed for an AUC
        return None
    d, lo, hi = metrics.paired_bootstrap_difference(metrics.roc_auc, y, a, b, n=n_boot,
                                                    groups=groups)
    return {"n": len(y), "auc_difference": d, "ci95": [lo, hi]}


def _pooled(reports: list[dict], videos: set[str], current: str, previous: str,
            n_boot: int) -> dict | None:
    """The media of the video sets of ``reports`` pooled, resampled by clip (a set's file:
    the same clip in several reports is one clip)."""
    y: list = []
    a: list = []
    b: list = []
    clips: list = []
    for report in reports:
        for name, s in report["sets"].items():
            versions = s["versions"]
            if name not in videos or current not in versions or previous not in versions:
                continue
            labels, now, before, files = _matched(versions[current], versions[previous])
            y += labels
            a += now
            b += before
            clips += [f"{name}/{f}" for f in files]
    d = _difference(y, a, b, n_boot, groups=clips)
    if d is None:
        return None
    return {**d, "clips": len(set(clips)),
            "auc": {current: metrics.roc_auc(y, a), previous: metrics.roc_auc(y, b)}}


def compare_versions(report: dict, entries: tuple[SuiteSet, ...], current: str,
                     previous: str, n_boot: int = 1000) -> dict:
    """Per set, and for all video sets pooled, the AUC difference between two versions on
    the media both scored, with a paired bootstrap interval: whether a change is beyond
    the noise of these small sets, which separate intervals cannot tell."""
    out: dict = {}
    for name, s in report["sets"].items():
        y, a, b, _ = _matched(s["versions"][current], s["versions"][previous])
        if (d := _difference(y, a, b, n_boot)) is not None:
            out[name] = d
    videos = {e.name for e in entries if not e.stills}
    if len(videos) > 1 and (d := _pooled([report], videos, current, previous, n_boot)):
        out[POOLED_VIDEOS] = d
    return {"current": current, "previous": previous, "sets": out}


def compare_pooled(reports: list[dict], current: str, previous: str,
                   n_boot: int = 1000) -> dict:
    """All video media of several reports of one suite pooled (the same clips as they are
    and re-encoded, say): the AUC of each version and their paired difference, resampling
    clips so that the versions of one clip, in whatever media folder, stay together."""
    if not reports:
        raise FakeLensError("no reports to compare")
    videos = {e.name for e in SUITES.get(reports[0]["suite"], ()) if not e.stills}
    d = _pooled(reports, videos, current, previous, n_boot)
    if d is None:
        raise FakeLensError("the pooled videos need fake and real media scored by both "
                            f"{current!r} and {previous!r}")
    return {**d, "data": [r.get("data") for r in reports]}


def run_suite(data_dir: Path, out_dir: Path, *, suite: str = "default",
              baseline: Path | None = None, frames: int = 32,
              current_label: str = "current", baseline_label: str = "previous",
              progress=None, model: str | None = None) -> dict:
    """``model`` (installed detectors, comma-separated) scores the current version with
    those detectors instead of the shipped defaults (a detector alone, or the defaults
    with a candidate beside them); the baseline always scores with its shipped defaults."""
    if suite not in SUITES:
        raise FakeLensError(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    versions = [(current_label, None, model)] + (
        [(baseline_label, Path(baseline), None)] if baseline else [])
    report: dict = {"suite": suite, "frames": frames, "data": data_dir.name, "sets": {},
                    "weights": {label: _scored_weights(folder, names)
                                for label, folder, names in versions}}
    if model:
        report["detectors"] = model
    for entry in SUITES[suite]:
        items = suite_items(data_dir, entry)
        report["sets"][entry.name] = {"description": entry.description, "versions": {}}
        for label, folder, names in versions:
            t0 = time.perf_counter()
            with weights_from(folder):
                scored = score_items(items, model=names, frames=frames, progress=progress)
            block = summarise_set(scored, entry.paired)
            block["seconds"] = round(time.perf_counter() - t0, 1)
            report["sets"][entry.name]["versions"][label] = block
    if baseline:
        report["differences"] = compare_versions(report, SUITES[suite], current_label,
                                                 baseline_label)
    return write_report(report, out_dir, to_markdown)


def write_report(report: dict, out_dir: Path, markdown) -> dict:
    """``suite.json`` and ``suite.md`` (``markdown(report)``) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "suite.json").write_text(json.dumps(report, indent=1))
    (out_dir / "suite.md").write_text(markdown(report))
    return report


def share(k: int, n: int) -> str:
    return f"{k} of {n}" if n else "n/a"


def _caught(b: dict) -> str:
    if "fake_caught" not in b or not b["n_fake"]:
        return "n/a"
    lo, hi = b["fake_caught_ci95"]
    return f"{share(b['fake_caught'], b['n_fake'])} [{lo:.2f}, {hi:.2f}]"


def to_markdown(report: dict) -> str:
    detectors = (f"detectors {report['detectors']}" if report.get("detectors")
                 else "shipped defaults")
    lines = [f"# Quality benchmark: suite `{report['suite']}` ({report['frames']} frames, "
             f"{detectors}, through `analyze()`)", "",
             "AUC of the media score (95% bootstrap interval); in brackets after it, the AUC "
             "of the mean of per-frame probabilities. Verdicts at the shipped threshold."
             + (f" Media from `{report['data']}`." if report.get("data") else ""), "",
             "| set | n (fake/real) | weights | AUC [95% CI] (mean of frames) | real called "
             "FAKE | UNCERTAIN (all media) | fakes called FAKE | fakes caught (FAKE or "
             "UNCERTAIN) [95% CI] | fake > own original |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        for label, b in s["versions"].items():
            auc = "n/a"
            if "auc" in b:
                lo, hi = b["auc_ci95"]
                auc = f"{b['auc']:.3f} [{lo:.3f}, {hi:.3f}] ({b['auc_mean_of_frames']:.3f})"
            pairs = share(b["pairs_ranked"], b["pairs"]) if "pairs" in b else ""
            lines.append(
                f"| {name} | {b['n_scored']} ({b['n_fake']}/{b['n_real']}) | {label} | {auc} | "
                f"{share(b['real_flagged_fake'], b['n_real'])} | "
                f"{share(b['uncertain'], b['n_scored'])} | "
                f"{share(b['fake_called_fake'], b['n_fake'])} | {_caught(b)} | {pairs} |")
    per_method = [(name, label, m, x) for name, s in report["sets"].items()
                  for label, b in s["versions"].items()
                  for m, x in b.get("per_method", {}).items()]
    if per_method:
        lines += ["", "Per generator / method: its fakes caught (FAKE or UNCERTAIN) at the "
                  "shipped rule, and their AUC against all real media of the set.", "",
                  "| set | method | weights | fakes | caught | called FAKE | AUC vs reals |",
                  "|---|---|---|---|---|---|---|"]
        for name, label, m, x in per_method:
            auc = f"{x['auc_vs_reals']:.3f}" if "auc_vs_reals" in x else "n/a"
            lines.append(f"| {name} | {m} | {label} | {x['n_fake']} | "
                         f"{share(x['caught'], x['n_fake'])} | "
                         f"{share(x['called_fake'], x['n_fake'])} | {auc} |")
    differences = report.get("differences")
    if differences:
        current, previous = differences["current"], differences["previous"]
        lines += ["", f"{current} minus {previous}: AUC difference on the media both scored, "
                  "with a paired 95% bootstrap interval (the same resampled media for both). "
                  "An interval that spans 0 is a difference within the noise of the set.", "",
                  "| set | media | AUC difference [95% CI] |", "|---|---|---|"]
        for name, d in differences["sets"].items():
            lo, hi = d["ci95"]
            label = name
            if "auc" in d:
                label += f" ({d['auc'][current]:.3f} vs {d['auc'][previous]:.3f})"
            lines.append(f"| {label} | {d['n']} | {d['auc_difference']:+.3f} "
                         f"[{lo:+.3f}, {hi:+.3f}] |")
    lines += ["", "Sets:"] + [f"- `{n}`: {s['description']}" for n, s in
                              report["sets"].items()]
    skipped = [(n, label, x) for n, s in report["sets"].items()
               for label, b in s["versions"].items() for x in b["not_scored"]]
    if skipped:
        lines += ["", "Not scored (no face found or unreadable):"] + [
            f"- {n} ({label}): {x['file']}: {x['reason']}" for n, label, x in skipped]
    return "\n".join(lines) + "\n"
