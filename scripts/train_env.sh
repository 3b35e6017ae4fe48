# Sourced by the training scripts after `cd` to the repository root: builds the training
# venv when it is missing, activates it, and points model files at ../shared (no download).
# Sets $shared (the ../shared folder).
[ -x .venv/bin/fakelens ] || bash scripts/setup.sh "train,test"
. .venv/bin/activate
shared="$(cd .. && pwd)/shared"
export FAKELENS_MODEL_DIR="$shared/models" FAKELENS_ALLOW_DOWNLOAD=0 TORCH_HOME="$shared/models/torch"
