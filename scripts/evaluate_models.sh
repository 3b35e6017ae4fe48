#!/usr/bin/env bash
# Measure the shipped detectors on the material in ../shared (numbers in docs/MODELS.md).
# Nothing evaluated here was trained on, except where a line says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
out=docs/eval

# 1. the quality benchmark: every held-out set, shipped defaults through analyze(), beside
# the previous release's weights (v2 for videos and photos, taken from git)
baseline=runs/weights-v2
if [ ! -f $baseline/fakelens-faceswap.json ]; then
  mkdir -p $baseline
  git archive 262dc77 src/fakelens/weights | tar -x -C $baseline --strip-components=3
fi
fakelens eval --suite default --data "$shared/data" --baseline $baseline --out $out/suite
# the same on the QP 40 mirror (benchmarks/recompress_sets.sh 40 runs/data-qp40): heavy
# compression, and the video detector's uncertain band is fitted on it too
qp40=${QP40_DATA:-runs/data-qp40}
[ -d "$qp40" ] || bash benchmarks/recompress_sets.sh 40 "$qp40"
fakelens eval --suite default --data "$qp40" --baseline $baseline --out $out/suite-qp40

# 2. detail reports per set (per-method AUC, frame level, ROC plots)
trained_on="talking_head_d0 talking_head_d3 talking_head_d6 talking_head_d9 hdtf_WDA_KatieHill_000"

# dev videos: the 10 clips never seen in training (4 FF++ fakes, 3 FF++ originals, 3 reals)
fakelens eval "$shared/data/videos" --out $out/dev-videos-heldout --exclude $trained_on
# all 15 dev videos (5 of the real ones were training material: optimistic for reals)
fakelens eval "$shared/data/videos" --out $out/dev-videos-all
# DFDC face crops, validation split: face-swap detector alone, and the defaults for stills
fakelens eval "$shared/data/dfdc-crops" --split validation --model fakelens-faceswap \
  --out $out/dfdc-validation-faceswap
fakelens eval "$shared/data/dfdc-crops" --split validation --out $out/dfdc-validation-defaults
fakelens eval "$shared/data/dfdc-crops" --split validation --model fakelens-synthetic \
  --out $out/dfdc-validation-synthetic
# GAN stills: the 20% held out (by file) of the synthetic-face run
fakelens eval "$shared/data/gan-faces" --holdout-fraction 0.2 --holdout-seed 0 \
  --model fakelens-synthetic --out $out/gan-heldout-synthetic
fakelens eval "$shared/data/gan-faces" --holdout-fraction 0.2 --holdout-seed 0 \
  --out $out/gan-heldout-defaults
# the face-swap detector alone on the same stills: its false alarms on real photos that no
# run trained, selected or calibrated on (its still-photo figures; StyleGAN2 is not its task)
fakelens eval "$shared/data/gan-faces" --holdout-fraction 0.2 --holdout-seed 0 \
  --model fakelens-faceswap --out $out/gan-heldout-faceswap
fakelens eval "$shared/data/generated-videos" --out $out/generated-videos
python scripts/record_metrics.py
python scripts/measure_contradiction.py   # the contradiction rule on the held-out stills
