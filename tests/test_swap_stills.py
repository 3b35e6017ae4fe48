"""The swap tools' stills (benchmarks/swap_stills.py, docs/eval/swap-stills.md): each
generator's fake stills against the stills of their own originals, the test role apart,
and the report in step with the verdicts it was built from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scriptmodules import loaded_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    with loaded_script("benchmarks/swap_stills.py") as module:
        yield module


def still(file, label, method, group, role, verdict, score, synth=0.1):
    return {"set": "swap-generators", "file": file, "t": 0.5, "label": label,
            "method": method, "group": group, "role": role, "verdict": verdict,
            "score": score, "models": {"fakelens-faceswap": score,
                                       "fakelens-synthetic": synth}}


ROWS = [
    still("f1.mp4", 1, "roop", "a", "test", "UNCERTAIN", 0.3),
    still("r1.mp4", 0, "none", "a", "test", "FAKE", 0.9, synth=0.9),
    still("r2.mp4", 0, "none", "b", "test", "REAL", 0.05),
    still("f2.mp4", 1, "warp", "c", "test", "FAKE", 0.8),
    still("f3.mp4", 1, "roop", "d", "train", "REAL", 0.01),
    still("r3.mp4", 0, "none", "d", "train", "REAL", 0.02),
]


def test_a_fake_is_measured_against_its_own_original_and_the_roles_apart(bench):
    b = bench
    test = {x["method"]: x for x in b.generator_rows(ROWS, "swap-generators", "test")}
    assert [r["file"] for r in test["roop"]["reals"]] == ["r1.mp4"] and test["roop"]["own"]
    assert [r["file"] for r in test["roop"]["fakes"]] == ["f1.mp4"]
    # no original of its own: every real of the view stands in, and it says so
    assert not test["warp"]["own"] and len(test["warp"]["reals"]) == 2
    s = b.summary(test["roop"])
    assert (s["caught"], s["fake_called_fake"], s["real_called_fake"],
            s["real_fake_by_synthetic"]) == (1, 0, 1, 1)
    assert b.auc_interval(test["roop"])[0] == 0.0  # the original outscored its fake
    every = {x["method"]: x for x in b.generator_rows(ROWS, "swap-generators", "all")}
    assert {r["file"] for r in every["roop"]["reals"]} == {"r1.mp4", "r3.mp4"}
    assert b.summary(every["roop"])["fake_no_sign"] == 1


def test_the_report_is_the_table_of_its_verdicts(bench):
    b = bench
    doc = json.loads((ROOT / "docs" / "eval" / "swap-stills.json").read_text())
    md = (ROOT / "docs" / "eval" / "swap-stills.md").read_text()
    assert all(line in md for line in b.table(doc["stills"]))
    assert {r["set"] for r in doc["stills"]} == set(b.SETS)
    assert f"{doc['frames_per_clip']} evenly spaced frames" in md
