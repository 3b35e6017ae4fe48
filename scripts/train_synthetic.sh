#!/usr/bin/env bash
# The GAN-face detector candidate with real video frames on its real side (issue 29;
# docs/training-log.md, "fakelens-synthetic v2"): caches (each resumes where it stopped),
# the run (about 26 CPU minutes on 2 shared cores) and its export to runs/cand-synth-v2
# with the shipped face-swap detector beside it, ready for benchmarks/video_frame_stills.py.
#   nohup bash scripts/train_synthetic.sh > runs/train_synthetic.out 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/train_env.sh
fakelens preprocess "$shared/data/gan-faces" --out runs/cache/gan-faces-s1.6 \
  --crop-scale 1.6 --size 256 --shard-size 200
# the REAL clips of each set, training role only (training/splits.py)
reals() {
  python - "$shared/data/$1/labels.csv" <<'PY'
import csv, sys
print(" ".join(r["file"].rsplit(".", 1)[0] for r in csv.DictReader(open(sys.argv[1]))
               if r["label"] == "REAL"))
PY
}
for d in videos-real live-swap talking-heads swap-generators; do
  # shellcheck disable=SC2046
  fakelens preprocess "$shared/data/$d" --split train --only $(reals "$d") \
    --out "runs/cache/$d-realframes-s1.6" --frames 8 --crop-scale 1.6 --size 256 --shard-size 1
done
fakelens -v train src/fakelens/training/configs/synthetic_v2.yaml --out runs/synthetic_v2
fakelens export runs/synthetic_v2 --config src/fakelens/training/configs/synthetic_v2.yaml \
  --task synthetic-face --applies-to image --out runs/cand-synth-v2 \
  --description "MobileNetV2 trained on real photos and real video frames vs StyleGAN2 faces"
cp src/fakelens/weights/fakelens-faceswap.* runs/cand-synth-v2/
