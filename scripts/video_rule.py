"""The shipping rule for a video face-swap candidate (docs/training-log.md, runs 28-30),
read off two quality-benchmark runs with the candidate as `current` and the shipped
detectors as `previous`: one on the data as it is, one on its QP 40 mirror.

    python scripts/video_rule.py SUITE.json SUITE-QP40.json     # prints each condition
    python scripts/video_rule.py --band SUITE.json CARD.json [--qp40 SUITE-QP40.json]
                                                     # writes uncertain_from

The four conditions, all of which must hold:
1. DeepFaceLive's held-out face models: AUC at least the shipped one minus 0.05, as they
   are and at QP 40, and no fewer pairs ranked fake above their own original.
2. The ROME grid (generators no run trains on): AUC at least the shipped one minus 0.05.
3. Real benchmark videos called FAKE: no more than the shipped detector, as they are and
   at QP 40.
4. At least half the fakes of every video set caught (FAKE or UNCERTAIN), and at most
   21 real videos UNCERTAIN.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_metrics import _uncertain_from, grid_auc  # noqa: E402

VIDEO_SETS = ("dev-videos", "live-swap-heldout", "generated-videos", "swap-generators",
              "talking-heads")
AUC_MARGIN = 0.05
MAX_REAL_UNCERTAIN = 21


@dataclass(frozen=True)
class Condition:
    name: str
    holds: bool
    detail: str


def _ci(interval) -> str:
    return "[{:.3f}, {:.3f}]".format(*interval)


def _version(suite: dict, set_name: str, which: str) -> dict:
    return suite["sets"][set_name]["versions"][which]


def conditions(as_is: dict, qp40: dict) -> list[Condition]:
    """Every condition of the rule, in order; the rule holds when all of them do."""
    out = []
    for label, suite in (("as they are", as_is), ("at QP 40", qp40)):
        cur = _version(suite, "live-swap-heldout", "current")
        prev = _version(suite, "live-swap-heldout", "previous")
        out.append(Condition(
            f"1. DeepFaceLive held-out face models AUC, {label}",
            cur["auc"] >= prev["auc"] - AUC_MARGIN,
            f"{cur['auc']:.3f} {_ci(cur['auc_ci95'])} vs shipped {prev['auc']:.3f}"))
    cur = _version(as_is, "live-swap-heldout", "current")
    prev = _version(as_is, "live-swap-heldout", "previous")
    out.append(Condition(
        "1. DeepFaceLive pairs ranked fake above their original",
        cur["pairs_ranked"] >= prev["pairs_ranked"],
        f"{cur['pairs_ranked']} of {cur['pairs']} vs shipped {prev['pairs_ranked']}"))
    (auc, ci), (shipped, _) = grid_auc(as_is, "current"), grid_auc(as_is, "previous")
    out.append(Condition("2. ROME grid AUC", auc >= shipped - AUC_MARGIN,
                         f"{auc:.3f} {_ci(ci)} vs shipped {shipped:.3f}"))
    for label, suite in (("as they are", as_is), ("at QP 40", qp40)):
        cur_fake = {s: _version(suite, s, "current")["real_flagged_fake"] for s in VIDEO_SETS}
        prev_fake = {s: _version(suite, s, "previous")["real_flagged_fake"] for s in VIDEO_SETS}
        n_real = sum(_version(suite, s, "current")["n_real"] for s in VIDEO_SETS)
        out.append(Condition(
            f"3. real videos called FAKE, {label}",
            sum(cur_fake.values()) <= sum(prev_fake.values()),
            f"{sum(cur_fake.values())} of {n_real} vs shipped {sum(prev_fake.values())} "
            f"(by set: {cur_fake} vs {prev_fake})"))
    caught = {s: (_version(as_is, s, "current")["fake_caught"],
                  _version(as_is, s, "current")["n_fake"]) for s in VIDEO_SETS}
    out.append(Condition("4. half the fakes of every video set caught",
                         all(2 * k >= n for k, n in caught.values()),
                         ", ".join(f"{s} {k}/{n}" for s, (k, n) in caught.items())))
    uncertain = sum(_version(as_is, s, "current")["real_uncertain"] for s in VIDEO_SETS)
    shipped_uncertain = sum(_version(as_is, s, "previous")["real_uncertain"] for s in VIDEO_SETS)
    out.append(Condition(f"4. real videos UNCERTAIN at most {MAX_REAL_UNCERTAIN}",
                         uncertain <= MAX_REAL_UNCERTAIN,
                         f"{uncertain} (shipped {shipped_uncertain})"))
    return out


def per_set(as_is: dict) -> list[str]:
    """One line per benchmark set: the candidate beside the shipped detectors."""
    lines = []
    for s in (*VIDEO_SETS, "dfdc-crops", "gan-stills"):
        cur, prev = _version(as_is, s, "current"), _version(as_is, s, "previous")
        lines.append(
            f"{s}: AUC {cur.get('auc', float('nan')):.3f} vs {prev.get('auc', float('nan')):.3f}"
            f", fakes caught {cur['fake_caught']}/{cur['n_fake']} vs {prev['fake_caught']}, "
            f"called FAKE {cur['fake_called_fake']} vs {prev['fake_called_fake']}, reals FAKE "
            f"{cur['real_flagged_fake']} vs {prev['real_flagged_fake']}, reals UNCERTAIN "
            f"{cur['real_uncertain']} vs {prev['real_uncertain']}")
    return lines


def write_band(suite_path: Path, card_path: Path,
               qp40_path: Path | None = None) -> float | None:
    """Fit the uncertain band's edge on a first pass (as the data is and, when given, on the
    QP 40 mirror) and write it into the candidate's card."""
    edge = _uncertain_from(json.loads(suite_path.read_text()),
                           json.loads(qp40_path.read_text()) if qp40_path else None)
    card = json.loads(card_path.read_text())
    card["uncertain_from"] = edge
    card_path.write_text(json.dumps(card, indent=1))
    return edge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--band", action="store_true",
                        help="fit the band edge on SUITE and write it into CARD")
    parser.add_argument("--qp40", type=Path, help="with --band: the first pass on the QP 40 "
                        "mirror, whose unseen fakes the edge keeps too")
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    if args.band:
        print("uncertain_from", write_band(args.first, args.second, args.qp40))
        return 0
    as_is, qp40 = (json.loads(p.read_text()) for p in (args.first, args.second))
    result = conditions(as_is, qp40)
    for c in result:
        print(f"{'holds ' if c.holds else 'FAILS '} {c.name}: {c.detail}")
    for line in per_set(as_is):
        print("   ", line)
    holds = all(c.holds for c in result)
    print("RULE", "HOLDS" if holds else "FAILS")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
