"""Compare two detector versions on all held-out videos of several benchmark reports
pooled: the same clips as they are and re-encoded (``benchmarks/recompress_sets.sh``).

Each report is a ``suite.json`` written by ``fakelens eval --suite default --baseline``
(both versions scored). Prints the pooled AUC of each version and their paired difference
with a 95% bootstrap interval that resamples clips, so that the as-is and re-encoded
versions of one clip are drawn together (they are not independent evidence).

    python benchmarks/compare_suites.py runs/suite-X/suite.json runs/suite40-X/suite.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fakelens.errors import FakeLensError
from fakelens.training.suite import compare_pooled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="suite.json files")
    parser.add_argument("--current", default="current", help="label of the new version")
    parser.add_argument("--previous", default="previous", help="label of the baseline")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    args = parser.parse_args(argv)
    try:
        reports = [json.loads(p.read_text()) for p in args.reports]
        d = compare_pooled(reports, args.current, args.previous, n_boot=args.boot)
    except (OSError, ValueError, KeyError, FakeLensError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lo, hi = d["ci95"]
    print(f"all videos pooled over {', '.join(map(str, d['data']))}: {d['n']} media, "
          f"{d['clips']} clips")
    print(f"AUC {args.current} {d['auc'][args.current]:.3f}, "
          f"{args.previous} {d['auc'][args.previous]:.3f}; difference "
          f"{d['auc_difference']:+.3f} [{lo:+.3f}, {hi:+.3f}] (paired, clips resampled)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
