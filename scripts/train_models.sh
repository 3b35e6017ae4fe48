#!/usr/bin/env bash
# Reproduce the shipped detectors on a CPU machine (2 cores: about 1 h 15 min in all).
# Every step resumes where it stopped when run again. Needs ../shared (see docs/MODELS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,test"
. .venv/bin/activate
shared="$(cd .. && pwd)/shared"
export FAKELENS_MODEL_DIR="$shared/models" FAKELENS_ALLOW_DOWNLOAD=0 TORCH_HOME="$shared/models/torch"
cfg=src/fakelens/training/configs

# 1. face caches (inference crop geometry + 468-point meshes for blend masks)
fakelens preprocess "$shared/data/faces-real" --label real --out runs/cache/faces-real-s1.0 \
  --crop-scale 1.0 --size 192 --shard-size 1000
fakelens preprocess "$shared/data/videos" --out runs/cache/video-real-s1.0 --frames 64 \
  --crop-scale 1.0 --size 192 --shard-size 1 \
  --only talking_head_d0 talking_head_d3 talking_head_d6 talking_head_d9 hdtf_WDA_KatieHill_000
fakelens preprocess "$shared/data/gan-faces" --out runs/cache/gan-faces-s1.6 \
  --crop-scale 1.6 --size 256 --shard-size 200
# real photos the face-swap detector never sees in training: its temperature is fitted on
# self-blended pairs made from them
fakelens preprocess "$shared/data/gan-faces/real" --label real --out runs/cache/calib-real-s1.0 \
  --crop-scale 1.0 --size 192 --shard-size 600

# 2. face-swap detector: SBI frame classifier, then the temporal head
fakelens train $cfg/faceswap_frames.yaml --out runs/faceswap_frames
fakelens train $cfg/faceswap_temporal.yaml --out runs/faceswap_temporal
# 3. synthetic-face (GAN still) detector
fakelens train $cfg/synthetic_stills.yaml --out runs/synthetic_stills

# 4. calibrate on each run's validation split and export ONNX into the package
fakelens export runs/faceswap_frames --config $cfg/faceswap_frames.yaml \
  --temporal-run runs/faceswap_temporal --temporal-config $cfg/faceswap_temporal.yaml \
  --task face-swap --applies-to video,image --calibration-cache runs/cache/calib-real-s1.0 \
  --description "MobileNetV2 + GRU trained on self-blended pseudo-fakes of real faces"
fakelens export runs/synthetic_stills --config $cfg/synthetic_stills.yaml \
  --task synthetic-face --applies-to image \
  --description "MobileNetV2 trained on real photos vs StyleGAN2 faces"
