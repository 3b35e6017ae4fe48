"""The video shipping rule (scripts/video_rule.py) read off the shipped detectors' own
benchmark run (docs/eval/suite): a candidate identical to the shipped detector holds it,
and each kind of regression the rule guards against breaks the condition that names it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from scriptmodules import loaded_script

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SUITE = json.loads((ROOT / "docs" / "eval" / "suite" / "suite.json").read_text())


@pytest.fixture(scope="module")
def rule():
    with loaded_script("scripts/video_rule.py") as module:
        yield module


def shipped_as_candidate() -> dict:
    """The benchmark run with the shipped video detector as both candidate and baseline."""
    suite = copy.deepcopy(SHIPPED_SUITE)
    for block in suite["sets"].values():
        block["versions"]["current"] = copy.deepcopy(block["versions"]["previous"])
    return suite


def failing(conditions) -> list[str]:
    return [c.name for c in conditions if not c.holds]


def test_the_shipped_detector_holds_the_rule_against_itself(rule):
    suite = shipped_as_candidate()
    assert failing(rule.conditions(suite, suite)) == []


def test_one_more_real_video_called_fake_breaks_condition_3(rule):
    as_is, qp40 = shipped_as_candidate(), shipped_as_candidate()
    as_is["sets"]["talking-heads"]["versions"]["current"]["real_flagged_fake"] += 1
    assert failing(rule.conditions(as_is, qp40)) == ["3. real videos called FAKE, as they are"]


def test_a_lost_deepfacelive_pair_and_auc_break_condition_1(rule):
    as_is, qp40 = shipped_as_candidate(), shipped_as_candidate()
    live = qp40["sets"]["live-swap-heldout"]["versions"]["current"]
    live["auc"] -= 0.051
    as_is["sets"]["live-swap-heldout"]["versions"]["current"]["pairs_ranked"] -= 1
    assert failing(rule.conditions(as_is, qp40)) == [
        "1. DeepFaceLive held-out face models AUC, at QP 40",
        "1. DeepFaceLive pairs ranked fake above their original"]


def test_the_rome_grid_is_scored_from_its_items(rule):
    from record_metrics import GRID_METHODS  # on the path once video_rule is loaded

    as_is, qp40 = shipped_as_candidate(), shipped_as_candidate()
    auc, _ = rule.grid_auc(as_is, "current")
    assert 0 < auc < 1
    for item in as_is["sets"]["talking-heads"]["versions"]["current"]["items"]:
        if item["label"] == 1 and item["method"] in GRID_METHODS:
            item["score"] = 0.0
    assert rule.grid_auc(as_is, "current")[0] == 0.0
    assert failing(rule.conditions(as_is, qp40)) == ["2. ROME grid AUC"]


def test_half_the_fakes_and_the_uncertain_bound_are_condition_4(rule):
    as_is, qp40 = shipped_as_candidate(), shipped_as_candidate()
    swaps = as_is["sets"]["swap-generators"]["versions"]["current"]
    swaps["fake_caught"] = (swaps["n_fake"] - 1) // 2
    as_is["sets"]["dev-videos"]["versions"]["current"]["real_uncertain"] = (
        rule.MAX_REAL_UNCERTAIN + 1)
    assert failing(rule.conditions(as_is, qp40)) == [
        "4. half the fakes of every video set caught",
        f"4. real videos UNCERTAIN at most {rule.MAX_REAL_UNCERTAIN}"]


def test_the_band_is_written_into_the_candidate_card(rule, tmp_path):
    suite_path = tmp_path / "suite.json"
    suite_path.write_text(json.dumps(SHIPPED_SUITE))
    shipped_card = json.loads(
        (ROOT / "src" / "fakelens" / "weights" / "fakelens-faceswap-video.json").read_text())
    card_path = tmp_path / "card.json"
    card_path.write_text(json.dumps({**shipped_card, "uncertain_from": None}))
    edge = rule.write_band(suite_path, card_path, ROOT / "docs" / "eval" / "suite-qp40" /
                           "suite.json")
    card = json.loads(card_path.read_text())
    # the shipped edge was fitted the same way on the shipped detector's scores, as they are
    # and on the QP 40 mirror
    assert edge == card["uncertain_from"] == shipped_card["uncertain_from"]
    assert {k: v for k, v in card.items() if k != "uncertain_from"} == {
        k: v for k, v in shipped_card.items() if k != "uncertain_from"}


def test_the_band_keeps_half_the_unseen_fakes_on_the_qp40_mirror_too(rule, tmp_path):
    """Re-encoding lowers the unseen fakes' scores; an edge fitted on both passes keeps half
    of each set out of "no sign" in both, where one fitted as the data is would not."""
    qp40 = copy.deepcopy(SHIPPED_SUITE)
    for block in qp40["sets"].values():
        for item in block["versions"]["current"]["items"]:
            if item["label"] == 1 and item["score"] is not None:
                item["score"] /= 3
    paths = {}
    for name, suite in (("as-is", SHIPPED_SUITE), ("qp40", qp40)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(suite))
    card_path = tmp_path / "card.json"
    card_path.write_text(json.dumps({"uncertain_from": None}))
    as_is_only = rule.write_band(paths["as-is"], card_path)
    both = rule.write_band(paths["as-is"], card_path, paths["qp40"])
    assert both == json.loads(card_path.read_text())["uncertain_from"]
    assert both is not None and (as_is_only is None or both < as_is_only)
    grid = ("rome", "bilayer_neural_avatars", "first_order_model")
    for suite in (SHIPPED_SUITE, qp40):
        for name, methods in (("live-swap-heldout", None), ("talking-heads", grid)):
            fakes = [x["score"] for x in suite["sets"][name]["versions"]["current"]["items"]
                     if x["label"] == 1 and x["score"] is not None
                     and (methods is None or x["method"] in methods)]
            assert 2 * sum(score >= both for score in fakes) >= len(fakes), name


def test_the_command_exits_1_when_the_rule_fails(rule, tmp_path, capsys):
    good, bad = shipped_as_candidate(), shipped_as_candidate()
    bad["sets"]["dev-videos"]["versions"]["current"]["real_flagged_fake"] += 1
    paths = []
    for name, suite in (("good", good), ("bad", bad)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(suite))
    assert rule.main([str(paths[0]), str(paths[0])]) == 0
    assert "RULE HOLDS" in capsys.readouterr().out
    assert rule.main([str(paths[0]), str(paths[1])]) == 1
    assert "FAILS  3. real videos called FAKE, at QP 40" in capsys.readouterr().out
