#!/usr/bin/env bash
# The GPU check (at most ~8 minutes on one GPU): the test suite on CUDA, then throughput, peak memory and one QM9
# epoch written as JSON (benchmarks/gpu_check.py). Usage, from the repository root:
#
#   bash benchmarks/gpu_check.sh [OUTPUT.json]          # on a GPU machine
#   bash benchmarks/gpu_check.sh --small [OUTPUT.json]  # the CPU path, tiny sizes (CI runs it: tests/test_gpu_check.py)
#
# The tests pick up CUDA through their device fixtures (tests/conftest.py: DEVICES, TF32 off); the compiled-path
# tests run through inductor here (CORMORANT_LAB_COMPILE_BACKEND=inductor). PYTHON overrides the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python
SMALL=()
if [ "${1:-}" = "--small" ]; then SMALL=(--small); shift; fi
OUTPUT="${1:-gpu_check.json}"
STATUS=0

if [ ${#SMALL[@]} -eq 0 ]; then
  "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu_check: no CUDA device (use --small for the CPU path)')"
  echo "== tests on CUDA (so3, nn, checks; device-parametrized) =="
  start=$SECONDS
  CORMORANT_LAB_COMPILE_BACKEND=inductor timeout 300 "$PYTHON" -m pytest -q -x -p no:cacheprovider \
    tests/so3 tests/nn tests/checks tests/train/test_device_batches.py -k "cuda" || { echo "gpu_check: TESTS FAILED ON CUDA"; STATUS=1; }
  echo "tests: $((SECONDS - start)) s"
fi
echo "== throughput, peak memory, QM9 epoch =="
# the JSON is rewritten after every measurement: a run stopped by this timeout keeps what it measured
timeout 420 "$PYTHON" benchmarks/gpu_check.py "${SMALL[@]}" --budget "$((450 - SECONDS))" --output "$OUTPUT" \
  || { echo "gpu_check: the measurements stopped early (what they measured is in $OUTPUT)"; STATUS=1; }
echo "wrote $OUTPUT ($SECONDS s in all)"
exit $STATUS
