"""The rotation's comparison with an earlier rotation (scripts/score_rotation.py
``--against``), read off run 26's recorded rotation: the same fold scores give no
difference, and a fold model that ranks the other way round gives the mirrored AUC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scriptmodules import loaded_script

from fakelens.training.splits import FACE_SWAP_METHODS as FACE_SWAPS

ROOT = Path(__file__).resolve().parents[1]
R26 = ROOT / "docs" / "eval" / "rotation-r26" / "rotation.json"
FOLDS = ["r34_fold_1", "r34_fold_2", "r34_fold_3"]


@pytest.fixture(scope="module")
def rotation():
    with loaded_script("scripts/score_rotation.py") as module:
        yield module


def _rows_as(saved: dict, score) -> list[dict]:
    """Run 26's clips renamed to this rotation's folds, with ``score`` of the old score."""
    names = dict(zip(saved["report"]["folds"], FOLDS, strict=True))
    return [{**r, "fold": names[r["fold"]], "fold_score": score(r["fold_score"])}
            for r in saved["clips"]]


def test_the_same_scores_make_no_difference(rotation):
    saved = json.loads(R26.read_text())
    out = rotation.against_earlier(_rows_as(saved, lambda x: x), R26, FOLDS)
    for fold, old in zip(FOLDS, saved["report"]["folds"], strict=True):
        block = out["folds"][fold]
        assert block["earlier_fold"] == old
        assert block["auc"] == block["earlier_auc"]
        assert block["auc"] == pytest.approx(
            saved["report"]["folds"][old]["unseen_generators"]["fold_auc"])
        assert block["difference"] == [0.0, 0.0, 0.0]
    assert out["mean_difference"] == [0.0, 0.0, 0.0]


def test_reversed_ranking_mirrors_the_auc(rotation):
    saved = json.loads(R26.read_text())
    out = rotation.against_earlier(_rows_as(saved, lambda x: 1.0 - x), R26, FOLDS)
    differences = []
    for fold in FOLDS:
        block = out["folds"][fold]
        assert block["auc"] == pytest.approx(1.0 - block["earlier_auc"])
        differences.append(block["auc"] - block["earlier_auc"])
    # run 26's folds ranked below chance, so the mirrored ones rank above them
    assert out["mean_difference"][0] == pytest.approx(np.mean(differences))
    assert out["mean_difference"][1] > 0


def test_other_clips_or_fold_counts_are_refused(rotation):
    saved = json.loads(R26.read_text())
    rows = _rows_as(saved, lambda x: x)
    dropped = next(i for i, r in enumerate(rows) if r["cache"] != rotation.SEEN)
    with pytest.raises(SystemExit, match="same clips"):
        rotation.against_earlier(rows[:dropped] + rows[dropped + 1:], R26, FOLDS)
    with pytest.raises(SystemExit, match="folds"):
        rotation.against_earlier(rows, R26, FOLDS[:2])


def test_kinds_are_compared_on_their_own_fakes(rotation):
    saved = json.loads(R26.read_text())
    same = rotation.against_earlier(_rows_as(saved, lambda x: x), R26, FOLDS)["by_kind"]
    assert set(same) == {"face swaps", "talking heads"}
    for kind in same.values():
        assert kind["mean_auc"] == kind["earlier_mean_auc"]
        assert kind["mean_difference"] == [0.0, 0.0, 0.0]
    # talking heads scored the other way round, face swaps untouched
    rows = _rows_as(saved, lambda x: x)
    for r in rows:
        if r["label"] and r["method"] not in FACE_SWAPS:
            r["fold_score"] = -r["fold_score"]
    turned = rotation.against_earlier(rows, R26, FOLDS)["by_kind"]
    assert turned["face swaps"]["mean_difference"] == [0.0, 0.0, 0.0]
    heads = turned["talking heads"]
    fakes = sum(r["label"] for r in saved["clips"] if r["cache"] != rotation.SEEN
                and r["method"] not in FACE_SWAPS)
    assert sum(f["fakes"] for f in heads["folds"].values()) == fakes
    # run 26's folds ranked the unseen talking heads above only some of their real clips;
    # below every real clip now, the AUC falls in every fold
    for fold in heads["folds"].values():
        assert fold["auc"] < fold["earlier_auc"]
    assert heads["mean_difference"][2] < 0


def test_a_fold_without_fakes_of_a_kind_is_left_out_of_that_kind(rotation, tmp_path):
    def clip(fold, shard, label, method, score):
        return {"fold": fold, "cache": "talking-heads", "shard": str(shard), "group": "g",
                "label": label, "method": method, "fold_score": score}
    earlier = [clip("old_a", 0, 0, "real", 0.2), clip("old_a", 1, 1, "FaceSwap", 0.6),
               clip("old_a", 2, 1, "pd_fgc", 0.1), clip("old_b", 0, 0, "real", 0.3),
               clip("old_b", 1, 1, "rome", 0.4)]
    path = tmp_path / "rotation.json"
    path.write_text(json.dumps({"report": {"folds": {"old_a": {}, "old_b": {}}},
                                "clips": earlier}))
    rows = [{**r, "fold": {"old_a": "new_a", "old_b": "new_b"}[r["fold"]],
             "fold_score": 1.0 - r["fold_score"] if r["label"] else r["fold_score"]}
            for r in earlier]
    kinds = rotation.against_earlier(rows, path, ["new_a", "new_b"])["by_kind"]
    assert list(kinds["face swaps"]["folds"]) == ["new_a"]
    assert list(kinds["talking heads"]["folds"]) == ["new_a", "new_b"]
    assert kinds["talking heads"]["folds"]["new_a"] == {"fakes": 1, "auc": 1.0,
                                                        "earlier_auc": 0.0}
    assert kinds["talking heads"]["earlier_mean_auc"] == pytest.approx(0.5)


class _MeanDetector:
    """Scores a frame by its mean pixel, so a score says which crops were read."""

    def score_frames(self, crops):
        from types import SimpleNamespace
        return SimpleNamespace(probs=np.asarray([c.mean() / 255 for c in crops]))


def _clip(shard: str, value: int, frames: int = 3):
    from fakelens.training.tracks import CachedClip
    return CachedClip("talking-heads", shard, "g", 0, "real",
                      np.full((frames, 8, 8, 3), value, np.uint8))


def test_v2_reads_its_own_crops_of_the_same_frames(rotation, monkeypatch):
    monkeypatch.setattr(rotation, "load_detector", lambda name: _MeanDetector())
    wide = [_clip("0", 51), _clip("1", 102)]
    own = [_clip("1", 204), _clip("0", 153)]
    score = rotation.shipped_scorer(wide, own)
    assert [round(score(c), 3) for c in wide] == [0.6, 0.8]  # the 1.0x crops, by shard
    assert round(rotation.shipped_scorer(wide, None)(wide[0]), 3) == 0.2  # one cache
    with pytest.raises(SystemExit, match="same clips"):
        rotation.shipped_scorer(wide, own[:1])
    with pytest.raises(SystemExit, match="3 crops, 2"):
        rotation.shipped_scorer(wide[:1], [_clip("0", 153, frames=2)])(wide[0])
