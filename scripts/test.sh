#!/usr/bin/env bash
# Install fakelens with every extra and run the whole test suite (real-data tests use
# ../shared; set FAKELENS_SAMPLES / FAKELENS_MODEL_DIR to point elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,test,batch"
# system packages the tests use (installed once, when missing): poppler reads the PDF
# reports' pages; the web tests start their own PostgreSQL and Redis servers from these
# binaries and drive Debian's chromium with Playwright (no `playwright install`); ffmpeg
# serves the live tests' local streams and fake camera files
need=()
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)  # live tests: .y4m camera, local streams
# WeasyPrint subsets fonts with HarfBuzz (without it, it warns on every PDF)
ldconfig -p | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
export FAKELENS_REQUIRE_SERVICES=1  # the web tests fail (not skip) without those binaries
. .venv/bin/activate
shared="$(cd .. && pwd)/shared"
export FAKELENS_SAMPLES="${FAKELENS_SAMPLES:-$shared/data}"
export FAKELENS_MODEL_DIR="${FAKELENS_MODEL_DIR:-$shared/models}"
export FAKELENS_ALLOW_DOWNLOAD=0
export TORCH_HOME="${TORCH_HOME:-$shared/models/torch}"
ruff check src tests benchmarks
# one worker per core (at most 4); a test file stays on one worker, so its module fixtures
# (servers, browsers) are started once
python -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
