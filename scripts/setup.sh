#!/usr/bin/env bash
# Creates .venv and installs fakelens with the given extras (default: none).
# torch/torchvision (the [train] extra) are pinned: torch==2.14.1, torchvision==0.29.1.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
if [ -n "$extras" ]; then
  python -m pip install --quiet -e ".[$extras]"
else
  python -m pip install --quiet -e .
fi
# the face detector and face-mesh files go into the model store (the user cache, or
# FAKELENS_MODEL_DIR): copied from ../shared/models when it is there, so that `fakelens`
# finds them in any shell; elsewhere `fakelens models fetch` downloads them (sha256-checked)
shared_models="$(cd .. && pwd)/shared/models"
if [ -d "$shared_models" ]; then
  fakelens models fetch --from "$shared_models" > /dev/null
fi
