"""Checkpoints that are safe to share: no code runs on load, newer formats are named, killed writes are cleaned up,
SIGTERM saves like Ctrl-C, and a resume refuses other data."""

import os
import signal
import stat

import pytest
import torch

from cormorant_lab._atomic import atomic_open, remove_stale_temporaries
from cormorant_lab.cli import main
from cormorant_lab.nn import Cormorant
from cormorant_lab.train import CheckpointError, CormorantCalculator, Trainer, load_model, load_task, read_checkpoint
from cormorant_lab.train._checkpoint import FORMAT, rng_state, set_rng_state
from cormorant_lab.train._state import TrainState


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: the attack the issue describes, made harmless."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def trained(make_trainer, tmp_path):
    trainer = make_trainer(tmp_path / "run", epochs=1)
    trainer.fit()
    return trainer


@pytest.fixture
def make_trainer(task, tiny_model, quick_config):
    def build(out, task=task, callbacks=(), **config):
        return Trainer(
            tiny_model(),
            task.train,
            task.valid,
            quick_config(**config),
            target="energy",
            units=task.units,
            output_dir=out,
            callbacks=callbacks,
            metadata={"task": task.spec},
        )

    return build


def test_a_malicious_checkpoint_is_refused_and_its_payload_never_runs(trained, tmp_path, capsys):
    marker = tmp_path / "payload_ran"
    good = torch.load(trained.last_path, weights_only=True)  # our own files load with weights_only=True
    evil = tmp_path / "evil.pt"
    torch.save({**good, "metadata": {"note": _Payload(marker)}}, evil)
    loaders = [read_checkpoint, load_model, Cormorant.load, CormorantCalculator.from_checkpoint]
    for load in loaders:
        with pytest.raises(CheckpointError, match=r"refused: it holds Python objects .* nothing in it was executed"):
            load(evil)
    assert main(["evaluate", str(evil)]) == 2  # the command line: one line, exit 2
    assert "refused" in capsys.readouterr().err
    os.replace(evil, trained.last_path)
    with pytest.raises(CheckpointError, match="refused"):
        trained.fit(resume=True)
    assert not marker.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"num_channels": 10**6}, r"num_channels = 1000000\) needs at least [0-9,]+ weights \(Σ C_s·C_\(s-1\)"),
        ({"num_channels": [4, 10**5, 4]}, r"needs at least 800,000 weights"),
        ({"num_cg_levels": 10**9}, r"num_cg_levels = 1,000,000,000\) asks for more weights than the"),
        ({"maxl": 1000}, r"maxl = 1000; a checkpoint may ask for degrees up to 12"),
        ({"max_sh": [3, 64]}, r"max_sh = 64"),
        ({"top": "pmlp", "mlp_width": 10**12}, r"mlp_width = 1,000,000,000,000\)"),
        ({"num_targets": 10**9}, r"num_targets = 1,000,000,000\)"),
        ({"basis_set": [10**6, 10**6]}, r"basis_set \(radial functions\) = 1,000,000,000,000\)"),
        ({"species": list(range(1, 10**6))}, r"species = 999,999\)"),
    ],
)
def test_a_configuration_larger_than_its_weights_is_refused_before_building(trained, tmp_path, change, message):
    """A few bytes of configuration must not make the loader allocate gigabytes (or build CG tables of degree 1000)."""
    good = torch.load(trained.last_path, weights_only=True)
    path = tmp_path / "huge.pt"
    torch.save({**good, "model_config": {**good["model_config"], **change}}, path)
    for load in (load_model, Cormorant.load):
        with pytest.raises(CheckpointError, match=message):
            load(path)
    assert load_model(trained.last_path) is not None  # the file it came from still loads


def test_a_newer_format_is_named(tmp_path):
    path = tmp_path / "future.pt"
    torch.save({"format": "cormorant_lab/99", "model_state": {}}, path)
    with pytest.raises(
        CheckpointError,
        match=r"format 'cormorant_lab/99', written by a newer cormorant_lab; this "
        r"version reads cormorant_lab/1, cormorant_lab/2",
    ):
        read_checkpoint(path)
    torch.save({"format": "other_tool/3"}, path)
    with pytest.raises(CheckpointError, match=r"not a cormorant_lab checkpoint \(format 'other_tool/3'"):
        read_checkpoint(path)
    assert FORMAT == "cormorant_lab/2"


def test_training_state_is_typed_and_plain(trained):
    assert isinstance(trained.state, TrainState)
    payload = read_checkpoint(trained.last_path)
    restored = TrainState.from_dict(payload)
    assert restored == trained.state and restored.epoch == 1 and restored.history
    with pytest.raises(ValueError, match="'step' = -3 has the wrong type or sign"):
        TrainState.from_dict({**payload, "step": -3})
    with pytest.raises(ValueError, match="lacks 'history'"):
        TrainState.from_dict({k: v for k, v in payload.items() if k != "history"})


def test_rng_state_round_trips_in_plain_tensors():
    import random

    import numpy as np

    state = rng_state()
    assert all(isinstance(v, (torch.Tensor, int, float, type(None))) for v in state.values())
    expected = (random.random(), np.random.rand(), torch.rand(()).item())
    set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(()).item()) == expected
    with pytest.raises(ValueError, match="malformed random-generator state"):
        set_rng_state({**state, "numpy": "junk"})


def test_atomic_writes_use_the_umask_and_clean_up_after_killed_writers(tmp_path):
    target = tmp_path / "last.pt"
    stale = tmp_path / f".last.pt.{2**22 + 12345}.abc.tmp"  # a pid above Linux's maximum: no such process
    stale.write_bytes(b"half a checkpoint")
    live = tmp_path / f".last.pt.{os.getpid()}.xyz.tmp"  # a writer that is still running keeps its file
    live.write_bytes(b"")
    old = os.umask(0o022)
    try:
        with atomic_open(target) as handle:
            handle.write(b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not stale.exists() and live.exists()
    assert remove_stale_temporaries(target) == []


def test_sigterm_saves_like_ctrl_c(make_trainer, tmp_path):
    def terminate(event):
        if event.kind == "step" and event.step == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    trainer = make_trainer(tmp_path, callbacks=[terminate])
    assert trainer.fit().stop_reason == "interrupted"
    assert read_checkpoint(tmp_path / "last.pt")["step"] == 3
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(molecule="malonaldehyde"), "molecule: checkpoint 'ethanol', this run 'malonaldehyde'"),
        (dict(n_train=30), "n_train: checkpoint 40, this run 30"),
        (dict(split_seed=1), "split_seed: checkpoint 0, this run 1"),
    ],
)
def test_resume_refuses_other_data(trained, make_trainer, change, message):
    spec = {**trained.metadata["task"], **change}
    other = load_task(**{k: v for k, v in spec.items() if k != "dataset"}, dataset=spec["dataset"])
    with pytest.raises(CheckpointError, match="trained on other data") as error:
        make_trainer(trained.output_dir, task=other).fit(resume=True)
    assert message in str(error.value)
