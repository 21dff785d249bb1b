#!/usr/bin/env bash
# One command to set up and run cormorant_lab on a fresh machine (Python >= 3.10 with pip and venv).
#
#   bash run.sh demo    set up .venv and run the main job: train on the bundled data, no network needed
#   bash run.sh test    set up .venv with the test extras and run the whole test suite (what CI runs)
#   bash run.sh setup   only set up .venv (with every extra: notebooks, QM9, data generation, tests)
#
# Environment: PYTHON (interpreter for the venv, default python3), CORMORANT_LAB_VENV (default .venv),
# TORCH_SPEC (default torch==2.13.0), TORCH_INDEX_URL (a PyTorch wheel index, e.g. PyTorch's CPU-only
# index on a machine without a GPU, to avoid the multi-GB CUDA build that PyPI serves by default).
set -euo pipefail
cd "$(dirname "$0")"

task="${1:-demo}"
[ $# -gt 0 ] && shift
venv="${CORMORANT_LAB_VENV:-.venv}"
python="${PYTHON:-python3}"

case "$task" in
  demo) extras="" ;;
  test|setup) extras="[notebooks,qm9,datagen,test]" ;;
  *) echo "usage: bash run.sh {demo|test|setup} [args...]" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"

# torch first, so that the package's `torch>=2.1` is already satisfied and pip does not pick another build.
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$py" -m pip install --quiet --index-url "$TORCH_INDEX_URL" "${TORCH_SPEC:-torch}"
  else
    "$py" -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
  fi
fi
"$py" -m pip install --quiet -e ".$extras"

case "$task" in
  demo) exec "$venv/bin/cormorant-lab" demo "$@" ;;
  test) exec "$py" -m pytest "$@" ;;
  setup) echo "ready: $venv (activate with: source $venv/bin/activate)" ;;
esac
