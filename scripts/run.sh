#!/usr/bin/env bash
# Install fakelens and run the main job:
#   bash scripts/run.sh                 analyse a sample video (FaceForensics++ from ../shared)
#   bash scripts/run.sh FILE|FOLDER...  analyse your own media
#   bash scripts/run.sh serve [--port N] the web app (SQLite + embedded job queue)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
# setup.sh put the face detector into the model store (the user cache)
if [ "${1:-}" = "serve" ]; then
  shift
  exec fakelens serve "$@"
fi
if [ "$#" -eq 0 ]; then
  set -- ../shared/data/videos/ffpp_deepfakes_519_515.mp4
fi
exec fakelens detect "$@"
