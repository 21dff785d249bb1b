"""The command line: train → evaluate → resume, clear errors for bad arguments, and ``demo --quick`` end to end."""

import json

import pytest
import torch

from cormorant_lab.cli import main
from cormorant_lab.train import read_checkpoint, save_atomic

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


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_run")
    assert main(["train", "--epochs", "1", "--output", str(out), *TINY, *SMALL]) == 0
    return out


def test_train_then_evaluate(trained, capsys):
    assert (trained / "best.pt").exists() and (trained / "last.pt").exists()
    assert main(["evaluate", str(trained / "best.pt"), "--split", "valid", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "valid (10 molecules, md17 ethanol): energy MAE" in lines[0] and "kcal/mol/Å" in lines[0]
    metrics = json.loads(lines[-1])
    best = read_checkpoint(trained / "best.pt")["valid_metrics"]
    assert metrics["energy_mae"] == pytest.approx(best["valid_energy_mae"], rel=1e-5)


def test_resume_from_the_command_line(trained, capsys):
    assert main(["train", "--epochs", "1", "--output", str(trained), *TINY, *SMALL]) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert main(["train", "--epochs", "2", "--resume", "--output", str(trained), *TINY, *SMALL]) == 0
    assert read_checkpoint(trained / "last.pt")["epoch"] == 2


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--molecule", "water"], "--molecule 'water': unknown molecule for source 'bundled'; known: ethanol"),
        (["--dataset", "qm9", "--target", "U1"], "--target 'U1': unknown QM9 target; known: mu, alpha"),
        (["--source", "somewhere"], "--source 'somewhere': unknown md17 source"),
    ],
)
def test_bad_arguments(arguments, message, tmp_path, capsys):
    assert main(["train", "--output", str(tmp_path), *arguments, *SMALL]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_dataset_names_the_fetch_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CORMORANT_LAB_DATA", str(tmp_path / "empty_cache"))
    assert main(["train", "--source", "md17", "--molecule", "aspirin", "--output", str(tmp_path / "out"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "not present" in err and "cormorant-lab fetch md17 --molecule aspirin --source md17" in err


def test_mismatched_checkpoint(trained, tmp_path, capsys):
    payload = read_checkpoint(trained / "best.pt")
    payload["model_config"]["num_channels"] = 3  # the weights are for 2 channels
    save_atomic(payload, tmp_path / "mismatched.pt")
    assert main(["evaluate", str(tmp_path / "mismatched.pt")]) == 2
    assert "do not match the model configuration" in capsys.readouterr().err
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    assert main(["evaluate", str(tmp_path / "foreign.pt")]) == 2
    assert "not a cormorant_lab checkpoint" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "absent.pt")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_demo_quick_end_to_end(capsys):
    assert main(["demo", "--quick", "--time-budget", "6", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "energy MAE" in out and "kcal/mol" in out and "forces MAE" in out and "kcal/mol/Å" in out
    worst = float(out.split("worst covariance error:")[1].split()[0])
    assert worst < 1e-10  # float64 covariance of the trained model


def test_train_compiled_on_energies(tmp_path, capsys, monkeypatch):
    """``--compile`` trains through ``torch.compile(fullgraph=True)``; with forces in the loss it says why it cannot."""
    assert main(["train", "--epochs", "1", "--output", str(tmp_path / "f"), "--compile", *TINY, *SMALL]) == 2
    assert "--force-weight 0" in capsys.readouterr().err
    import torch._dynamo

    monkeypatch.setattr(torch._dynamo.config, "cache_size_limit", 64)
    # aot_eager: the same captured graphs as inductor, without minutes of C++ code generation in CI
    original = torch.nn.Module.compile
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **kw: original(self, **{**kw, "backend": "aot_eager"}))
    out = tmp_path / "c"
    assert (
        main(["train", "--epochs", "1", "--output", str(out), "--compile", "--force-weight", "0", *TINY, *SMALL]) == 0
    )
    assert (out / "best.pt").exists()
    assert read_checkpoint(out / "last.pt")["train_config"]["compile"] is True
