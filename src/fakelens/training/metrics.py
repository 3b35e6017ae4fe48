"""Detection metrics as pure functions of (labels, scores); 1 = fake is the positive class."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fakelens.errors import CalibrationError


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError("labels and scores differ in length")
    return y, s


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (Mann-Whitney U; ties count one half). NaN if one class."""
    y, s = _check(labels, scores)
    pos, neg = s[y == 1], s[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    rank_sum = ranks[y == 1].sum()
    return float((rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, thresholds), thresholds descending."""
    y, s = _check(labels, scores)
    thresholds = np.unique(s)[::-1]
    p, n = max(int((y == 1).sum()), 1), max(int((y == 0).sum()), 1)
    tpr = np.array([0.0] + [((s >= t) & (y == 1)).sum() / p for t in thresholds])
    fpr = np.array([0.0] + [((s >= t) & (y == 0)).sum() / n for t in thresholds])
    return fpr, tpr, np.concatenate([[np.inf], thresholds])


def eer(labels, scores) -> float:
    """Equal error rate: where the false positive and false negative rates meet."""
    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def average_precision(labels, scores) -> float:
    y, s = _check(labels, scores)
    if (y == 1).sum() == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    y_sorted = y[order]
    hits = np.cumsum(y_sorted)
    precision = hits / np.arange(1, len(y) + 1)
    return float((precision * y_sorted).sum() / y_sorted.sum())


def log_loss(labels, probs, eps: float = 1e-7) -> float:
    y, p = _check(labels, probs)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def accuracy(labels, probs, threshold: float) -> float:
    y, p = _check(labels, probs)
    return float(np.mean((p >= threshold).astype(int) == y))


def proportion_ci(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of k successes in n (95% by default): honest at 0 of n."""
    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def bootstrap_ci(metric: Callable, labels, scores, *, n: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval, resampling items with replacement (stratified so
    every resample keeps both classes)."""
    y, s = _check(labels, scores)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values = []
    for _ in range(n):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]) \
            if len(pos) and len(neg) else rng.integers(0, len(y), len(y))
        v = metric(y[idx], s[idx])
        if not np.isnan(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))


def paired_bootstrap_difference(metric: Callable, labels, scores_a, scores_b, *,
                                n: int = 1000, seed: int = 0, level: float = 0.95,
                                groups=None) -> tuple[float, float, float]:
    """``metric(a) - metric(b)`` on the same items, with a percentile interval from
    resampling the items (stratified), the same resample for both: two detectors' errors
    on one set are correlated, so this interval is narrower than two separate ones.

    With ``groups``, whole groups are resampled (a clip scored as it is and re-encoded is
    one group): items of one group are not independent, and counting them as such would
    make the interval too narrow. A group's items must share a label."""
    y, a = _check(labels, scores_a)
    _, b = _check(labels, scores_b)
    keys = np.arange(len(y)) if groups is None else np.asarray(groups)
    if keys.shape != y.shape:
        raise ValueError("groups and labels differ in length")
    members: dict = {}
    for i, k in enumerate(keys.tolist()):
        members.setdefault(k, []).append(i)
    clusters = [np.array(m) for m in members.values()]
    if any(len(set(y[m].tolist())) > 1 for m in clusters):
        raise ValueError("a group mixes fake and real items")
    rng = np.random.default_rng(seed)
    pos = [m for m in clusters if y[m[0]] == 1]
    neg = [m for m in clusters if y[m[0]] == 0]
    if not pos or not neg:
        return float("nan"), float("nan"), float("nan")
    values = []
    for _ in range(n):
        idx = np.concatenate([pos[j] for j in rng.integers(len(pos), size=len(pos))]
                             + [neg[j] for j in rng.integers(len(neg), size=len(neg))])
        values.append(metric(y[idx], a[idx]) - metric(y[idx], b[idx]))
    alpha = (1 - level) / 2
    return (float(metric(y, a) - metric(y, b)), float(np.quantile(values, alpha)),
            float(np.quantile(values, 1 - alpha)))


def fit_temperature(labels, logits) -> float:
    """Temperature T minimising the log loss of sigmoid(logit / T) (grid + refinement).

    Perfectly separated data push T towards 0 (ever sharper, certainty on anything new):
    there is nothing to calibrate on then, and the model's own scale (T = 1) is kept.
    """
    y, z = _check(labels, logits)
    if len(np.unique(y)) == 2 and z[y == 1].min() > z[y == 0].max():
        return 1.0

    def nll(t: float) -> float:
        return log_loss(y, 1 / (1 + np.exp(-z / t)))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 200))
    best = min(grid, key=nll)
    lo, hi = best / 1.1, best * 1.1
    for _ in range(40):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        lo, hi = (lo, m2) if nll(m1) < nll(m2) else (m1, hi)
    return float((lo + hi) / 2)


def fit_platt(labels, logits, *, balanced: bool = True) -> tuple[float, float]:
    """(offset b, temperature T) minimising the log loss of sigmoid((logit - b) / T),
    each class weighted equally when ``balanced`` (a calibration set is rarely drawn with
    the prior of the media people check). Grid search, then coordinate refinement."""
    y, z = _check(labels, logits)
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs both classes")
    auc = roc_auc(y, z)
    if auc < 0.5:
        # a below-chance ranking drives T to the end of the grid: every score one constant
        raise CalibrationError(
            f"the detector ranks its calibration set below chance (AUC {auc:.3f} on "
            f"{len(y)} scores): a fit would give every medium about the same score; "
            "not calibrated (choose another checkpoint or calibration set)")
    w = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / (y == 0).sum()) if balanced else \
        np.full(len(y), 1.0 / len(y))

    def nll(b: float, t: float) -> float:
        p = np.clip(1 / (1 + np.exp(-(z - b) / t)), 1e-7, 1 - 1e-7)
        return float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum())

    ts = np.exp(np.linspace(np.log(0.2), np.log(20), 60))
    bs = np.linspace(z.min(), z.max(), 81)
    _, b, t = min((nll(b, t), b, t) for b in bs for t in ts)
    step_b, step_t = (bs[1] - bs[0]), 1.1
    for _ in range(60):
        cands = [(b + step_b, t), (b - step_b, t), (b, t * step_t), (b, t / step_t)]
        best = min(cands, key=lambda c: nll(*c))
        if nll(*best) < nll(b, t):
            b, t = best
        else:
            step_b, step_t = step_b / 2, 1 + (step_t - 1) / 2
    return float(b), float(t)
