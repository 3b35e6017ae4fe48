"""The verdict rule (one place) and its plain-language explanation."""

import pytest

from fakelens.analysis import verdict as vd
from fakelens.types import Verdict


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
