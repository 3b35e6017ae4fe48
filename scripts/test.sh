#!/usr/bin/env bash
# Install fakelens with every extra and run the whole test suite (real-data tests use
# ../shared; set FAKELENS_SAMPLES / FAKELENS_MODEL_DIR to point elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,test"
if ! command -v pdftoppm >/dev/null 2>&1; then  # the PDF report tests read pages with poppler
  apt-get update -qq && apt-get install -y -qq poppler-utils
fi
. .venv/bin/activate
shared="$(cd .. && pwd)/shared"
export FAKELENS_SAMPLES="${FAKELENS_SAMPLES:-$shared/data}"
export FAKELENS_MODEL_DIR="${FAKELENS_MODEL_DIR:-$shared/models}"
export FAKELENS_ALLOW_DOWNLOAD=0
export TORCH_HOME="${TORCH_HOME:-$shared/models/torch}"
ruff check src tests benchmarks
python -m pytest "$@"
