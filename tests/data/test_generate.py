"""The MD-17-style generator (``cormorant_lab.data._generate``), with ASE's EMT so that no tblite is needed."""

import numpy as np
import pytest
from ase.build import molecule
from ase.calculators.emt import EMT

from cormorant_lab.data import EV_TO_KCAL_PER_MOL, _generate
from cormorant_lab.data._generate import langevin_trajectory


def _run(seed=0, **kwargs):
    start = molecule("CH3OH")
    options = dict(n_frames=4, save_every=3, n_equilibration=10, rng=np.random.default_rng(seed), calculator=EMT())
    return start, langevin_trajectory(start, **{**options, **kwargs})


def test_layout_units_and_physics():
    start, out = _run()
    assert out["z"].dtype == np.int64 and np.array_equal(out["z"], start.numbers)
    assert out["R"].shape == out["F"].shape == (4, 6, 3) and out["E"].shape == (4,)
    assert np.abs(out["F"].sum(axis=1)).max() < 1e-8  # an isolated molecule: no net force
    assert np.abs(np.diff(out["R"], axis=0)).mean() > 1e-4  # the atoms move
    # energies are the calculator's eV in kcal/mol
    frame = start.copy()
    frame.positions = out["R"][-1]
    frame.calc = EMT()
    assert np.isclose(out["E"][-1], frame.get_potential_energy() * EV_TO_KCAL_PER_MOL, rtol=0, atol=1e-8)
    assert np.allclose(out["F"][-1], frame.get_forces() * EV_TO_KCAL_PER_MOL, rtol=0, atol=1e-8)


def test_reproducible_from_the_seed_and_leaves_the_input_alone():
    start, first = _run(seed=3)
    positions = start.positions.copy()
    _, second = _run(seed=3)
    _, other = _run(seed=4)
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert not np.array_equal(first["R"], other["R"])
    assert np.array_equal(start.positions, positions) and start.calc is None


def test_rejects_bad_lengths():
    with pytest.raises(ValueError, match="n_frames"):
        _run(n_frames=0)


def test_missing_tblite_says_how_to_install(monkeypatch):
    monkeypatch.setattr(_generate, "has_tblite", lambda: False)
    with pytest.raises(ModuleNotFoundError, match=r"datagen"):
        _generate.gfn2xtb_calculator()
