"""The mouth-region detector against its rule (docs/training-log.md, "Mouth-region detector
(issue 29)"), from two quality-benchmark reports of the test role:

* ALONE: ``fakelens eval --suite default --model fakelens-mouth --baseline
  src/fakelens/weights`` (the detector alone, v2's shipped defaults beside it);
* WITH: ``fakelens eval --suite default --model
  fakelens-faceswap,fakelens-synthetic,fakelens-mouth`` (the product with it).

Writes ``mouth.json`` and ``mouth.md`` into OUT: per set and per generator the AUC against
the set's real clips (bootstrap interval), the fakes caught (FAKE or UNCERTAIN) and called
FAKE at the threshold (Wilson intervals), the real clips called FAKE, for the detector
alone, v2 and the product with it; the paired AUC differences against v2; each condition
of the rule and whether it holds.

    python scripts/score_mouth.py ALONE/suite.json WITH/suite.json --out docs/eval/mouth-v1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fakelens.training import metrics
from fakelens.training.suite import DEFAULT_SUITE, compare_versions

VIDEO_SETS = [e.name for e in DEFAULT_SUITE if not e.stills]
LABELS = {"mouth": "fakelens-mouth alone", "v2": "v2 (shipped defaults)",
          "with-mouth": "v2 + fakelens-mouth"}
MAX_REAL_FAKE = 1 / 12


def merged(alone: dict, with_mouth: dict) -> dict:
    """One report with three versions per set: the detector alone, v2, the product with
    it (the same media, the same frames: ``analyze()`` is deterministic)."""
    sets = {}
    for name, s in alone["sets"].items():
        versions = {"mouth": s["versions"]["current"], "v2": s["versions"]["previous"]}
        if name in with_mouth["sets"]:
            versions["with-mouth"] = with_mouth["sets"][name]["versions"]["current"]
        sets[name] = {"description": s["description"], "versions": versions}
    return {"suite": alone["suite"], "frames": alone["frames"], "sets": sets,
            "weights": {"mouth": alone["weights"]["current"],
                        "v2": alone["weights"]["previous"],
                        "with-mouth": with_mouth["weights"]["current"]}}


def _auc_block(y: np.ndarray, s: np.ndarray) -> dict | None:
    if not (0 < y.sum() < len(y)):
        return None
    lo, hi = metrics.bootstrap_ci(metrics.roc_auc, y, s, n=1000)
    return {"auc": metrics.roc_auc(y, s), "ci95": [lo, hi]}


def per_generator(block: dict) -> dict:
    """method -> AUC vs the set's reals (interval), fakes caught / called FAKE."""
    items = [x for x in block["items"] if x["score"] is not None]
    reals = [x for x in items if x["label"] == 0]
    out = {}
    for method in sorted({x["method"] for x in items if x["label"] == 1}):
        fakes = [x for x in items if x["label"] == 1 and x["method"] == method]
        y = np.array([0] * len(reals) + [1] * len(fakes))
        s = np.array([x["score"] for x in reals + fakes])
        caught = sum(x["verdict"] in ("FAKE", "UNCERTAIN") for x in fakes)
        out[method] = {"n_fake": len(fakes), "caught": caught,
                       "caught_ci95": list(metrics.proportion_ci(caught, len(fakes))),
                       "called_fake": sum(x["verdict"] == "FAKE" for x in fakes),
                       **({"vs_reals": b} if (b := _auc_block(y, s)) else {})}
    return out


def frames_and_track(block: dict) -> dict:
    """The detector's frame head alone (mean of the frames' probabilities) against its
    media score (with a temporal head: frame and temporal heads together): the AUC of each
    against the set's real clips, overall and per generator."""
    items = [x for x in block["items"] if x["score"] is not None
             and x.get("mean_of_frames") is not None]
    reals = [x for x in items if x["label"] == 0]
    out = {}
    for method in [None, *sorted({x["method"] for x in items if x["label"] == 1})]:
        fakes = [x for x in items if x["label"] == 1 and method in (None, x["method"])]
        y = np.array([0] * len(reals) + [1] * len(fakes))
        if not (0 < y.sum() < len(y)):
            continue
        out[method or "all"] = {
            "n_fake": len(fakes),
            "mean_of_frames_auc": metrics.roc_auc(y, [x["mean_of_frames"]
                                                      for x in reals + fakes]),
            "score_auc": metrics.roc_auc(y, [x["score"] for x in reals + fakes])}
    return out


def rule(report: dict, diff: dict) -> dict:
    th = diff["sets"].get("talking-heads")
    one = bool(th and th["ci95"][0] > 0)
    two = {n: (b["real_flagged_fake"], b["n_real"]) for n, s in report["sets"].items()
           if n in VIDEO_SETS for b in [s["versions"]["mouth"]]}
    three = {n: (s["versions"]["with-mouth"]["real_flagged_fake"],
                 s["versions"]["v2"]["real_flagged_fake"])
             for n, s in report["sets"].items() if "with-mouth" in s["versions"]}
    return {
        "1_talking_heads_auc_above_v2_paired_ci_above_zero": {"holds": one, "difference": th},
        "2_at_most_1_in_12_real_clips_fake_every_video_set": {
            "holds": all(k <= MAX_REAL_FAKE * n for k, n in two.values()),
            "real_called_fake": {n: f"{k} of {m}" for n, (k, m) in two.items()}},
        "3_no_more_false_alarms_than_v2_any_set": {
            "holds": all(a <= b for a, b in three.values()),
            "real_called_fake_with_mouth_vs_v2": {n: f"{a} vs {b}"
                                                  for n, (a, b) in three.items()}},
    }


