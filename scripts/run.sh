#!/usr/bin/env bash
# Install fakelens and run the main job:
#   bash scripts/run.sh                 analyse a sample video (FaceForensics++ from ../shared)
#   bash scripts/run.sh FILE|FOLDER...  analyse your own media
#   bash scripts/run.sh serve [--port N] the web app (SQLite + embedded job queue)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export FAKELENS_MODEL_DIR="${FAKELENS_MODEL_DIR:-$(cd .. && pwd)/shared/models}"
[ -d "$FAKELENS_MODEL_DIR" ] || unset FAKELENS_MODEL_DIR  # then the user cache + download
if [ "${1:-}" = "serve" ]; then
  shift
  exec fakelens serve "$@"
fi
if [ "$#" -eq 0 ]; then
  set -- ../shared/data/videos/ffpp_deepfakes_519_515.mp4
fi
exec fakelens detect "$@"
