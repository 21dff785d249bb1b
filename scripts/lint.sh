#!/usr/bin/env bash
# Lint, format and type checks, configured in pyproject.toml ([tool.ruff], [tool.mypy]).
#
#   bash scripts/lint.sh          check only: ruff check, ruff format --check, mypy (so3 and nn);
#                                 exit 1 on findings
#   bash scripts/lint.sh --fix    apply ruff's fixes and the formatter, then check what is left
#
# --fix also applies ruff's fix for B905 (zip() without strict=), which writes strict=False: it keeps today's
# behaviour and makes the choice visible; where the lengths must agree, change it to strict=True by hand
# (so3/ and data/ already say strict=True).
# Runs the ruff and mypy found on PATH (bash run.sh lint puts the venv's first).
set -uo pipefail
cd "$(dirname "$0")/.."

fix=0
[ "${1:-}" = "--fix" ] && fix=1
status=0
step() { echo "[lint] $*" >&2; }

if [ "$fix" = 1 ]; then
  step "ruff check --fix"
  ruff check --fix --quiet . || true
  step "ruff check --fix --unsafe-fixes --select B905 (zip(..., strict=False))"
  ruff check --fix --unsafe-fixes --select B905 --quiet . || true
  step "ruff format"
  ruff format --quiet .
fi

step "ruff check"
ruff check . || status=1
step "ruff format --check"
ruff format --check . || status=1
step "mypy (so3 and nn, from pyproject.toml's [tool.mypy] files)"
mypy || status=1

if [ "$status" = 0 ]; then step "clean"; else step "findings above (bash scripts/lint.sh --fix applies the automatic ones)"; fi
exit "$status"
