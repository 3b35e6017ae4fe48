#!/usr/bin/env bash
# Install fakelens and analyse a video (default: a FaceForensics++ sample from ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export FAKELENS_MODEL_DIR="${FAKELENS_MODEL_DIR:-$(cd .. && pwd)/shared/models}"
[ -d "$FAKELENS_MODEL_DIR" ] || unset FAKELENS_MODEL_DIR  # then the user cache + download
if [ "$#" -eq 0 ]; then
  set -- ../shared/data/videos/ffpp_deepfakes_519_515.mp4
fi
exec fakelens detect "$@"
