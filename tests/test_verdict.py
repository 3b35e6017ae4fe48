"""The verdict rule (one place) and its plain-language explanation."""

import pytest

from fakelens.analysis import verdict as vd
from fakelens.types import ScoreBand, Verdict


def ev(length, **scores):
    return vd.TrackVote(length, scores)


def test_no_tracks_is_no_face():
    d = vd.decide([], 32, 0.5)
    assert d.verdict is Verdict.NO_FACE and d.score is None


@pytest.mark.parametrize("score, expected", [(0.9, Verdict.FAKE), (0.1, Verdict.REAL),
                                             (0.55, Verdict.UNCERTAIN),
                                             (0.45, Verdict.UNCERTAIN)])
def test_threshold_and_band(score, expected):
    assert vd.decide([ev(32, a=score)], 32, 0.5, 0.1).verdict is expected


def test_most_suspicious_decisive_track_decides():
    tracks = [ev(30, a=0.2), ev(28, a=0.8), ev(2, a=0.99)]  # the 2-frame track is too short
    d = vd.decide(tracks, 32, 0.5)
    assert d.deciding_track == 1 and d.score == 0.8 and d.verdict is Verdict.FAKE


def test_short_tracks_decide_only_when_nothing_else():
    d = vd.decide([ev(2, a=0.9), ev(3, a=0.1)], 32, 0.5)
    assert d.deciding_track == 1  # the longest one


def test_most_suspicious_detector_decides_but_contradiction_is_uncertain():
    near = vd.decide([ev(1, swap=0.1, gan=0.65)], 1, 0.5, 0.1)
    assert near.contradicted and near.verdict is Verdict.UNCERTAIN
    clear = vd.decide([ev(1, swap=0.1, gan=0.95)], 1, 0.5, 0.1)
    assert clear.verdict is Verdict.FAKE and clear.score == 0.95


def test_the_reason_names_the_contradicting_detector():
    near = vd.decide([ev(1, swap=0.1, gan=0.65)], 1, 0.5, 0.1)
    assert near.contradicted_by == ("swap",)
    reason = vd.explain(near, [[(0.0, 0.65)]], [0.65], 0.5, is_video=False)
    assert "contradicted by swap" in reason and "another detector" not in reason
    close = vd.decide([ev(1, swap=0.52)], 1, 0.5, 0.1)
    assert close.contradicted_by == ()
    assert "too close to the threshold" in vd.explain(close, [[(0.0, 0.52)]], [0.52], 0.5,
                                                      is_video=False)


def test_robust_mean_ignores_outlier_frames():
    assert vd.robust_mean([0.1] * 9 + [1.0]) == pytest.approx(0.1)
    assert vd.robust_mean([0.2, 0.4]) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        vd.robust_mean([])


def test_combine_track():
    assert vd.combine_track(0.2, None) == 0.2
    assert vd.combine_track(0.2, 0.6) == pytest.approx(0.4)


def test_explanation_is_derived_from_numbers():
    d = vd.decide([ev(3, a=0.9), ev(3, a=0.1)], 3, 0.5)
    frames = [[(4.0, 0.9), (10.0, 0.95), (17.2, 0.3)], [(4.0, 0.1), (10.0, 0.1), (17.2, 0.1)]]
    text = vd.explain(d, frames, [0.9, 0.1], 0.5, is_video=True)
    assert "2 faces found, 1 scored at or above the threshold 0.50" in text
    assert "face 1 scored 0.90" in text
    assert "2 of its 3 frames" in text and "between 0:04 and 0:10" in text
    assert "No face" in vd.explain(vd.decide([], 3, 0.5), [], [], 0.5, True)


@pytest.mark.parametrize("score, expected", [(0.05, Verdict.REAL), (0.12, Verdict.UNCERTAIN),
                                             (0.39, Verdict.UNCERTAIN),
                                             (0.55, Verdict.UNCERTAIN), (0.61, Verdict.FAKE)])
def test_a_calibrated_floor_widens_the_band_below_the_threshold_only(score, expected):
    d = vd.decide([ev(32, a=score)], 32, 0.5, 0.1, uncertain_from=0.12)
    assert d.verdict is expected
    assert d.widened == (expected is Verdict.UNCERTAIN and score < 0.4)
    band = ScoreBand.around(0.5, 0.1, 0.12)
    assert (band.low, band.high) == (0.12, 0.6)
    assert ScoreBand.around(0.5, 0.1, 0.45).low == 0.4  # a floor never narrows the band


def test_a_low_score_in_the_widened_band_is_explained_as_such():
    d = vd.decide([ev(32, a=0.2)], 32, 0.5, 0.1, uncertain_from=0.1)
    text = vd.explain(d, [[(0.0, 0.2)] * 32], [0.2], 0.5, True)
    assert "lower part of the uncertain band" in text
    low = vd.decide([ev(32, a=0.05)], 32, 0.5, 0.1, uncertain_from=0.1)
    text = vd.explain(low, [[(0.0, 0.05)] * 32], [0.05], 0.5, True)
    assert "found by these detectors" in text and "not a proof" in text


def test_the_uncertain_edge_keeps_half_the_fakes_of_every_set_out_of_no_sign():
    pytest.importorskip("torch")
    from fakelens.training.calibrate import uncertain_edge

    sets = {"easy": [0.9, 0.8, 0.7, 0.2], "hard": [0.31, 0.08, 0.2, 0.05, 0.11]}
    edge = uncertain_edge(sets)
    assert edge == 0.11  # the hard set's 3rd highest of 5, rounded down
    for scores in sets.values():
        assert sum(s >= edge for s in scores) >= len(scores) / 2
    assert uncertain_edge({"easy": [0.9, 0.8, 0.45]}) is None  # the band already does it
    assert uncertain_edge({"none": []}) is None
