"""The project's own files: one source of dependencies, and a CLI that answers."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_the_package_with_every_extra():
    extras = set(load_pyproject()["project"]["optional-dependencies"])
    text = (ROOT / "environment.yml").read_text()
    match = re.search(r'-e\s+"?\.\[([^\]]*)\]', text)
    assert match, "environment.yml must pip-install the package with its extras: -e .[...]"
    assert {e.strip() for e in match.group(1).split(",")} == extras
    # No dependency may be named in environment.yml besides python and pip: pyproject is the one source.
    listed = re.findall(r"^\s+-\s+([A-Za-z][A-Za-z0-9_.-]*)", text, flags=re.M)
    assert set(listed) <= {"python", "pip", "conda-forge"}, listed


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash run.sh test" in readme and "bash run.sh test" in ci
    assert "bash run.sh demo" in readme


def test_cli_demo_help():
    result = subprocess.run(
        [sys.executable, "-m", "cormorant_lab.cli", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "seed" in result.stdout


def test_cli_rejects_unknown_command():
    result = subprocess.run([sys.executable, "-m", "cormorant_lab.cli", "fly"], capture_output=True, text=True)
    assert result.returncode != 0 and "invalid choice" in result.stderr
