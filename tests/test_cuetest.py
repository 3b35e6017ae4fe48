"""The rule that judges a talking-head cue (fakelens.training.cuetest, cue tests 36 and 39):
chosen on the talking-heads training and validation groups only, judged once on the test
groups, against an edge set by every real clip."""

from __future__ import annotations

import numpy as np
import pytest

from fakelens.training.cuetest import judge_cues, talking_head_split
from fakelens.training.splits import TALKING_HEADS_TRAIN

KNOWN_GROUP = sorted(TALKING_HEADS_TRAIN)[0]


def _rows(rng, separation: dict[str, float], n: int = 20) -> list[dict]:
    """Real and fake clips of the choosing groups, the test groups and another set; each
    candidate's fakes lie ``separation[cue]`` above the reals on the test groups and on the
    choosing groups alike unless the cue's name says otherwise."""
    rows = []
    for where, cache, group in (("choose", "talking-heads", KNOWN_GROUP),
                                ("test", "talking-heads", "g_unseen"),
                                ("test", "generated-videos", "g_gen"),
                                ("other", "videos-real", "g_other")):
        for label in (0, 1):
            if where == "other" and label:
                continue
            for _ in range(n):
                row = {"cache": cache, "group": group, "label": label, "method":
                       "edtalk" if label else "real"}
                for cue, gap in separation.items():
                    shift = gap * label
                    if cue.startswith("only-choose") and where == "test":
                        shift = 0.0
                    row[cue] = float(rng.normal() + shift)
                rows.append(row)
    return rows


def test_a_cue_that_separates_everywhere_earns_its_place():
    verdict = judge_cues(_rows(np.random.default_rng(0), {"strong": 4.0, "none": 0.0}),
                         ("none", "strong"))
    assert verdict.chosen == "strong"
    assert verdict.earns_place
    assert verdict.auc > 0.95 and verdict.caught >= verdict.fakes // 2


def test_the_choice_is_made_on_the_choosing_groups_and_judged_on_the_test_groups():
    rows = _rows(np.random.default_rng(1), {"only-choose": 4.0, "everywhere": 1.0})
    verdict = judge_cues(rows, ("everywhere", "only-choose"))
    assert verdict.chosen == "only-choose"  # best where it was chosen ...
    assert not verdict.earns_place  # ... and nothing where it is judged
    assert verdict.auc < 0.7


def test_the_edge_counts_every_real_clip():
    rows = _rows(np.random.default_rng(2), {"strong": 4.0})
    loud = [dict(r, strong=r["strong"] + 10.0) for r in rows if r["cache"] == "videos-real"]
    quiet = [r for r in rows if r["cache"] != "videos-real"]
    assert judge_cues(quiet, ("strong",)).earns_place
    # Real clips of a set never judged on that score far above every fake raise the edge.
    assert judge_cues(quiet + loud, ("strong",)).caught == 0


def test_other_kinds_of_fake_are_left_out():
    rows = _rows(np.random.default_rng(3), {"strong": 4.0})
    swaps = [dict(r, method="FaceSwap", strong=-5.0) for r in rows if r["label"]]
    selection, test = talking_head_split(rows + swaps)
    assert all(r["method"] in ("edtalk", "real") for r in selection + test)
    assert judge_cues(rows + swaps, ("strong",)).auc == pytest.approx(
        judge_cues(rows, ("strong",)).auc)
