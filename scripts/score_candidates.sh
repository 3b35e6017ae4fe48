#!/usr/bin/env bash
# Calibrate, export and score checkpoints of a face-swap run on the `selection` suite
# (validation-role material only: held-out live-swap face models, held-out real clips,
# the DFDC training crops), so that the choice never looks at the benchmark's test sets.
#
#   scripts/score_candidates.sh RUN CONFIG STEP [STEP ...]
#   e.g. scripts/score_candidates.sh runs/faceswap_v3 src/fakelens/training/configs/faceswap_v3.yaml step-03000 best
#
# Each candidate lands in runs/cand-<run>-<step>/ (with the installed synthetic detector
# beside it) and its scores in runs/select-<run>-<step>/; a table of all scored candidates
# of the run is printed at the end (mean AUC of the two selection sets).
# COMPRESSED=DIR (a mirror of the data from benchmarks/recompress_sets.sh) also scores the
# selection suite there, into runs/select40-<run>-<step>/, and the table's mean becomes
# that of three AUCs: val-videos as they are and re-encoded, and the DFDC training crops.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
run=$1 config=$2
shift 2
tag=${TAG:-$(basename "$run")}  # TAG: name a variant of the same run (another config)
for step in "$@"; do
  cand=runs/cand-$tag-$step
  if [ ! -f "$cand/fakelens-faceswap.json" ]; then
    fakelens export "$run" --config "$config" --checkpoint "$step" \
      --calibration-cache runs/cache/gan-faces-s1.0 --task face-swap \
      --applies-to video,image --description "candidate $tag $step" --out "$cand"
    cp src/fakelens/weights/fakelens-synthetic.* "$cand/"
  fi
  if [ ! -f "runs/select-$tag-$step/suite.json" ]; then
    FAKELENS_WEIGHTS_DIR="$cand" fakelens eval --suite selection --data "$shared/data" \
      --out "runs/select-$tag-$step" > /dev/null
  fi
  if [ -n "${COMPRESSED:-}" ] && [ ! -f "runs/select40-$tag-$step/suite.json" ]; then
    FAKELENS_WEIGHTS_DIR="$cand" fakelens eval --suite selection --data "$COMPRESSED" \
      --out "runs/select40-$tag-$step" > /dev/null
  fi
done
python - "$tag" "${COMPRESSED:-}" <<'EOF'
import json, sys
from pathlib import Path
rows = []
for path in sorted(Path("runs").glob(f"select-{sys.argv[1]}-*/suite.json")):
    sets = json.loads(path.read_text())["sets"]
    got = {n: s["versions"]["current"] for n, s in sets.items()}
    compressed = path.parent.parent / path.parent.name.replace("select-", "select40-", 1)
    if sys.argv[2] and (compressed / "suite.json").is_file():
        again = json.loads((compressed / "suite.json").read_text())["sets"]["val-videos"]
        got["val-videos@compressed"] = again["versions"]["current"]
    aucs = [b["auc"] for b in got.values() if "auc" in b]
    alarms = sum(b["real_flagged_fake"] for b in got.values())
    reals = sum(b["n_real"] for b in got.values())
    detail = "  ".join(f"{n} {b['auc']:.3f}" for n, b in got.items() if "auc" in b)
    rows.append((sum(aucs) / len(aucs), path.parent.name, detail, f"{alarms}/{reals}"))
for mean, name, detail, alarms in sorted(rows, reverse=True):
    print(f"{name:40s} mean AUC {mean:.3f}  {detail}  real called FAKE {alarms}")
EOF
