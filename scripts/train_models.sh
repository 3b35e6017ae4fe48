#!/usr/bin/env bash
# Reproduce the shipped detectors on a CPU machine (2 cores: about 1 h 15 min in all).
# Every step resumes where it stopped when run again. Needs ../shared (see docs/MODELS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
cfg=src/fakelens/training/configs

# 1. face caches (inference crop geometry + 468-point meshes for blend masks)
fakelens preprocess "$shared/data/faces-real" --label real --out runs/cache/faces-real-s1.0 \
  --crop-scale 1.0 --size 192 --shard-size 1000
fakelens preprocess "$shared/data/videos" --out runs/cache/video-real-s1.0 --frames 64 \
  --crop-scale 1.0 --size 192 --shard-size 1 \
  --only talking_head_d0 talking_head_d3 talking_head_d6 talking_head_d9 hdtf_WDA_KatieHill_000
fakelens preprocess "$shared/data/gan-faces" --out runs/cache/gan-faces-s1.6 \
  --crop-scale 1.6 --size 256 --shard-size 200
# v2 face-swap material, each clip in one role of src/fakelens/training/splits.py:
# aligned live-swap pairs (train / val face models), real talking-face clips (train / val),
# labelled photos (the real ones outside the benchmark's hold-out join calibration)
fakelens preprocess "$shared/data/live-swap" --pairs --split train \
  --out runs/cache/live-swap-pairs-train --frames 96 --crop-scale 1.0 --size 192 --shard-size 1
fakelens preprocess "$shared/data/live-swap" --pairs --split val \
  --out runs/cache/live-swap-pairs-val --frames 16 --crop-scale 1.0 --size 192 --shard-size 1
fakelens preprocess "$shared/data/videos-real" --split train --out runs/cache/videos-real-train \
  --frames 64 --crop-scale 1.0 --size 192 --shard-size 1
fakelens preprocess "$shared/data/videos-real" --split val --out runs/cache/videos-real-val \
  --frames 16 --crop-scale 1.0 --size 192 --shard-size 1
fakelens preprocess "$shared/data/gan-faces" --out runs/cache/gan-faces-s1.0 \
  --crop-scale 1.0 --size 192 --shard-size 300

# 2. face-swap detector v2: mixed pairs with beauty-filter smoothing, a 42-minute budget;
# every evaluated step is kept (runs/faceswap_v2_smooth/step-NNNNN.safetensors) and scored
# on held-out real media (docs/MODELS.md: how the shipped step was chosen)
fakelens train $cfg/faceswap_v2_smooth.yaml --out runs/faceswap_v2_smooth
# 3. synthetic-face (GAN still) detector
fakelens train $cfg/synthetic_stills.yaml --out runs/synthetic_stills

# 4. calibrate on held-out real media (face swap) or the run's validation split (GAN),
# export ONNX into the package. CHECKPOINT: the step chosen in docs/MODELS.md.
fakelens export runs/faceswap_v2_smooth --config $cfg/faceswap_v2_smooth.yaml \
  --checkpoint "${CHECKPOINT:-step-00600}" --calibration-cache runs/cache/gan-faces-s1.0 \
  --task face-swap --applies-to video,image \
  --description "MobileNetV2 + where-blended map, trained on live face-swap pairs and pseudo-fakes (self-blends, cross-blends, self-reenactments) of real faces from photos and real video"
fakelens export runs/synthetic_stills --config $cfg/synthetic_stills.yaml \
  --task synthetic-face --applies-to image \
  --description "MobileNetV2 trained on real photos vs StyleGAN2 faces"
