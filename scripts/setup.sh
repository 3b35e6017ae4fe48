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
