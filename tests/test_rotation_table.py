"""docs/MODELS.md's leave-generators-out table is transcribed from the rotations' saved
reports: every row must give the folds' AUCs on their unseen generators (fold model vs v2)
and the mean difference with its interval that docs/eval/rotation-rNN/rotation.json holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| run (\d+)[^|]*\|(.*)\|\s*$")


def _rows() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "MODELS.md").read_text()
    table = text[text.index("| rotation | fold 1 |"):].split("\n\n")[0]
    return {m.group(1): [c.strip() for c in m.group(2).split("|")]
            for line in table.splitlines() if (m := ROW.match(line))}


def test_every_rotation_row_matches_its_report():
    rows = _rows()
    assert {"26", "41", "44"} <= set(rows)
    for run, cells in rows.items():
        report = json.loads((ROOT / "docs" / "eval" / f"rotation-r{run}" / "rotation.json")
                            .read_text())["report"]
        folds = [f["unseen_generators"] for f in report["folds"].values()]
        expected = [f"{f['fold_auc']:.3f} vs {f['v2_auc']:.3f}" for f in folds]
        assert [c for c in cells[:-1] if c] == expected, run
        point, lo, hi = report["mean_difference_unseen"]
        assert cells[-1].strip("*") == f"{point:+.3f} [{lo:+.3f}, {hi:+.3f}]", run
