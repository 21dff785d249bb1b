"""Training in a notebook: an interrupt keeps what was learned; figures' log axes frame their data; atom counting."""

import math

import numpy as np
import pytest
import torch

from cormorant_lab.data import MoleculeDataset
from cormorant_lab.nn import Cormorant
from cormorant_lab.train import TrainConfig, Trainer, fit_standardization
from cormorant_lab.tutorial import (
    atom_counting_mae,
    atom_counting_prediction,
    covariance_bar_chart,
    learning_curve_figure,
    log_range,
    notebook_threads,
    power_law_slope,
    train,
)


def _water(n=12, seed=0):
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        positions = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]) + rng.normal(
            scale=0.05, size=(3, 3)
        )
        records.append(
            {"charges": np.array([8, 1, 1]), "positions": positions, "energy": float(np.sum(positions**2)), "index": i}
        )
    return MoleculeDataset.from_records(records)


class InterruptAt:
    """A callback that raises KeyboardInterrupt at a given step: what Kernel › Interrupt does during training."""

    def __init__(self, step):
        self.step, self.armed = step, True

    def __call__(self, event):
        if self.armed and event.kind == "step" and event.step >= self.step:
            self.armed = False
            raise KeyboardInterrupt


def _trainer(tmp_path, callbacks):
    torch.manual_seed(0)
    model = Cormorant.from_preset("md17", num_cg_levels=1, num_channels=2, maxl=1, max_sh=1)
    config = TrainConfig(epochs=2, batch_size=4, progress=False, device="cpu")
    data = _water()
    return Trainer(model, data, data, config, output_dir=tmp_path, callbacks=callbacks)


def test_interrupt_in_the_first_epoch_keeps_the_weights_and_a_rerun_continues(tmp_path, capsys):
    trainer = _trainer(tmp_path, [InterruptAt(2)])
    before = [p.detach().clone() for p in trainer.model.parameters()]
    run = train(trainer)
    assert run.interrupted and run.history == [] and run.train_losses() is None and not run.restored_best
    assert run.steps == 2 and not trainer.best_path.exists()
    assert any(
        not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=False)
    )  # learned something, kept it
    assert "Stopped by you" in run.summary() and "no epoch finished" in run.summary()
    again = train(trainer)  # the learner runs the cell again: it continues, it does not start over
    assert again.stop_reason == "completed" and again.steps == trainer.state.total_steps and again.restored_best
    first, last = again.train_losses()
    assert math.isfinite(first) and math.isfinite(last) and len(again.history) == 2


def test_notebook_threads():
    before = torch.get_num_threads()
    try:
        assert notebook_threads("cpu") == 1
        with pytest.raises(ValueError):
            notebook_threads("cpu", threads=0)
    finally:
        torch.set_num_threads(before)


def test_learning_curve_axes_frame_the_data_and_the_reference():
    """plotly's add_hline put its label at 10^y on log axes (a 1e21 axis for a 0.1–1 eV curve); ours cannot."""
    figure = learning_curve_figure(
        [250, 1000, 4000], [900.0, 600.0, 400.0], unit="meV", target="U0", references={"paper": 11.0}
    )
    low, high = figure.layout.yaxis.range
    assert low <= math.log10(11.0) and high >= math.log10(900.0) and high - low < 3
    assert not figure.layout.annotations and not figure.layout.shapes
    line = figure.data[1]
    assert tuple(line.y) == (11.0, 11.0)
    assert "β ≈ 0.29" in figure.layout.title.text  # ln(900/400) / ln(4000/250) = 0.29
    assert power_law_slope([1], [1]) != power_law_slope([1], [1])  # NaN for one point
    with pytest.raises(ValueError):
        log_range([0.0, -1.0])


def test_covariance_bar_chart_axis_frames_errors_and_tolerance():
    figure = covariance_bar_chart({"identity": [1e-16, 2e-16], "ReLU": [0.0, 0.7]}, tolerance=1e-12)
    low, high = figure.layout.yaxis.range
    assert low <= -17 and -1 <= high <= 1 and not figure.layout.annotations and not figure.layout.shapes
    assert any(tuple(trace.y) == (1e-12, 1e-12) for trace in figure.data if trace.type == "scatter")


def test_atom_counting_matches_an_independent_least_squares_fit():
    rng = np.random.default_rng(1)
    records, true = [], {1: -0.5, 6: -38.0, 8: -75.0}
    for i in range(30):
        charges = rng.choice([1, 6, 8], size=rng.integers(3, 8))
        energy = sum(true[int(z)] for z in charges) + rng.normal(scale=0.01)
        records.append(
            {"charges": charges, "positions": rng.normal(size=(len(charges), 3)) * 2, "U0": energy, "index": i}
        )
    data = MoleculeDataset.from_records(records)
    stats = fit_standardization(data, "U0", [1, 6, 8], per_species=True)
    predicted = atom_counting_prediction(data, stats, [1, 6, 8])
    counts = np.array([[int((r["charges"] == z).sum()) for z in (1, 6, 8)] for r in records], dtype=float)
    y = np.array([r["U0"] for r in records])
    b = np.linalg.lstsq(counts, y, rcond=None)[0]  # the definition: b by least squares, μ the mean of what is left
    assert np.allclose(predicted, counts @ b + (y - counts @ b).mean(), atol=1e-6)
    assert np.allclose(b, [true[1], true[6], true[8]], atol=0.05)
    assert atom_counting_mae(data, stats, [1, 6, 8], "U0", scale=1000) < 20  # meV: the noise level
    with pytest.raises(ValueError, match="species"):
        atom_counting_prediction(data, stats, [1, 6])
