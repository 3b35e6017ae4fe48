"""Copy the measured accuracy from docs/eval (the quality benchmark's suite.json and the
per-set eval.json reports) into the shipped model configs
(the `metrics` field shown by `fakelens models list` and in reports), the kinds of
deepfakes the face-swap detector mostly misses (`missed`, shown beside verdicts) and the
uncertain band's calibrated lower edge (`uncertain_from`).

    python scripts/record_metrics.py      # after scripts/evaluate_models.sh
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
WEIGHTS = ROOT / "src" / "fakelens" / "weights"

# (detector, eval folder, result block, label in the card) from the per-set reports
ENTRIES = [
    ("fakelens-synthetic", "gan-heldout-synthetic", "video_mean_of_frames",
     "AUC, held-out StyleGAN2 vs real stills"),
]
# (detector, benchmark set, label in the card) from the quality benchmark (suite.json)
SUITE_ENTRIES = [
    ("fakelens-faceswap", "live-swap-heldout",
     "video AUC, live face swaps of 5 held-out face models vs their originals"),
    ("fakelens-faceswap", "dev-videos", "video AUC, 10 held-out dev clips (FF++ c23 + real)"),
    ("fakelens-faceswap", "dfdc-crops", "AUC, DFDC face crops (validation, both detectors)"),
]


def _interval(auc: float, ci: list[float], n: int) -> str:
    return f"{auc:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] (n={n})"


def main() -> None:
    cards: dict[str, dict[str, str]] = {}
    for name, folder, block, label in ENTRIES:
        report = json.loads((EVAL / folder / "eval.json").read_text())
        b = report[block]
        cards.setdefault(name, {})[label] = _interval(b["auc"], b["auc_ci95"], b["n"])
    suite = json.loads((EVAL / "suite" / "suite.json").read_text())
    reals_flagged = reals = 0
    for name, set_name, label in SUITE_ENTRIES:
        b = suite["sets"][set_name]["versions"]["current"]
        cards.setdefault(name, {})[label] = _interval(b["auc"], b["auc_ci95"], b["n_scored"])
    for set_name in ("dev-videos", "live-swap-heldout", "generated-videos"):
        b = suite["sets"][set_name]["versions"]["current"]
        reals_flagged += b["real_flagged_fake"]
        reals += b["n_real"]
    cards["fakelens-faceswap"]["real clips called FAKE (held-out videos)"] = \
        f"{reals_flagged} of {reals}"
    extra = {"fakelens-faceswap": {"missed": _missed(suite), "uncertain_from":
                                   _uncertain_from(suite)}}
    for name, metrics in cards.items():
        path = WEIGHTS / f"{name}.json"
        config = json.loads(path.read_text())
        config["metrics"] = metrics
        config.update(extra.get(name, {}))
        path.write_text(json.dumps(config, indent=1) + "\n")
        print(name, metrics, extra.get(name, {}))


# (benchmark set, the kind of deepfake in words) that the face-swap detector mostly misses
MISSED_SETS = [
    ("talking-heads", "Talking heads, lip-sync and face reenactment (the person's own face "
                      "made to say or do something else)"),
    ("swap-generators", "Face swaps of today's open swap tools (inswapper_128 behind roop, "
                        "FaceFusion and Deep-Live-Cam; faceswap-GAN)"),
]


def _missed(suite: dict) -> dict[str, str]:
    """Measured before any widening of the uncertain band: AUC and fakes called FAKE."""
    out = {}
    for set_name, words in MISSED_SETS:
        b = suite["sets"][set_name]["versions"]["current"]
        out[words] = (f"on {b['n_fake']} public examples AUC {b['auc']:.2f} "
                      f"[{b['auc_ci95'][0]:.2f}, {b['auc_ci95'][1]:.2f}], "
                      f"{b['fake_called_fake']} called Likely manipulated")
    return out


def _uncertain_from(suite: dict) -> float | None:
    """The uncertain band's lower edge that keeps half the fakes of every held-out set
    out of "no sign" (scores, not verdicts: the edge does not move them)."""
    from fakelens.training.calibrate import uncertain_edge

    fakes = {name: [x["score"] for x in s["versions"]["current"]["items"]
                    if x["label"] == 1 and x["score"] is not None]
             for name, s in suite["sets"].items()}
    return uncertain_edge(fakes)


if __name__ == "__main__":
    main()
