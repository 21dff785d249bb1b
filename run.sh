#!/usr/bin/env bash
# One command to set up and run cormorant_lab on a fresh machine (Python >= 3.10 with pip and venv).
#
#   bash run.sh demo    set up .venv and run the main job: train on the bundled data, no network needed
#   bash run.sh test    set up .venv with the test extras and run the whole test suite (what CI runs)
#   bash run.sh setup   only set up .venv (with every extra: notebooks, QM9, data generation, tests, docs)
#   bash run.sh docs    set up .venv with the docs extra and build the documentation site into site/ (strict)
#   bash run.sh lint    ruff (lint + format check) and mypy; `bash run.sh lint --fix` applies ruff's fixes
#
# Each step says what it does. The install is skipped when it is current: a stamp in the venv records the hash
# of pyproject.toml, the extras and the torch spec, and pip runs again only when one of them changes
# (CORMORANT_LAB_REINSTALL=1 forces it).
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
say() { echo "[run.sh] $*" >&2; }

case "$task" in
  demo) extras="" ;;
  docs) extras="[docs]" ;;
  lint) extras="[lint]" ;;
  test|setup) extras="[notebooks,qm9,datagen,test,docs,lint]" ;;
  *) echo "usage: bash run.sh {demo|test|setup|docs|lint} [args...]" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  say "creating the virtual environment $venv"
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"

# torch first, so that the package's `torch>=2.1` is already satisfied and pip does not pick another build.
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  say "installing ${TORCH_SPEC:-torch==2.13.0} (a CUDA build from PyPI is several GB; TORCH_INDEX_URL picks another index)"
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$py" -m pip install --progress-bar on --index-url "$TORCH_INDEX_URL" "${TORCH_SPEC:-torch}"
  else
    "$py" -m pip install --progress-bar on "${TORCH_SPEC:-torch==2.13.0}"
  fi
fi

# The stamp: what the current install was made from. A superset of extras installed earlier also counts.
hash="$("$py" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest()[:16])')"
stamp="$venv/.cormorant_lab_install"
wanted="$hash ${TORCH_SPEC:-torch==2.13.0} $PWD"
current=0
if [ -z "${CORMORANT_LAB_REINSTALL:-}" ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$wanted" ]; then
  current=1
  for extra in $(echo "$extras" | tr -d '[]' | tr ',' ' '); do
    grep -qx "$extra" "$stamp" || current=0
  done
fi
if [ "$current" = 1 ]; then
  say "cormorant_lab$extras is installed and current (pyproject.toml unchanged): skipping pip"
else
  say "installing cormorant_lab$extras in editable mode (pip's progress follows)"
  "$py" -m pip install --progress-bar on --disable-pip-version-check -e ".$extras"
  { echo "$wanted"; echo "$extras" | tr -d '[]' | tr ',' '\n'; } > "$stamp"
fi

case "$task" in
  demo) say "running the demo"; exec "$venv/bin/cormorant-lab" demo "$@" ;;
  test) say "running the test suite"; exec "$py" -m pytest "$@" ;;
  docs) say "building the documentation (mkdocs build --strict) into site/"
        exec "$venv/bin/mkdocs" build --strict "$@" ;;
  lint) say "linting (scripts/lint.sh)"; PATH="$PWD/$venv/bin:$PATH" exec bash scripts/lint.sh "$@" ;;
  setup) echo "ready: $venv (activate with: source $venv/bin/activate)" ;;
esac
