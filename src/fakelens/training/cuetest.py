"""The rule that judges a clip-level cue for talking heads (issue 29; cue tests 36 and 39 of
docs/training-log.md), shared by the benchmarks that compute cues.

A row is one labelled clip of the clip caches: ``cache``, ``group``, ``label``, ``method``
and one score per candidate cue, each signed so that higher is more suspicious. The
candidate with the highest AUC on the talking-heads set's training and validation groups is
chosen, then judged once on its test groups with generated-videos against those sets' real
clips. It earns a place when its test AUC is at least ``MIN_AUC`` with the 95% interval's
lower end above one half, and at the edge that flags 1 in 12 of every real clip of every
cached set it flags at least ``MIN_CAUGHT_SHARE`` of the test fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fakelens.training import metrics
from fakelens.training.splits import (
    TALKING_HEAD,
    TALKING_HEADS_TRAIN,
    TALKING_HEADS_VAL,
    fake_kind,
)

REAL_FLAG_RATE = 1 / 12
MIN_AUC = 0.70
MIN_CAUGHT_SHARE = 0.25


def is_judged(row: dict) -> bool:
    """Whether a clip belongs to the sets a cue is judged on (never chosen or fitted on)."""
    known = TALKING_HEADS_TRAIN | TALKING_HEADS_VAL
    return ((row["cache"] == "talking-heads" and row["group"] not in known)
            or row["cache"] == "generated-videos")


def talking_head_split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The rows to choose on and the rows to judge on: talking-head fakes and real clips,
    every other kind of fake left out."""
    talking = [r for r in rows if r["label"] == 0 or fake_kind(r["method"]) == TALKING_HEAD]
    selection = [r for r in talking if r["cache"] == "talking-heads" and not is_judged(r)]
    test = [r for r in talking if is_judged(r)]
    return selection, test


@dataclass(frozen=True)
class CueVerdict:
    chosen: str
    auc: float
    auc_low: float
    auc_high: float
    caught: int
    fakes: int
    earns_place: bool
    report: list[str]


def _auc_with_ci(labels: list[int], scores: list[float]) -> tuple[float, float, float]:
    return (metrics.roc_auc(labels, scores),
            *metrics.bootstrap_ci(metrics.roc_auc, labels, scores))


def judge_cues(rows: list[dict], candidates: tuple[str, ...]) -> CueVerdict:
    """Choose one candidate on the choosing groups and judge it on the test groups."""
    selection, test = talking_head_split(rows)
    reals = [r for r in rows if r["label"] == 0]
    report = [f"selection: {sum(r['label'] for r in selection)} fakes / "
              f"{sum(1 - r['label'] for r in selection)} reals; test: "
              f"{sum(r['label'] for r in test)} fakes / "
              f"{sum(1 - r['label'] for r in test)} reals; every real clip: {len(reals)}"]
    chosen, best = candidates[0], -1.0
    for cue in candidates:
        auc, lo, hi = _auc_with_ci([r["label"] for r in selection], [r[cue] for r in selection])
        report.append(f"  selection {cue:20s} AUC {auc:.3f} [{lo:.3f}, {hi:.3f}]")
        if auc > best:
            chosen, best = cue, auc
    edge = float(np.quantile([r[chosen] for r in reals], 1 - REAL_FLAG_RATE))
    auc, lo, hi = _auc_with_ci([r["label"] for r in test], [r[chosen] for r in test])
    fakes = [r for r in test if r["label"]]
    caught = sum(r[chosen] > edge for r in fakes)
    earns = auc >= MIN_AUC and lo > 0.5 and caught >= MIN_CAUGHT_SHARE * len(fakes)
    report.append(f"chosen: {chosen}; test AUC {auc:.3f} [{lo:.3f}, {hi:.3f}]; above the edge "
                  f"that flags 1 in 12 real clips: {caught} of {len(fakes)} test fakes")
    for method in sorted({r["method"] for r in fakes}):
        mine = [r for r in test if r["label"] == 0 or r["method"] == method]
        n = sum(r["label"] for r in mine)
        method_auc = metrics.roc_auc([r["label"] for r in mine], [r[chosen] for r in mine])
        flagged = sum(r[chosen] > edge for r in mine if r["label"])
        report.append(f"  {method:28s} {n:2d} fakes AUC {method_auc:.3f} flagged {flagged}")
    for cue in candidates:  # reported, judging nothing
        a = metrics.roc_auc([r["label"] for r in test], [r[cue] for r in test])
        report.append(f"  (test, not chosen on) {cue:20s} AUC {a:.3f}")
    report.append(f"verdict: {chosen} {'EARNS A PLACE' if earns else 'does not earn a place'} "
                  f"(asks AUC >= {MIN_AUC:.2f}, lower end > 0.5, "
                  f"at least {MIN_CAUGHT_SHARE:.0%} of the test fakes flagged)")
    return CueVerdict(chosen, auc, lo, hi, caught, len(fakes), earns, report)
