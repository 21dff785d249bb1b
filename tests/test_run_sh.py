"""run.sh says what it does and skips an install that is current (a stamp of pyproject.toml's hash and the extras).

pip is replaced by a stub in a throwaway venv folder, so nothing is installed and no network is used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup(checkout: Path, venv: Path) -> str:
    env = {**os.environ, "CORMORANT_LAB_VENV": str(venv)}
    env.pop("CORMORANT_LAB_REINSTALL", None)
    result = subprocess.run(
        ["bash", str(checkout / "run.sh"), "setup"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_install_is_skipped_when_current(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy2(ROOT / "run.sh", checkout / "run.sh")
    shutil.copy2(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "pip.log"
    stub = venv / "bin" / "python"
    stub.write_text(
        f'#!/usr/bin/env bash\nif [ "$1 $2" = "-m pip" ]; then echo "$*" >> {log}; exit 0; fi\nexec {sys.executable} "$@"\n'
    )
    stub.chmod(0o755)

    first = _setup(checkout, venv)
    assert "[run.sh] installing cormorant_lab[" in first and log.read_text().count("install") == 1
    second = _setup(checkout, venv)
    assert "is installed and current" in second and "skipping pip" in second
    assert log.read_text().count("install") == 1  # pip did not run again
    with open(checkout / "pyproject.toml", "a") as handle:
        handle.write("\n# a change\n")
    third = _setup(checkout, venv)
    assert "[run.sh] installing" in third and log.read_text().count("install") == 2
