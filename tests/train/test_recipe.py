"""The recipe's pieces: cosine schedule, config checks, standardization, metrics in the paper's units, time budget."""

import numpy as np
import pytest

from cormorant_lab.data import MoleculeDataset
from cormorant_lab.train import TargetUnits, TrainConfig, Trainer, evaluate_model, fit_standardization, load_task


def test_cosine_schedule_closed_form():
    from cormorant_lab.train import cosine_lr

    assert cosine_lr(0, 100, 1e-3, 1e-5) == 1e-3
    assert cosine_lr(50, 100, 1e-3, 1e-5) == pytest.approx((1e-3 + 1e-5) / 2, rel=1e-15)
    assert cosine_lr(100, 100, 1e-3, 1e-5) == pytest.approx(1e-5, rel=1e-12)
    assert cosine_lr(150, 100, 1e-3, 1e-5) == pytest.approx(1e-5, rel=1e-12)


def test_paper_defaults_and_bad_values():
    config = TrainConfig()
    assert (config.batch_size, config.lr_init, config.lr_final, config.amsgrad, config.force_weight) == (
        25,
        1e-3,
        1e-5,
        True,
        0.0,
    )
    for bad in (
        dict(lr_final=1e-2),
        dict(energy_weight=0.0),
        dict(dtype="float16"),
        dict(batch_size=0),
        dict(time_budget=-1),
    ):
        with pytest.raises(ValueError):
            TrainConfig(**bad)
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "momentum": 0.9})


def test_per_species_references_recover_additive_energies():
    rng = np.random.default_rng(0)
    records = []
    for _ in range(30):
        z = rng.choice([1, 6, 8], size=rng.integers(3, 8))
        energy = sum({1: -0.5, 6: -38.0, 8: -75.0}[int(a)] for a in z)
        positions = np.arange(len(z))[:, None] * np.array([1.5, 0.0, 0.0])
        records.append({"charges": z, "positions": positions, "U0": energy + 0.01 * rng.standard_normal()})
    dataset = MoleculeDataset.from_records(records)
    stats = fit_standardization(dataset, "U0", [1, 6, 7, 8], per_species=True)
    np.testing.assert_allclose(np.array(stats.species_reference)[[0, 1, 3]], [-0.5, -38.0, -75.0], atol=0.01)
    assert stats.std < 0.02 and abs(stats.mean) < 0.01


def test_metrics_are_reported_in_the_paper_units(tiny_model):
    model = tiny_model()
    task = load_task("md17", molecule="ethanol", n_train=10, n_valid=5, n_test=5)
    in_kcal = evaluate_model(
        model, task.test, "energy", TargetUnits("energy", "kcal/mol", "kcal/mol", 1.0, "kcal/mol/Å"), forces=True
    )
    in_milli = evaluate_model(
        model, task.test, "energy", TargetUnits("energy", "kcal/mol", "mkcal/mol", 1000.0, "mkcal/mol/Å"), forces=True
    )
    for key in in_kcal:
        assert in_milli[key] == pytest.approx(1000 * in_kcal[key], rel=1e-12)
    # an untrained model predicts ~0 kcal/mol against totals of ~-7100: the MAE is the mean |E|
    assert in_kcal["energy_mae"] == pytest.approx(np.abs(task.test.targets("energy")).mean(), rel=1e-3)
    assert in_kcal["energy_rmse"] >= in_kcal["energy_mae"]


def test_time_budget_stops_and_anneals(task, tiny_model, quick_config, tmp_path):
    rates = []
    trainer = Trainer(
        tiny_model(),
        task.train,
        task.valid,
        quick_config(epochs=10_000, time_budget=2.0, calibration_steps=2),
        units=task.units,
        output_dir=tmp_path,
        callbacks=[lambda e: rates.append(e.lr) if e.kind == "step" else None],
    )
    result = trainer.fit()
    assert result.stop_reason == "time budget" and result.step < 10_000 * 4
    assert rates[-1] < 0.2 * rates[0]  # the shortened horizon let the cosine schedule anneal
    assert (tmp_path / "last.pt").exists()
