"""Exact resume, checkpoints and the stop paths (non-finite loss, Ctrl-C, a crash mid-write)."""

import math

import pytest
import torch

from cormorant_lab.train import CheckpointError, NonFiniteLossError, Trainer, read_checkpoint, save_atomic


def _losses(recorded):
    def callback(event):
        if event.kind == "step":
            recorded.append(float(event.loss))

    return callback


@pytest.fixture
def make(task, tiny_model, quick_config):
    def build(out, callbacks=(), **config):
        return Trainer(
            tiny_model(),
            task.train,
            task.valid,
            quick_config(**config),
            target="energy",
            units=task.units,
            output_dir=out,
            callbacks=callbacks,
        )

    return build


def _parameters(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


class _InterruptAt:
    def __init__(self, kind, step):
        self.kind, self.step, self.fired = kind, step, False

    def __call__(self, event):
        if event.kind == self.kind and event.step == self.step and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop", [("epoch", 4), ("step", 6)], ids=["after-epoch-1", "mid-epoch-2"])
def test_resume_reproduces_the_uninterrupted_run(make, tmp_path, stop):
    reference = []
    full = make(tmp_path / "full", [_losses(reference)])
    assert full.fit().stop_reason == "completed"

    first = []
    interrupted = make(tmp_path / "split", [_losses(first), _InterruptAt(*stop)])
    assert interrupted.fit().stop_reason == "interrupted"  # Ctrl-C saves and returns cleanly
    assert read_checkpoint(tmp_path / "split" / "last.pt")["step"] == stop[1]

    second = []
    resumed = make(tmp_path / "split", [_losses(second)])
    result = resumed.fit(resume=True)
    assert result.stop_reason == "completed" and result.step == 8
    assert first + second == reference  # bit for bit on the CPU
    assert torch.equal(_parameters(resumed.model), _parameters(full.model))
    assert [h["train_loss"] for h in result.history][-1] == full.state.history[-1]["train_loss"]


def test_best_and_last_checkpoints(make, tmp_path):
    trainer = make(tmp_path)
    result = trainer.fit()
    best, last = read_checkpoint(tmp_path / "best.pt"), read_checkpoint(tmp_path / "last.pt")
    assert "optimizer" in last and "optimizer" not in best
    assert best["valid_metrics"]["epoch"] == result.best_epoch
    assert best["valid_metrics"]["valid_loss"] == min(h["valid_loss"] for h in result.history)
    assert last["metadata"]["units"]["unit"] == "kcal/mol"
    assert trainer.restore_best()
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, best["model_state"][name].to(value.device)), name


def test_restore_best_without_a_checkpoint(make, tmp_path):
    assert not make(tmp_path).restore_best()


def test_resume_rejects_another_model(make, task, tiny_model, quick_config, tmp_path):
    make(tmp_path, epochs=1).fit()
    other = Trainer(tiny_model(num_channels=3), task.train, task.valid, quick_config(epochs=1), output_dir=tmp_path)
    with pytest.raises(CheckpointError, match="another configuration"):
        other.fit(resume=True)
    recipe = make(tmp_path, lr_init=2e-3)
    with pytest.raises(CheckpointError, match="lr_init"):
        recipe.fit(resume=True)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(make, tmp_path):
    trainer = make(tmp_path, epochs=3)

    def poison(event):  # after the first epoch's checkpoint, the weights become NaN
        if event.kind == "epoch" and event.epoch == 1:
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(math.nan)

    trainer.callbacks.append(poison)
    with pytest.raises(NonFiniteLossError, match=r"became nan at epoch 1.*last good checkpoint is .*last\.pt"):
        trainer.fit()
    saved = read_checkpoint(tmp_path / "last.pt")
    assert saved["epoch"] == 1 and saved["step"] == 4
    assert all(torch.isfinite(v).all() for v in saved["model_state"].values() if v.is_floating_point())


def test_crash_mid_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_atomic({"format": "cormorant_lab/2", "value": 1}, path)

    def broken_save(obj, handle, *args, **kwargs):
        handle.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_atomic({"format": "cormorant_lab/2", "value": 2}, path)
    monkeypatch.undo()
    assert read_checkpoint(path)["value"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary file left behind


def test_read_checkpoint_rejects_other_files(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a cormorant_lab checkpoint"):
        read_checkpoint(tmp_path / "other.pt")
