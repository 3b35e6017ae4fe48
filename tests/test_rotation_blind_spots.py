"""The video card's blind spots from a leave-generators-out rotation (scripts/
record_metrics.py, run 34's rule): read off run 26's recorded rotation, a kind of fake is
listed (or its line extended) only when the mean of the folds' AUCs on it is under the line,
and a missing rotation leaves the measured talking-head line alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scriptmodules import loaded_script

ROOT = Path(__file__).resolve().parents[1]
R26 = ROOT / "docs" / "eval" / "rotation-r26" / "rotation.json"
SUITE = json.loads((ROOT / "docs" / "eval" / "suite" / "suite.json").read_text())


@pytest.fixture(scope="module")
def rm():
    with loaded_script("scripts/record_metrics.py") as module:
        yield module


def _flipped(tmp_path: Path) -> Path:
    """Run 26's rotation with every fold model's ranking turned round."""
    saved = json.loads(R26.read_text())
    for r in saved["clips"]:
        r["fold_score"] = 1.0 - r["fold_score"]
    out = tmp_path / "rotation.json"
    out.write_text(json.dumps(saved))
    return out


def test_kinds_split_every_unseen_fake_once_per_fold(rm):
    kinds = rm.rotation_by_kind(R26)
    clips = json.loads(R26.read_text())["clips"]
    unseen_fakes = sum(r["label"] for r in clips if r["cache"] != "live-swap-test")
    assert sum(n for _, _, n in kinds.values()) == unseen_fakes
    for mean, per_fold, _ in kinds.values():
        assert mean == pytest.approx(sum(per_fold) / len(per_fold))


def test_only_kinds_under_the_line_are_listed(rm, tmp_path):
    kinds = rm.rotation_by_kind(R26)
    # run 26's folds: face swaps just over the line, talking heads far under it
    assert kinds[rm.SWAPS][0] >= rm.ROTATION_LINE > kinds[rm.TALKING_HEADS][0]
    alone = rm.missed_on_video(SUITE)
    spots = rm.missed_on_video(SUITE, R26)
    assert rm.SWAPS not in spots
    assert spots[rm.TALKING_HEADS].startswith(alone[rm.TALKING_HEADS] + "; ")
    assert f"mean AUC {kinds[rm.TALKING_HEADS][0]:.2f}" in spots[rm.TALKING_HEADS]
    flipped = rm.missed_on_video(SUITE, _flipped(tmp_path))
    turned = rm.rotation_by_kind(_flipped(tmp_path))
    assert turned[rm.SWAPS][0] == pytest.approx(1 - kinds[rm.SWAPS][0])
    assert f"mean AUC {turned[rm.SWAPS][0]:.2f}" in flipped[rm.SWAPS]
    assert f"mean AUC {turned[rm.TALKING_HEADS][0]:.2f}" in flipped[rm.TALKING_HEADS]


def test_no_rotation_keeps_the_measured_line(rm, tmp_path):
    assert rm.missed_on_video(SUITE, tmp_path / "absent.json") == rm.missed_on_video(SUITE)
