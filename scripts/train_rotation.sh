#!/usr/bin/env bash
# Runs 25 and 26 (issue 29): the shared notes' third experiment (frames of every generator's real
# fakes, drawn generator first) as a leave-generators-out rotation. Each fold config
# (faceswap_r25_fold_*.yaml, faceswap_r26_fold_*.yaml) leaves out whole groups: the generators it is judged on, with
# the clips they were made from; scripts/score_rotation.py then scores each fold on what it
# left out, beside the shipped detector on the same frames. Resumable on any machine: the
# caches and each fold resume where they stopped.
#   nohup bash scripts/train_rotation.sh > runs/train_rotation.out 2>&1 &
# RUNS names the configs (faceswap_<name>.yaml, trained into runs/<name>): by default run
# 25's two folds; RUNS="r26_fold_1 r26_fold_2 r26_fold_3" is run 26's three-fold rotation,
# RUNS=r25_all the candidate a passed rotation allows (run 27); RUNS=r28_all and
# RUNS=r29_all runs 28 and 29; SIZE=224 RUNS=r30_all run 30; RUNS=r31_all run 31;
# RUNS=r32_all run 32; RUNS=r33_all run 33; RUNS="r34_fold_1 r34_fold_2 r34_fold_3" run 34
# RUNS="r35_fold_1 r35_fold_2 r35_fold_3" run 35, RUNS="r37_fold_1 r37_fold_2 r37_fold_3"
# run 37, RUNS="r38_fold_1 r38_fold_2 r38_fold_3" run 38 and RUNS="r40_all r40_seed1_all"
# run 40; CROP=1.3 RUNS="r41_fold_1 r41_fold_2 r41_fold_3" run 41 and
# CROP=1.3 RUNS="r42_all r42_seed1_all" run 42, and
# CROP=1.5 RUNS="r43_fold_1 r43_fold_2 r43_fold_3" run 43 and
# SIZE=208 CROP=1.3 RUNS="r44_fold_1 r44_fold_2 r44_fold_3" run 44 and
# CROP=1.3 RUNS="r45_fold_1 r45_fold_2 r45_fold_3" run 45 and
# CROP=1.3 RUNS="r46_fold_1 r46_fold_2 r46_fold_3" run 46 and
# CROP=1.3 RUNS="r47_all r47_seed1_all" run 47 and
# CROP=1.3 RUNS="r48_fold_1 r48_fold_2 r48_fold_3" run 48 (what train_long.sh starts).
# CACHES_ONLY=1 builds the caches only. CROP=1.3 cuts every crop at 1.3x the face box
# (runs/cache160-crop1.3) instead of 1.0x; the configs name that folder as `cache_root`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
size=${SIZE:-160}  # SIZE=224: run 30's caches, in runs/rot224 (runs/cache224 is run 21's)
crop=${CROP:-1.0}
c=runs/cache160
[ "$size" = 160 ] || c=runs/rot$size
[ "$crop" = 1.0 ] || c=$c-crop$crop
cache() { fakelens preprocess "$@" --crop-scale "$crop" --size "$size" --shard-size 1; }
# every labelled clip, 16 frames: the fakes of every generator and the real clips beside them
for set in talking-heads swap-generators generated-videos videos videos-real; do
  cache "$shared/data/$set" --out $c/$set --frames 16
done
# DeepFaceLive: aligned pairs of the training and validation face models (trained on by
# every fold, as by v2), and the test role's face models as clips (scored, never trained on)
cache "$shared/data/live-swap" --pairs --split train --out $c/live-swap-pairs-train --frames 24
cache "$shared/data/live-swap" --pairs --split val --out $c/live-swap-pairs-val --frames 24
cache "$shared/data/live-swap" --split test --out $c/live-swap-test --frames 16
# v2's real still photos (runs 38 and 40)
fakelens preprocess "$shared/data/faces-real" --label real --out $c/faces-real \
  --crop-scale "$crop" --size "$size" --shard-size 500
# the 10 real clips no run 25 model trains on: the candidate's calibration
cache "$shared/data/videos-real" --split val --out $c/videos-real-val --frames 16
[ -n "${CACHES_ONLY:-}" ] && exit 0
for name in ${RUNS:-r25_fold_a r25_fold_b}; do
  config=src/fakelens/training/configs/faceswap_$name.yaml
  run=runs/$name
  mkdir -p "$run"
  echo "$(date -u +%FT%TZ) resume $config -> $run" >> "$run/sessions.log"
  fakelens -v train "$config" --out "$run" 2>&1 | tee -a "$run/train.log"
done