def _auc(b: dict | None) -> str:
    if not b:
        return "n/a"
    return f"{b['auc']:.3f} [{b['ci95'][0]:.3f}, {b['ci95'][1]:.3f}]"


def _share(k: int, n: int, ci=None) -> str:
    if not n:
        return "n/a"
    lo, hi = ci or metrics.proportion_ci(k, n)
    return f"{k} of {n} [{lo:.2f}, {hi:.2f}]"


def to_markdown(out: dict) -> str:
    report = out["report"]
    lines = ["# fakelens-mouth against its rule (test role, 32 frames, through `analyze()`)",
             "", "| set | version | n (fake/real) | AUC [95% CI] | real called FAKE | real "
             "UNCERTAIN | fakes caught (FAKE or UNCERTAIN) | fakes called FAKE |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        if name not in VIDEO_SETS:
            continue
        for label, b in s["versions"].items():
            auc = _auc({"auc": b["auc"], "ci95": b["auc_ci95"]}) if "auc" in b else "n/a"
            lines.append(f"| {name} | {LABELS[label]} | {b['n_scored']} ({b['n_fake']}/"
                         f"{b['n_real']}) | {auc} | {_share(b['real_flagged_fake'], b['n_real'])}"
                         f" | {_share(b['real_uncertain'], b['n_real'])}"
                         f" | {_share(b['fake_caught'], b['n_fake'])} | "
                         f"{_share(b['fake_called_fake'], b['n_fake'])} |")
    lines += ["", "Per generator (none trained on by any version: leave-one-generator-out): "
              "AUC against the set's real clips, fakes caught at the threshold.", "",
              "| set | generator | fakes | " + " | ".join(
                  f"{LABELS[v]} AUC | {LABELS[v]} caught" for v in LABELS) + " |",
              "|---|---|---|" + "---|---|" * len(LABELS)]
    for name, by_version in out["per_generator"].items():
        methods = sorted({m for g in by_version.values() for m in g})
        for m in methods:
            cells = []
            for v in LABELS:
                g = by_version.get(v, {}).get(m)
                cells += [_auc(g.get("vs_reals")) if g else "n/a",
                          _share(g["caught"], g["n_fake"], g["caught_ci95"]) if g else "n/a"]
            n = next(g[m]["n_fake"] for g in by_version.values() if m in g)
            lines.append(f"| {name} | {m} | {n} | " + " | ".join(cells) + " |")
    for key in ("mouth", "with-mouth"):
        lines += ["", f"{LABELS[key]} minus v2: paired AUC difference [95% CI].", "",
                  "| set | media | difference |", "|---|---|---|"]
        for name, d in out["differences"][key]["sets"].items():
            lines.append(f"| {name} | {d['n']} | {d['auc_difference']:+.3f} "
                         f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] |")
    lines += ["", f"{LABELS['mouth']}: its frames alone (mean of the frames' probabilities) "
              "against its media score (with a temporal head, frame and temporal heads "
              "together): AUC against the set's real clips.", "",
              "| set | generator | fakes | mean of frames | media score |", "|---|---|---|---|---|"]
    for name, gens in out["frames_and_track"].items():
        for m, g in gens.items():
            lines.append(f"| {name} | {m} | {g['n_fake']} | {g['mean_of_frames_auc']:.3f} | "
                         f"{g['score_auc']:.3f} |")
    lines += ["", "Rule (docs/training-log.md, fixed before training and scoring):", ""]
    for cond, r in out["rule"].items():
        detail = {k: v for k, v in r.items() if k != "holds"}
        lines.append(f"- {cond}: **{'holds' if r['holds'] else 'fails'}** "
                     f"({json.dumps(detail)})")
    lines.append(f"\n**Ship: {'yes' if out['ship'] else 'no'}**")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("alone", type=Path)
    parser.add_argument("with_mouth", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = merged(json.loads(args.alone.read_text()), json.loads(args.with_mouth.read_text()))
    diffs = {key: compare_versions(report, DEFAULT_SUITE, key, "v2")
             for key in ("mouth", "with-mouth")}
    gens = {name: {v: per_generator(b) for v, b in s["versions"].items()}
            for name, s in report["sets"].items() if name in VIDEO_SETS}
    checks = rule(report, diffs["mouth"])
    track = {name: frames_and_track(s["versions"]["mouth"])
             for name, s in report["sets"].items() if name in VIDEO_SETS}
    out = {"report": report, "differences": diffs, "per_generator": gens, "rule": checks,
           "frames_and_track": track,
           "ship": all(r["holds"] for r in checks.values())}
    args.out.mkdir(parents=True, exist_ok=True)
    # the items stay in the two suite reports; the summary keeps each version's counts
    slim = {n: {v: {k: x for k, x in b.items() if k != "items"}
                for v, b in s["versions"].items()} for n, s in report["sets"].items()}
    (args.out / "mouth.json").write_text(json.dumps({**out, "report": slim}, indent=1))
    (args.out / "mouth.md").write_text(to_markdown(out))
    print((args.out / "mouth.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
