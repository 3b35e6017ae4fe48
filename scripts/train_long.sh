#!/usr/bin/env bash
# The session's long run (issue 29): start it at the start of every session, on any
# machine; it rebuilds the caches it lacks from ../shared (each resumes where it stopped)
# and resumes training from the last checkpoint in runs/ when the machine kept one.
#   nohup bash scripts/train_long.sh > runs/train_long.out 2>&1 &
# Stop it with SIGTERM after a "step N loss" line (a job started with `&` from a script
# ignores SIGINT); it loses at most the 50 steps since that checkpoint.
# The default is run 48 (faceswap_r48_fold_{1,2,3}.yaml: run 46's rotation folds with
# each unpaired fake beside its own original; three folds of 1,724 steps, about 24
# CPU-minutes each, caches in runs/cache160-crop1.3); its rule is in docs/training-log.md.
# Runs 30-47 ended: `SIZE=224 RUNS=r30_all`, `RUNS=r31_all`, `RUNS=r32_all`,
# `RUNS=r33_all`, `RUNS="r40_all r40_seed1_all"`, for runs 34, 35, 37 and 38
# `RUNS="rNN_fold_1 rNN_fold_2 rNN_fold_3"` with scripts/train_rotation.sh (run 41 with
# CROP=1.3, run 43 with CROP=1.5), and `CROP=1.3 RUNS="r42_all r42_seed1_all"` (shipped
# as E10), run 44 with `SIZE=208 CROP=1.3 RUNS="r44_fold_1 r44_fold_2 r44_fold_3"`, and
# runs 45 and 46 with `CROP=1.3 RUNS="rNN_fold_1 rNN_fold_2 rNN_fold_3"`, run 47 with
# `CROP=1.3 RUNS="r47_all r47_seed1_all"`.
# CONFIG=path/to.yaml RUN=runs/name run a config on run 21's caches (runs/cache224) instead:
# run 21 (faceswap_v6.yaml, ended at step 7,700) and run 20 are recorded in
# docs/training-log.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CONFIG:-}" ]; then
  CROP=1.3 RUNS="r48_fold_1 r48_fold_2 r48_fold_3" exec bash scripts/train_rotation.sh
fi
. scripts/train_env.sh
config=$CONFIG
run=${RUN:?RUN=runs/name goes with CONFIG}
c=runs/cache224
cache() { nice -n 10 fakelens preprocess "$@" --crop-scale 1.0 --size 224; }
cache "$shared/data/faces-real" --label real --out $c/faces-real --shard-size 500
cache "$shared/data/videos" --out $c/video-real --frames 64 --shard-size 1 \
  --only talking_head_d0 talking_head_d3 talking_head_d6 talking_head_d9 hdtf_WDA_KatieHill_000
cache "$shared/data/live-swap" --pairs --split train --out $c/live-swap-pairs-train \
  --frames 96 --shard-size 1
cache "$shared/data/live-swap" --pairs --split val --out $c/live-swap-pairs-val \
  --frames 16 --shard-size 1
cache "$shared/data/videos-real" --split train --out $c/videos-real-train --frames 64 \
  --shard-size 1
cache "$shared/data/videos-real" --split val --out $c/videos-real-val --frames 16 \
  --shard-size 1
# the new real fakes (training/splits.py roles); every config since run 21 trains on them
cache "$shared/data/swap-generators" --pairs --split train \
  --out $c/swap-generators-pairs-train --frames 64 --shard-size 1
cache "$shared/data/swap-generators" --pairs --split val \
  --out $c/swap-generators-pairs-val --frames 16 --shard-size 1
cache "$shared/data/swap-generators" --split train --out $c/swap-generators-train \
  --frames 32 --shard-size 1
cache "$shared/data/talking-heads" --split train --out $c/talking-heads-train \
  --frames 48 --shard-size 1
cache "$shared/data/talking-heads" --split val --out $c/talking-heads-val \
  --frames 16 --shard-size 1
mkdir -p "$run"
echo "$(date -u +%FT%TZ) resume $config -> $run" >> "$run/sessions.log"
# progress (step, loss, validation at every evaluated step) also goes to $run/train.log
fakelens -v train "$config" --out "$run" 2>&1 | tee -a "$run/train.log"
