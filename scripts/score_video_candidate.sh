#!/usr/bin/env bash
# Export one checkpoint of a mixed face-swap run as a video detector candidate and judge it
# under the video shipping rule (scripts/video_rule.py) against the detectors shipped in
# src/fakelens/weights: the way runs 28-30 were scored (docs/training-log.md).
#
#   scripts/score_video_candidate.sh TAG RUN CONFIG STEP [EXPORT OPTION ...]
#   e.g. scripts/score_video_candidate.sh r30 runs/r30_all \
#          src/fakelens/training/configs/faceswap_r30_all.yaml step-01724 \
#          --max-real-at-threshold 0 --description "..."
#
# Steps (each skipped when its output exists, so a stopped scoring resumes):
# 1. export into runs/cand-TAG (with the shipped photo and synthetic detectors beside it);
# 2. the default suite against the shipped detectors as the data is (runs/suite-TAG-pass1)
#    and on the QP 40 mirror (runs/suite-TAG-qp40-pass1; QP40_DATA, default runs/data-qp40,
#    from benchmarks/recompress_sets.sh), and the uncertain band's edge fitted on both
#    (since E10) and written into the candidate's card;
# 3. both suites again with that band (runs/suite-TAG, runs/suite-TAG-qp40);
# 4. the rule's conditions, printed and saved in runs/rule-TAG.txt (exit 1 when it fails).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
tag=$1 run=$2 config=$3 step=$4
shift 4
cand=runs/cand-$tag
qp40=${QP40_DATA:-runs/data-qp40}
[ -d "$qp40" ] || { echo "no QP 40 mirror at $qp40 (benchmarks/recompress_sets.sh)" >&2; exit 2; }
if [ ! -f "$cand/fakelens-faceswap-video.json" ]; then
  fakelens export "$run" --config "$config" --checkpoint "$step" \
    --name fakelens-faceswap-video --task face-swap --applies-to video "$@" \
    --out "$cand" > "runs/cand-$tag.export.json"
  cp src/fakelens/weights/fakelens-faceswap.* src/fakelens/weights/fakelens-synthetic.* "$cand/"
fi
suite() {  # suite OUT DATA
  [ -f "$1/suite.json" ] || FAKELENS_WEIGHTS_DIR="$cand" fakelens eval --suite default \
    --data "$2" --baseline src/fakelens/weights --out "$1" > "$1.out" 2>&1
}
suite "runs/suite-$tag-pass1" "$shared/data"
suite "runs/suite-$tag-qp40-pass1" "$qp40"
if [ ! -f "runs/suite-$tag/suite.json" ]; then
  python scripts/video_rule.py --band "runs/suite-$tag-pass1/suite.json" \
    "$cand/fakelens-faceswap-video.json" --qp40 "runs/suite-$tag-qp40-pass1/suite.json"
fi
suite "runs/suite-$tag" "$shared/data"
suite "runs/suite-$tag-qp40" "$qp40"
python scripts/video_rule.py "runs/suite-$tag/suite.json" "runs/suite-$tag-qp40/suite.json" \
  | tee "runs/rule-$tag.txt"
