"""``benchmarks/gpu_check.sh --small``: the GPU check's CPU path at tiny sizes, so that the script cannot rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_small_mode_writes_its_figures(tmp_path):
    output = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--small", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(output.read_text())
    rows = result["throughput"]
    assert {(r["preset"], r["batch"], r["compiled"]) for r in rows} == {
        (p, b, c) for p in ("qm9", "md17") for b in (2, 4) for c in (False, True)
    }
    assert all(r["steps_per_s"] > 0 for r in rows)
    forms = result["aggregate_forms"]  # the separable aggregate every degree at once and degree by degree
    assert {(r["preset"], r["all_degrees_at_once"]) for r in forms} == {
        (p, a) for p in ("qm9", "md17") for a in (True, False)
    }
    assert all(r["steps_per_s"] > 0 for r in forms)
    kernels = result["kernels_per_step"]  # what one training step launches (here: ATen operations on the CPU)
    assert [r["preset"] for r in kernels] == ["qm9", "md17"]
    assert all(r["counted"] == "leaf non-view ATen operations" and r["kernels"] > 100 for r in kernels), kernels
    epoch = result["qm9_epoch"]
    assert epoch["batch_size"] == 25 and epoch["steps_per_epoch"] == 4 and epoch["epoch_seconds"] > 0
    assert 9 <= epoch["mean_atoms"] <= 29
