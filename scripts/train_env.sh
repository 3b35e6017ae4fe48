# Sourced by the training scripts after `cd` to the repository root: builds the training
# venv when it is missing, activates it, and points model files at ../shared (no download)
# unless FAKELENS_MODEL_DIR / TORCH_HOME are set already. Sets $shared (the ../shared folder).
[ -x .venv/bin/fakelens ] || bash scripts/setup.sh "train,test"
. .venv/bin/activate
shared="$(cd .. && pwd)/shared"
export FAKELENS_MODEL_DIR="${FAKELENS_MODEL_DIR:-$shared/models}" FAKELENS_ALLOW_DOWNLOAD=0
export TORCH_HOME="${TORCH_HOME:-$shared/models/torch}"
