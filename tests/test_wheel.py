"""The wheel works outside the checkout: build it, install it into a fresh venv elsewhere, run the demo there.

The fresh venv reuses the dependencies (torch, numpy, ase, ...) of the interpreter running the tests through a
``.pth`` line instead of downloading them; that line adds the folder to ``sys.path`` without running the
``.pth`` files in it, so the test interpreter's own (editable) cormorant_lab stays out of the way, and the test
asserts that the package imported is the one installed from the wheel. No network: ``pip --no-index``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import cormorant_lab

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "cormorant_lab"]


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, clean_env) -> Path:
    if importlib.util.find_spec("setuptools") is None:
        pytest.fail("building the wheel needs setuptools (>= 70.1) in the test environment")
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    out = tmp_path_factory.mktemp("dist")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        cwd=out,
        env=clean_env,
    )
    (built,) = out.glob("cormorant_lab-*.whl")
    return built


def test_wheel_contents(wheel):
    assert wheel.name.startswith(f"cormorant_lab-{cormorant_lab.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for molecule in ("ethanol", "malonaldehyde", "uracil", "aspirin"):
        assert f"cormorant_lab/data/bundled/gfn2xtb_{molecule}.npz" in names
    assert "cormorant_lab/py.typed" in names
    assert "cormorant_lab/nn/reference/data/reference_fixture.npz" in names  # notebook 04's offline check
    assert not any(name.startswith(("tests/", "notebooks/", "benchmarks/")) for name in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {cormorant_lab.__version__}" in text and "License :: OSI Approved :: MIT License" in text


def test_demo_runs_from_a_fresh_venv_outside_the_checkout(wheel, tmp_path, clean_env):
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, clean_env).strip()
    )
    (site / "reuse_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)],
        tmp_path,
        clean_env,
    )

    where = _run(
        [str(python), "-c", "import cormorant_lab; print(cormorant_lab.__file__)"], tmp_path, clean_env
    ).strip()
    assert Path(where).is_relative_to(target) and not Path(where).is_relative_to(ROOT)
    output = _run(
        [str(target / "bin" / "cormorant-lab"), "demo", "--quick", "--time-budget", "2", "--no-progress"],
        tmp_path,
        clean_env,
    )
    assert "bundled GFN2-xTB ethanol" in output and "kcal/mol/Å" in output and "worst covariance error" in output
    # the golden fixture is package data: the reference mode's offline check runs from the installed wheel
    check = "from cormorant_lab.tutorial import fixture_check; print(fixture_check('md17')['relative_difference'])"
    assert float(_run([str(python), "-c", check], tmp_path, clean_env)) <= 1e-10
