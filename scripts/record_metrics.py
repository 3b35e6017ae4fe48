"""Copy the measured accuracy from docs/eval/*/eval.json into the shipped model configs
(the `metrics` field shown by `fakelens models list` and in reports).

    python scripts/record_metrics.py      # after scripts/evaluate_models.sh
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
WEIGHTS = ROOT / "src" / "fakelens" / "weights"

# (detector, eval folder, result block, label in the card)
ENTRIES = [
    ("fakelens-faceswap", "dev-videos-heldout", "video_mean_of_frames",
     "video AUC, 10 held-out dev clips (FF++ c23 + real)"),
    ("fakelens-faceswap", "dfdc-validation-faceswap", "video_mean_of_frames",
     "AUC, DFDC face crops (validation)"),
    ("fakelens-synthetic", "gan-heldout-synthetic", "video_mean_of_frames",
     "AUC, held-out StyleGAN2 vs real stills"),
]


def main() -> None:
    cards: dict[str, dict[str, str]] = {}
    for name, folder, block, label in ENTRIES:
        report = json.loads((EVAL / folder / "eval.json").read_text())
        b = report[block]
        lo, hi = b["auc_ci95"]
        cards.setdefault(name, {})[label] = f"{b['auc']:.3f} [{lo:.3f}, {hi:.3f}] (n={b['n']})"
    for name, metrics in cards.items():
        path = WEIGHTS / f"{name}.json"
        config = json.loads(path.read_text())
        config["metrics"] = metrics
        path.write_text(json.dumps(config, indent=1) + "\n")
        print(name, metrics)


if __name__ == "__main__":
    main()
