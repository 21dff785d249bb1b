"""The ASE calculator: forces are -dE/dr, units are eV, and a short NVE run conserves energy."""

import numpy as np
import pytest
import torch
from ase import units

try:  # newer ASE renamed it
    from ase.md.velocitydistribution import thermalize_momenta
except ImportError:
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution as thermalize_momenta
from ase.md.verlet import VelocityVerlet

from cormorant_lab.data import to_ase_atoms
from cormorant_lab.train import EV_PER_UNIT, CormorantCalculator, Trainer, load_model, predict


@pytest.fixture(scope="module")
def trained(tmp_path_factory, task):
    """A tiny model trained briefly on bundled ethanol (energies + forces), saved and restored, in float64."""
    from cormorant_lab.nn import Cormorant
    from cormorant_lab.train import TrainConfig, seed_everything

    seed_everything(0)
    model = Cormorant.from_preset("md17", num_cg_levels=1, num_channels=2, maxl=1, max_sh=1)
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(epochs=3, batch_size=10, force_weight=1.0, device="cpu", dtype="float64", progress=False)
    Trainer(model, task.train, task.valid, config, units=task.units, output_dir=out).fit()
    return load_model(out / "best.pt")


def test_load_restores_the_trained_model(trained, task):
    assert trained.metadata["units"]["unit"] == "kcal/mol" and not trained.training
    atoms = to_ase_atoms(task.test[0])
    mean = float(trained.target_mean)
    assert abs(predict(trained, atoms)[0] - mean) < 20  # standardization restored: ~ -7100 kcal/mol, not ~0
    assert mean < -7000


def test_forces_are_minus_the_energy_gradient(trained, task):
    atoms = to_ase_atoms(task.test[0])
    atoms.calc = CormorantCalculator(trained)
    forces = atoms.get_forces()
    step, numeric = 1e-4, np.zeros_like(forces)
    for i in range(len(atoms)):
        for k in range(3):
            shifted = atoms.positions.copy()
            energies = []
            for sign in (1, -1):
                atoms.positions = shifted + sign * step * np.eye(3)[k] * (np.arange(len(atoms)) == i)[:, None]
                energies.append(atoms.get_potential_energy())
            atoms.positions = shifted
            numeric[i, k] = -(energies[0] - energies[1]) / (2 * step)
    assert np.abs(forces).max() > 1e-3  # not trivially zero
    np.testing.assert_allclose(forces, numeric, atol=1e-6 * max(1.0, np.abs(forces).max()))


def test_energy_is_in_ev(trained, task):
    atoms = to_ase_atoms(task.test[0])
    atoms.calc = CormorantCalculator(trained)
    kcal = predict(trained, atoms)[0]
    assert atoms.get_potential_energy() == pytest.approx(kcal * EV_PER_UNIT["kcal/mol"], rel=1e-12)
    with pytest.raises(ValueError, match="energy unit"):
        CormorantCalculator(trained, energy_unit="furlongs")


def test_short_nve_run_conserves_energy(trained, task):
    """Velocity Verlet at 0.25 fs for 200 steps (50 fs) from 300 K.

    Tolerance: for a conservative force field the total energy only fluctuates by the integrator's O(dt²) error,
    far below the exchange between kinetic and potential energy. We require std(E_total) < 0.05 · std(E_pot) and
    a drift |E_total(end) − E_total(0)| < 0.05 · std(E_pot). Non-conservative forces (wrong sign, wrong unit
    factor, forces from another model) break this by orders of magnitude.
    """
    potential, total = nve_run(to_ase_atoms(task.test[0]), CormorantCalculator(trained))
    assert potential.std() > 1e-3  # the molecule moved on the model's surface
    assert conserves_energy(potential, total)


def test_the_nve_criterion_catches_forces_that_are_not_minus_the_gradient(trained, task):
    """The same criterion fails when the forces are 30% too large (e.g. a wrong unit factor)."""
    from ase.calculators.calculator import Calculator, all_changes

    class ScaledForces(Calculator):
        implemented_properties = ["energy", "forces"]

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            self.results = {
                "energy": self.inner.get_potential_energy(self.atoms),
                "forces": 1.3 * self.inner.get_forces(self.atoms),
            }

    potential, total = nve_run(to_ase_atoms(task.test[0]), ScaledForces(CormorantCalculator(trained)))
    assert not conserves_energy(potential, total)


def nve_run(atoms, calculator, steps: int = 200):
    """Potential and total energy (eV) along a velocity-Verlet run at 0.25 fs from 300 K."""
    atoms.calc = calculator
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
    potential, total = [], []

    def record():
        potential.append(atoms.get_potential_energy())
        total.append(potential[-1] + atoms.get_kinetic_energy())

    dynamics = VelocityVerlet(atoms, 0.25 * units.fs)
    dynamics.attach(record, interval=1)
    dynamics.run(steps)
    return np.array(potential), np.array(total)


def conserves_energy(potential: np.ndarray, total: np.ndarray) -> bool:
    return total.std() < 0.05 * potential.std() and abs(total[-1] - total[0]) < 0.05 * potential.std()


def test_calculator_rejects_a_multi_target_model():
    from cormorant_lab.nn import Cormorant

    model = Cormorant.from_preset("md17", num_targets=2, num_cg_levels=1, num_channels=2, maxl=1, max_sh=1)
    with pytest.raises(ValueError, match="single-target"):
        CormorantCalculator(model, energy_unit="eV")


def test_cormorant_load_and_predict_on_ase_atoms(tmp_path):
    from ase.build import molecule

    from cormorant_lab.nn import Cormorant
    from cormorant_lab.train import save_model

    model = Cormorant.from_preset(
        "md17", species=(1, 6, 8), num_cg_levels=1, num_channels=2, maxl=1, max_sh=1, dtype=torch.float64
    )
    model.target_mean.fill_(-3.5)
    path = save_model(model, tmp_path / "model.pt", metadata={"units": "kcal/mol"})
    restored = Cormorant.load(path)
    ethanol = molecule("CH3CH2OH")
    assert restored.metadata == {"units": "kcal/mol"} and restored.species == [1, 6, 8]
    assert np.allclose(restored.predict(ethanol), model.predict(ethanol), rtol=0, atol=1e-12)
    assert restored.predict([ethanol, ethanol]).shape == (2,)
