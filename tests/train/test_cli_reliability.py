"""The command line fails early and clearly: every bad argument is one line and exit 2 before any data is loaded,
--help is fast and imports no torch, resume refuses other data, empty splits are errors, not NaN."""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys

import pytest
import torch

import cormorant_lab.train as train_package
from cormorant_lab.cli import main
from cormorant_lab.train import configure_threads, read_checkpoint, save_atomic

TINY = ["--num-cg-levels", "1", "--num-channels", "2", "--maxl", "1", "--max-sh", "1"]
SMALL = [
    "--n-train",
    "20",
    "--n-valid",
    "10",
    "--n-test",
    "10",
    "--batch-size",
    "10",
    "--no-progress",
    "--threads",
    "1",
]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def no_data(monkeypatch):
    """Any attempt to load a dataset fails the test: validation must come first."""

    def forbidden(*args, **kwargs):
        raise AssertionError("data were loaded before the arguments were validated")

    monkeypatch.setattr(train_package, "load_task", forbidden)


def _error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--epochs", "0"], "--epochs 0: must be positive"),
        (["--epochs", "-3"], "--epochs -3: must be positive"),
        (["--batch-size", "0"], "--batch-size 0: must be positive"),
        (["--lr-init", "-1"], "--lr-init -1.0: must be positive"),
        (["--lr-init", "nan"], "--lr-init nan: must be a finite number"),
        (["--lr-final", "0.1"], "--lr-final 0.1 is above --lr-init 0.001"),
        (["--time-budget", "-5"], "--time-budget -5.0: must be positive"),
        (["--n-train", "0"], "--n-train 0: must be positive"),
        (["--n-test", "-1"], "--n-test -1: must be 0 or more"),
        (["--threads", "0"], "--threads 0: must be positive"),
        (["--num-cg-levels", "0"], "--num-cg-levels 0: must be positive"),
        (["--num-channels", "0"], "--num-channels 0: must be positive"),
        (["--maxl", "-1"], "--maxl -1: must be 0 or more"),
        (["--force-weight", "-1"], "--force-weight -1.0: must be 0 or more"),
        (["--force-weight", "inf"], "--force-weight inf: must be a finite number"),
        (["--device", "cuda:99"], "--device cuda:99: "),
        (["--device", "toaster"], "--device 'toaster': not a device name"),
        (["--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
        (["--dataset", "qm10"], "argument --dataset: invalid choice: 'qm10'"),
        (["--molecule", "water"], "--molecule 'water': unknown molecule for source 'bundled'"),
        (["--source", "rmd17", "--molecule", "water"], "known: aspirin, azobenzene"),
        (["--dataset", "qm9", "--target", "U1"], "--target 'U1': unknown QM9 target"),
        (["--target", "U0"], "--target 'U0': MD-17 has one target"),
        (["--compile"], "--compile trains on energies only"),  # MD-17 trains on forces by default
        (["--dataset", "qm9", "--compile", "--force-weight", "1"], "--compile trains on energies only"),
    ],
)
def test_bad_train_arguments_are_one_line_before_any_data(arguments, message, tmp_path, capsys, no_data):
    assert main(["train", "--output", str(tmp_path / "out"), *arguments]) == 2
    err = _error_line(capsys)
    assert err.startswith("cormorant-lab train: error: ") and message in err
    assert not (tmp_path / "out").exists()


def test_unwritable_output_fails_before_training(tmp_path, capsys, no_data):
    (tmp_path / "file").write_text("x")
    for output, message in [
        ("", "--output is empty"),
        (str(tmp_path / "file"), "exists and is not a folder"),
        (str(tmp_path / "file" / "sub"), "is a file, not a folder"),
        ("/proc/cormorant_lab_test/run", "cannot write in /proc"),
    ]:
        assert main(["train", "--output", output]) == 2
        assert message in _error_line(capsys)
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["train", "--output", str(locked / "run")]) == 2
        assert "cannot write in" in _error_line(capsys)


def test_other_commands_validate_first(tmp_path, capsys, no_data, monkeypatch):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    cases = [
        (["evaluate", str(tmp_path / "absent.pt")], "no checkpoint at"),
        (["evaluate", str(checkpoint), "--batch-size", "-1"], "--batch-size -1: must be positive"),
        (["evaluate", str(checkpoint), "--threads", "0"], "--threads 0: must be positive"),
        (["demo", "--time-budget", "0"], "--time-budget 0.0: must be positive"),
        (["demo", "--output", str(checkpoint)], "exists and is not a folder"),
        (["fetch", "md17", "--molecule", "water"], "--molecule 'water': unknown molecule for source 'md17'"),
        (["fetch", "md17", "--source", "bogus"], "--source 'bogus': unknown md17 source; choose one of md17, rmd17"),
        (["fetch", "md17", "--source", "bundled"], "--source 'bundled': unknown md17 source"),
        (["fetch", "qm9", "--source", "bogus"], "choose one of auto, qm9pack, archive"),
        (["fetch", "md17", "--sha256", "abc"], "--sha256 'abc': must be 64 hexadecimal digits"),
    ]
    import cormorant_lab.data as data_package

    monkeypatch.setattr(data_package, "load_md17", lambda *a, **k: pytest.fail("loaded"))
    for arguments, message in cases:
        assert main(arguments) == 2
        err = _error_line(capsys)
        assert message in err and "download=True" not in err


