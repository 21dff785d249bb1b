r"""Exercises of the training notebooks (05, 06, 08), registered into :data:`~cormorant_lab.tutorial.EXERCISES`.

As in ``_exercises``, each expected answer is computed from the package's own constants (units, atom references),
so a change there that would make a notebook's claim wrong fails the notebook in CI.
"""

from __future__ import annotations

from ase import units as ase_units

from ..data import HARTREE_TO_EV, QM9_ATOMREF_HARTREE
from ..train import EV_PER_UNIT
from ._exercises import Exercise


def _atomref_u0_ev(charges: tuple[int, ...]) -> float:
    return sum(QM9_ATOMREF_HARTREE[int(z)][1] for z in charges) * HARTREE_TO_EV


def _kinetic_energy_ev(n_atoms: int, temperature_K: float) -> float:
    return 0.5 * (3 * n_atoms - 3) * ase_units.kB * temperature_K  # FixCom removes 3 degrees of freedom


def _molecules_to_halve(n: float, beta: float) -> float:
    """MAE ∝ n^-β: the training-set size at which the error is half of its value at n."""
    if beta <= 0:
        raise ValueError(f"a learning curve that improves with data has β > 0, got {beta}")
    return float(n) * 2.0 ** (1.0 / float(beta))


def _md_steps(n_frames: int, save_every: int, n_equilibration: int) -> int:
    return int(n_equilibration) + int(n_frames) * int(save_every)


LEARNING_EXERCISES: dict[str, Exercise] = {
    "md17_labels_per_frame": Exercise(
        "How many numbers does one MD-17 frame of a molecule with n_atoms atoms give the loss (energy and forces)?",
        "One energy, and a force vector (3 numbers) on every atom.",
        lambda n_atoms: 3 * int(n_atoms) + 1,
        why="one energy plus a 3-vector of force on each atom: 3N + 1 labels, against one for an energy-only loss.",
        example={"n_atoms": 9},
        solution="""\
# One energy, and a force 3-vector on each of the n_atoms atoms.
answer = 1 + 3 * n_atoms
""",
    ),
    "kcal_per_mol_in_ev": Exercise(
        "ASE works in eV: how many eV is 1 kcal/mol (the MD-17 energy unit)?",
        "1 eV ≈ 23.06 kcal/mol.",
        lambda: EV_PER_UNIT["kcal/mol"],
        tolerance=1e-4,
        why="1 eV = 23.0605 kcal/mol, so the calculator multiplies kcal/mol by 1/23.0605 ≈ 0.04336.",
        solution="""\
# 1 eV = 23.0605 kcal/mol (1 eV × N_A = 96.485 kJ/mol, / 4.184 kJ/kcal).
answer = 1 / 23.0605478
""",
    ),
    "qm9_atomref_u0": Exercise(
        "The QM9 U0 target subtracts the free atoms' U0. What is Σ_atoms U0_ref (in eV) for the given atomic numbers?",
        "Sum QM9_ATOMREF_HARTREE[z][1] (the U0 column, Hartree) over the atoms, then Hartree → eV (×27.211).",
        lambda charges: _atomref_u0_ev(tuple(charges)),
        tolerance=1e-3,
        why="the free atoms' U0 (Hartree), summed over the molecule and converted with 1 Hartree = 27.2114 eV.",
        example={"charges": (6, 1, 1, 1, 1)},
        solution="""\
# Add the U0 column (index 1) of the free atoms, then convert Hartree → eV.
from cormorant_lab.data import HARTREE_TO_EV, QM9_ATOMREF_HARTREE
answer = sum(QM9_ATOMREF_HARTREE[z][1] for z in charges) * HARTREE_TO_EV
""",
    ),
    "equipartition_kinetic_energy": Exercise(
        "Mean kinetic energy (eV) of a molecule of n_atoms atoms at temperature_K, centre of mass fixed?",
        "Equipartition: k_B T / 2 per degree of freedom; 3N of them, minus the 3 the FixCom constraint removes.",
        lambda n_atoms, temperature_K: _kinetic_energy_ev(int(n_atoms), float(temperature_K)),
        tolerance=1e-3,
        why="k_B T / 2 for each of the 3N − 3 degrees of freedom left when the centre of mass is fixed.",
        example={"n_atoms": 6, "temperature_K": 500},
        solution="""\
# Equipartition: k_B T / 2 per quadratic degree of freedom; 3N of them minus the 3 that FixCom removes.
k_B = 8.617333262e-5  # eV/K
answer = 0.5 * (3 * n_atoms - 3) * k_B * temperature_K
""",
    ),
    "molecules_to_halve_error": Exercise(
        "The learning curve is MAE(n) = a n^(−β). How many training molecules halve the error reached with n molecules?",
        "Solve a m^(−β) = a n^(−β) / 2 for m.",
        lambda n, beta: _molecules_to_halve(n, beta),
        tolerance=1e-6,
        why="m^(−β) = n^(−β)/2 gives m = n · 2^(1/β): with β = 0.5, four times the data halves the error.",
        example={"n": 1000, "beta": 0.5},
        solution="""\
# a m^(-β) = a n^(-β) / 2  ⇔  (m / n)^β = 2  ⇔  m = n · 2^(1/β)
answer = n * 2 ** (1 / beta)
""",
    ),
    "md_steps_for_frames": Exercise(
        "How many MD steps (energy and force evaluations) does the generator take for n_frames frames saved every "
        "save_every steps after n_equilibration steps of equilibration?",
        "Equilibration first, then save_every steps for each saved frame.",
        lambda n_frames, save_every, n_equilibration: _md_steps(n_frames, save_every, n_equilibration),
        why="n_equilibration + n_frames × save_every: spacing the frames costs steps, and buys less correlated data.",
        example={"n_frames": 60, "save_every": 5, "n_equilibration": 200},
        solution="""\
# equilibration, then save_every steps per saved frame
answer = n_equilibration + n_frames * save_every
""",
    ),
}
