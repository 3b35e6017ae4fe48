"""The rule for detectors that contradict each other, measured on the public held-out stills.

On a still both shipped detectors run; a score above the threshold that the other detector
scores below the uncertain band is Uncertain unless it clears the band twice over
(``analysis/verdict.py``, worded the same on /about). This replays that rule, through
``verdict.decide`` itself, on each detector's own scores of the held-out stills (the
per-detector reports in docs/eval, one face per still), beside two alternatives: no
contradiction rule, and every contradiction Uncertain. It writes
docs/eval/contradiction-stills.md.

    python scripts/measure_contradiction.py      # after scripts/evaluate_models.sh
"""

from __future__ import annotations

import json
from pathlib import Path

from fakelens.analysis.verdict import DEFAULT_BAND, TrackVote, decide
from fakelens.training.metrics import proportion_ci

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
SWAP, SYNTH = "fakelens-faceswap", "fakelens-synthetic"
SETS = {"gan-stills (StyleGAN2 vs real photos, 20% held out)": "gan-heldout",
        "dfdc-crops (validation folder, test role)": "dfdc-validation"}
THRESHOLD = 0.5
# (rule, how far above the threshold a contradicted score must lie to stay FAKE)
RULES = [("shipped: Uncertain unless 2 x band above the threshold", 2 * DEFAULT_BAND),
         ("no contradiction rule", 0.0),
         ("every contradiction Uncertain", 1.0)]


def _scores(folder: str) -> dict[str, tuple[int, float]]:
    report = json.loads((EVAL / folder / "eval.json").read_text())
    return {x["file"]: (x["label"], x["fakelens_score"]) for x in report["items"]
            if x["fakelens_score"] is not None}


def _verdict(swap: float, synth: float, clearance: float, floor: float) -> tuple[str, bool]:
    """(verdict, contradicted) of one still under a rule: ``decide`` as shipped, a
    contradicted score FAKE only ``clearance`` above the threshold (and out of the band)."""
    d = decide([TrackVote(1, {SWAP: swap, SYNTH: synth})], 1, THRESHOLD, DEFAULT_BAND, floor)
    if not d.contradicted:
        return d.verdict.value, False
    fake = d.score >= THRESHOLD + max(clearance, DEFAULT_BAND)
    return "FAKE" if fake else "UNCERTAIN", True


def _share(k: int, n: int) -> str:
    lo, hi = proportion_ci(k, n)
    return f"{k} of {n} [{lo:.2f}, {hi:.2f}]"


def main() -> None:
    from fakelens.models.registry import get_detector

    floor = get_detector(SWAP).config.uncertain_from
    lines = ["# The contradiction rule on the public held-out stills", "",
             "Each still scored by both shipped detectors alone (`fakelens eval --model ...`, "
             "docs/eval/*-faceswap and *-synthetic), then the verdict rule replayed with "
             f"`verdict.decide` (threshold {THRESHOLD:.2f}, band {DEFAULT_BAND:.2f}, uncertain "
             f"from {floor}). Contradicted: the deciding score is at or above the threshold "
             "and the other detector's below the band. `python "
             "scripts/measure_contradiction.py` writes this file.", "",
             "| set | rule | real called FAKE [95% CI] | real Uncertain | fakes called FAKE "
             "| fakes caught (FAKE or Uncertain) | contradicted (real / fake) |",
             "|---|---|---|---|---|---|---|"]
    for set_name, stem in SETS.items():
        swap, synth = _scores(f"{stem}-faceswap"), _scores(f"{stem}-synthetic")
        both = sorted(set(swap) & set(synth))
        for rule, clearance in RULES:
            calls = [(swap[f][0], *_verdict(swap[f][1], synth[f][1], clearance, floor))
                     for f in both]
            reals = [v for label, v, _ in calls if label == 0]
            fakes = [v for label, v, _ in calls if label == 1]
            contra = [sum(c for label, _, c in calls if label == k) for k in (0, 1)]
            lines.append(
                f"| {set_name} | {rule} | {_share(reals.count('FAKE'), len(reals))} | "
                f"{reals.count('UNCERTAIN')} of {len(reals)} | "
                f"{fakes.count('FAKE')} of {len(fakes)} | "
                f"{_share(len(fakes) - fakes.count('REAL'), len(fakes))} | "
                f"{contra[0]} / {contra[1]} |")
    out = EVAL / "contradiction-stills.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