def test_fetch_without_network_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CORMORANT_LAB_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("CORMORANT_LAB_MIRROR", "http://127.0.0.1:9")  # the discard port: connection refused
    assert main(["fetch", "md17", "--molecule", "aspirin"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("cormorant-lab fetch: error: download of md17_aspirin.npz from http://127.0.0.1:9")
    assert "Traceback" not in err and not any((tmp_path / "cache" / "md17").iterdir())


def test_fetch_qm9_prefers_qm9pack(monkeypatch, capsys):
    import cormorant_lab.data as data_package

    calls = []
    monkeypatch.setattr(data_package, "load_qm9", lambda **k: calls.append(k) or ("QM9 dataset", {"source": "qm9pack"}))
    assert main(["fetch", "qm9"]) == 0
    assert calls == [
        {"source": "auto", "download": True}
    ]  # auto: the cache, else qm9pack when installed, else the archive
    assert "source qm9pack" in capsys.readouterr().out


def test_help_is_fast_imports_no_torch_and_shows_defaults():
    code = (
        "import sys, contextlib, io\nfrom cormorant_lab.cli import main\nout = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n    main(['train', '--help'])\n"
        "heavy = [m for m in ('torch', 'numpy', 'ase', 'scipy') if m in sys.modules]\n"
        "print(repr(out.getvalue())); print(heavy)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ROOT, "COLUMNS": "250"},
    )
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    text, heavy = result.stdout.strip().splitlines()
    assert heavy == "[]" and cpu < 1.0, (heavy, cpu)
    assert "(default: 256)" in text and "(default: 0.001)" in text and "``" not in text
    top = subprocess.run(
        [sys.executable, "-m", "cormorant_lab.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    ).stdout
    assert "``" not in top and "train" in top


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_reliability")
    assert main(["train", "--epochs", "1", "--output", str(out), *TINY, *SMALL]) == 0
    return out


@pytest.mark.parametrize(
    "change, message",
    [
        (["--molecule", "malonaldehyde"], "molecule: checkpoint 'ethanol', this run 'malonaldehyde'"),
        (["--n-train", "30"], "n_train: checkpoint 20, this run 30"),
        (["--split-seed", "3"], "split_seed: checkpoint 0, this run 3"),
    ],
)
def test_resume_refuses_another_task(run, change, message, capsys):
    before = read_checkpoint(run / "last.pt")
    arguments = [a for a in SMALL if a not in ("--n-train", "20")] if "--n-train" in change else SMALL
    assert main(["train", "--epochs", "2", "--resume", "--output", str(run), *TINY, *arguments, *change]) == 2
    err = capsys.readouterr().err
    assert "trained on other data" in err and message in err and "Traceback" not in err
    after = read_checkpoint(run / "last.pt")
    assert after["metadata"] == before["metadata"] and after["step"] == before["step"]  # not relabelled


def test_empty_splits_are_reported_not_nan(tmp_path, capsys):
    out = tmp_path / "no_valid"
    small = [a if a not in ("10",) else "10" for a in SMALL]
    args = ["train", "--epochs", "1", "--output", str(out), *TINY, *small, "--n-valid", "0", "--n-test", "0"]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert "no best.pt (no validation set: --n-valid 0)" in stdout and "no test set" in stdout
    assert not (out / "best.pt").exists() and (out / "last.pt").exists()
    for split in ("valid", "test"):
        assert main(["evaluate", str(out / "last.pt"), "--split", split, "--json"]) == 2
        assert f"the {split} split of" in capsys.readouterr().err
    assert main(["evaluate", str(out / "last.pt"), "--split", "train", "--json", "--threads", "1"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert all(math.isfinite(v) for v in metrics.values())


def test_non_finite_predictions_are_an_error_not_nan_json(run, tmp_path, capsys):
    payload = read_checkpoint(run / "best.pt")
    payload["model_state"] = {
        k: (torch.full_like(v, math.nan) if v.is_floating_point() else v) for k, v in payload["model_state"].items()
    }
    save_atomic(payload, tmp_path / "nan.pt")
    assert main(["evaluate", str(tmp_path / "nan.pt"), "--json"]) == 1
    captured = capsys.readouterr()
    assert "not finite" in captured.err and "NaN" not in captured.out


def test_thread_policy(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        assert configure_threads(2) == 2 and torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's choice is respected
        assert configure_threads() == torch.get_num_threads() == 2
        assert os.environ["OMP_WAIT_POLICY"]  # PASSIVE unless the user set a policy
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="threads must be a positive integer"):
                configure_threads(bad)
    finally:
        torch.set_num_threads(before)
