"""Metrics against values computed by hand."""

import math

import numpy as np
import pytest

from fakelens.training import metrics


def test_auc_hand_computed():
    # pairs (pos, neg): (0.8>0.3) (0.8>0.5) (0.4>0.3) (0.4<0.5) -> 3 of 4
    assert metrics.roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.3, 0.5]) == pytest.approx(0.75)


def test_auc_ties_count_half():
    assert metrics.roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert metrics.roc_auc([1, 1, 0], [0.9, 0.5, 0.5]) == pytest.approx(0.75)


def test_auc_perfect_inverted_and_one_class():
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert math.isnan(metrics.roc_auc([1, 1], [0.2, 0.3]))


def test_eer_hand_computed():
    # scores separate perfectly except one real at 0.9: FPR 1/2 at every TPR=1 threshold
    y = [1, 1, 0, 0]
    s = [0.8, 0.7, 0.9, 0.1]
    # threshold 0.7: TPR 1, FPR 0.5 -> FNR 0; threshold 0.9: TPR 0, FPR .5 -> FNR 1
    # threshold 0.8: TPR .5 FPR .5 -> FNR .5 == FPR .5 -> EER .5
    assert metrics.eer(y, s) == pytest.approx(0.5)
    assert metrics.eer([1, 0], [0.9, 0.1]) == pytest.approx(0.0)


def test_average_precision_hand_computed():
    # ranking: 1 (0.9), 0 (0.8), 1 (0.7) -> precisions at hits 1/1 and 2/3 -> (1 + 2/3)/2
    assert metrics.average_precision([1, 0, 1], [0.9, 0.8, 0.7]) == pytest.approx(5 / 6)


def test_log_loss_and_accuracy():
    assert metrics.log_loss([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert metrics.log_loss([1], [0.9]) == pytest.approx(-math.log(0.9))
    assert metrics.accuracy([1, 0, 1, 0], [0.6, 0.4, 0.3, 0.7], 0.5) == 0.5


def test_bootstrap_ci_contains_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(40), np.zeros(40)]
    s = np.r_[rng.normal(1, 1, 40), rng.normal(0, 1, 40)]
    lo, hi = metrics.bootstrap_ci(metrics.roc_auc, y, s, n=300, seed=3)
    assert lo < metrics.roc_auc(y, s) < hi
    assert (lo, hi) == metrics.bootstrap_ci(metrics.roc_auc, y, s, n=300, seed=3)
    assert 0.5 < lo and hi <= 1.0


def test_paired_difference_is_narrower_than_separate_intervals():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(30), np.zeros(30)]
    base = np.r_[rng.normal(0.8, 1, 30), rng.normal(0, 1, 30)]
    better = base + y * 0.5 + rng.normal(0, 0.1, 60)  # the same media, fakes pushed up
    d, lo, hi = metrics.paired_bootstrap_difference(metrics.roc_auc, y, better, base,
                                                    n=400, seed=1)
    assert d == pytest.approx(metrics.roc_auc(y, better) - metrics.roc_auc(y, base))
    assert 0 < lo < d < hi  # a consistent gain on every medium is beyond the noise
    separate = [metrics.bootstrap_ci(metrics.roc_auc, y, x, n=400, seed=1)
                for x in (better, base)]
    assert separate[0][0] < separate[1][1]  # while the two intervals overlap
    assert metrics.paired_bootstrap_difference(metrics.roc_auc, y, base, base, n=50) == \
        (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        metrics.paired_bootstrap_difference(metrics.roc_auc, y, base, base[:10])


def test_fit_temperature_recovers_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-true_logits))).astype(int)
    t = metrics.fit_temperature(y, true_logits * 3.0)  # over-confident by a factor 3
    assert t == pytest.approx(3.0, rel=0.15)


def test_fit_temperature_keeps_scale_on_separable_data():
    assert metrics.fit_temperature([0, 0, 1, 1], [-3.0, -1.0, 2.0, 5.0]) == 1.0


def test_paired_difference_resamples_whole_groups():
    rng = np.random.default_rng(3)
    y = np.r_[np.ones(20), np.zeros(20)]
    base = np.r_[rng.normal(0.8, 1, 20), rng.normal(0, 1, 20)]
    better = base + y * 0.5 + rng.normal(0, 0.1, 40)
    # every item twice (a clip as it is and re-encoded), one group per clip
    twice = [np.r_[x, x + rng.normal(0, 0.05, 40)] for x in (better, base)]
    yy, clips = np.r_[y, y], np.r_[np.arange(40), np.arange(40)]
    d, lo, hi = metrics.paired_bootstrap_difference(metrics.roc_auc, yy, *twice, n=400,
                                                    seed=1, groups=clips)
    assert d == pytest.approx(metrics.roc_auc(yy, twice[0]) - metrics.roc_auc(yy, twice[1]))
    _, lo_items, hi_items = metrics.paired_bootstrap_difference(metrics.roc_auc, yy, *twice,
                                                                n=400, seed=1)
    # counting the two copies as independent evidence narrows the interval wrongly
    assert hi - lo > 1.2 * (hi_items - lo_items)
    # one item per group is the same as no groups
    assert metrics.paired_bootstrap_difference(metrics.roc_auc, y, better, base, n=100,
                                               groups=np.arange(40)) == \
        metrics.paired_bootstrap_difference(metrics.roc_auc, y, better, base, n=100)
    with pytest.raises(ValueError, match="mixes"):
        metrics.paired_bootstrap_difference(metrics.roc_auc, y, better, base,
                                            groups=np.zeros(40))
    with pytest.raises(ValueError, match="length"):
        metrics.paired_bootstrap_difference(metrics.roc_auc, y, better, base,
                                            groups=np.zeros(3))


def test_wilson_interval_is_honest_at_the_edges():
    from fakelens.training.metrics import proportion_ci

    lo, hi = proportion_ci(0, 12)
    assert lo == 0.0 and 0.2 < hi < 0.3  # none of 12 caught: up to about a quarter
    lo, hi = proportion_ci(6, 12)
    assert lo < 0.5 < hi and abs((lo + hi) / 2 - 0.5) < 1e-9
    with pytest.raises(ValueError):
        proportion_ci(0, 0)
