"""The training notebooks' helpers: parity plots, predictions over a dataset, the paper's QM9 table, exercises."""

import math

import numpy as np
import pytest
import torch

from cormorant_lab.data import QM9_TARGETS, MoleculeDataset
from cormorant_lab.nn import Cormorant
from cormorant_lab.tutorial import CORMORANT_QM9_MAE, EXERCISES, check_answer, parity_plot, predict_dataset


def _toy_dataset(n=5):
    rng = np.random.default_rng(0)
    records = []
    for i in range(n):
        positions = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]) + rng.normal(
            scale=0.05, size=(3, 3)
        )
        records.append(
            {
                "charges": np.array([8, 1, 1]),
                "positions": positions,
                "energy": float(i),
                "forces": rng.normal(size=(3, 3)),
                "index": i,
            }
        )
    return MoleculeDataset.from_records(records)


def test_parity_plot_reports_the_mae_and_the_diagonal():
    figure = parity_plot([0.0, 1.0, 2.0], torch.tensor([0.5, 1.0, 2.5]), label="energy", unit="meV", scale=1000)
    assert "MAE 333 meV" in figure.layout.title.text
    diagonal, points = figure.data
    assert tuple(diagonal.x) == tuple(diagonal.y) == (0.0, 2500.0)
    assert len(points.x) == 3


def test_parity_plot_subsamples_the_drawing_not_the_mae():
    y = np.arange(100.0)
    figure = parity_plot(y, y + 1, max_points=10)
    assert len(figure.data[1].x) == 10 and "MAE 1 " in figure.layout.title.text + " "


def test_parity_plot_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="differ in size"):
        parity_plot([1.0, 2.0], [1.0])


@pytest.mark.parametrize("forces", [False, True])
def test_predict_dataset_matches_the_model(forces):
    data = _toy_dataset()
    model = Cormorant.from_preset("md17", num_cg_levels=1, num_channels=2, maxl=1, max_sh=1, dtype=torch.float64)
    model.train()
    out = predict_dataset(model, data, "energy", forces=forces, batch_size=2)
    assert model.training  # left as it was
    np.testing.assert_allclose(out["reference"], np.arange(5.0))
    item = data[3]
    with torch.no_grad():
        expected = model.eval()(item["positions"][None], item["charges"][None])
    np.testing.assert_allclose(out["predicted"][3], float(expected[0]), rtol=1e-10)
    if forces:
        assert out["forces_reference"].shape == out["forces_predicted"].shape == (5 * 9,)
        np.testing.assert_allclose(out["forces_reference"][:9], data[0]["forces"].numpy().ravel())
    else:
        assert "forces_predicted" not in out


def test_paper_table_covers_every_qm9_target():
    assert set(CORMORANT_QM9_MAE) == set(QM9_TARGETS)
    assert all(value > 0 for value in CORMORANT_QM9_MAE.values())


def test_learning_exercises_are_registered_and_checkable():
    for name in ("md17_labels_per_frame", "kcal_per_mol_in_ev", "qm9_atomref_u0", "equipartition_kinetic_energy"):
        assert name in EXERCISES
    assert check_answer("md17_labels_per_frame", 28, n_atoms=9, verbose=False)
    assert check_answer("kcal_per_mol_in_ev", 1 / 23.0605, verbose=False)
    # methane: C + 4 H in the U0 column of atomref.txt
    assert check_answer(
        "qm9_atomref_u0", (-37.846772 - 4 * 0.500273) * 27.211386, charges=(6, 1, 1, 1, 1), verbose=False
    )
    kinetic = 0.5 * (3 * 6 - 3) * 8.617333e-5 * 500
    assert check_answer("equipartition_kinetic_energy", kinetic, n_atoms=6, temperature_K=500, verbose=False)
    assert not check_answer(
        "equipartition_kinetic_energy", 1.5 * 6 * 8.617333e-5 * 500, n_atoms=6, temperature_K=500, verbose=False
    )
    assert math.isclose(EXERCISES["kcal_per_mol_in_ev"].expected(), 0.0433641, rel_tol=1e-5)
