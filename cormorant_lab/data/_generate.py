"""Label a molecule the way MD-17 was made: Langevin molecular dynamics at 500 K, energies and forces of each frame.

MD-17 (Chmiela et al., Sci. Adv. 2017) sampled molecules by ab initio molecular dynamics at 500 K. The bundled
trajectories in ``data/`` do the same with GFN2-xTB (Bannwarth, Ehlert & Grimme, JCTC 2019) through tblite's ASE
calculator, driven by ASE's Langevin integrator; ``scripts/generate_md_trajectories.py`` is the command line and
:func:`langevin_trajectory` the reusable part, so a notebook can label any molecule (``ase.Atoms``) with the same code.

The procedure: relax (BFGS), draw Maxwell–Boltzmann velocities at ``temperature_K``, remove centre-of-mass motion and
rotation, fix the centre of mass (``FixCom``), equilibrate for ``n_equilibration`` steps, then save a frame every
``save_every`` steps. Returned arrays follow the MD-17 layout and units (Å, kcal/mol, kcal/mol/Å), ready for
:func:`~cormorant_lab.data.write_md17_npz`. Bit-for-bit reproducible from the ``rng`` with ``OMP_NUM_THREADS=1``
(tblite sums in another order with more threads) and the same tblite and ASE versions.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation
from ase.optimize import BFGS

from ._units import EV_TO_KCAL_PER_MOL

if TYPE_CHECKING:  # type-checked against ASE >= 3.29
    from ase.md.velocitydistribution import thermalize_momenta
else:
    try:  # ASE >= 3.29
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # older ASE: same distribution under its former name
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

        def thermalize_momenta(atoms, temperature_K, *, rng=None):
            MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)


#: The electronic-structure method of the bundled trajectories.
GFN2_XTB = "GFN2-xTB"
#: How to install the semi-empirical calculator (the ``datagen`` extra).
TBLITE_INSTALL = "pip install -e '.[datagen]'   (or: pip install tblite)"


def has_tblite() -> bool:
    """Whether tblite (GFN2-xTB) is importable, without importing it."""
    return importlib.util.find_spec("tblite") is not None


def gfn2xtb_calculator():
    """A fresh GFN2-xTB ASE calculator (eV, eV/Å) from tblite.

    Raises:
        ModuleNotFoundError: tblite is not installed; the message says how to install it.
    """
    if not has_tblite():
        raise ModuleNotFoundError(f"GFN2-xTB labels need tblite: {TBLITE_INSTALL}")
    from tblite.ase import TBLite

    return TBLite(method=GFN2_XTB, verbosity=0)


def langevin_trajectory(
    atoms: Atoms,
    *,
    n_frames: int,
    save_every: int = 10,
    n_equilibration: int = 2000,
    rng: np.random.Generator | None = None,
    temperature_K: float = 500.0,
    timestep_fs: float = 0.5,
    friction_per_fs: float = 0.01,
    calculator: Calculator | None = None,
    relax_fmax: float | None = 0.01,
) -> dict[str, np.ndarray]:
    """Run MD-17-style Langevin dynamics from ``atoms`` and return ``z``, ``R``, ``E``, ``F``.

    Args:
        atoms: the starting molecule (positions in Å); a copy is simulated, ``atoms`` is left unchanged.
        n_frames: frames to save.
        save_every: MD steps between saved frames.
        n_equilibration: MD steps before the first frame.
        rng: the random stream of the velocities and the Langevin noise (default: a fresh unseeded one).
        temperature_K, timestep_fs, friction_per_fs: the thermostat (MD-17: 500 K, 0.5 fs).
        calculator: an ASE calculator in eV and eV/Å (default :func:`gfn2xtb_calculator`).
        relax_fmax: relax with BFGS to this force (eV/Å, at most 500 steps) first; None skips the relaxation.

    Returns:
        ``z`` (atoms,) int64, ``R`` (frames, atoms, 3) Å, ``E`` (frames,) kcal/mol, ``F`` (frames, atoms, 3) kcal/mol/Å,
        with ``F = -∂E/∂R`` of the free molecule (not the constrained force).
    """
    if n_frames < 1 or save_every < 1 or n_equilibration < 0:
        raise ValueError("need n_frames >= 1, save_every >= 1 and n_equilibration >= 0")
    rng = rng if rng is not None else np.random.default_rng()
    atoms = atoms.copy()
    atoms.calc = calculator if calculator is not None else gfn2xtb_calculator()
    if relax_fmax is not None:
        BFGS(atoms, logfile=None).run(fmax=relax_fmax, steps=500)
    thermalize_momenta(atoms, temperature_K, rng=rng)
    Stationary(atoms)
    ZeroRotation(atoms)
    # Keep the centre of mass fixed with a constraint (ASE's recommended replacement for fixcm=True,
    # which does not sample NVT exactly for small molecules).
    atoms.set_constraint(FixCom())
    dyn = Langevin(
        atoms,
        timestep=timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )
    dyn.run(n_equilibration)
    n_atoms = len(atoms)
    R = np.empty((n_frames, n_atoms, 3))
    E = np.empty(n_frames)
    F = np.empty((n_frames, n_atoms, 3))
    for i in range(n_frames):
        dyn.run(save_every)
        R[i] = atoms.get_positions()
        E[i] = atoms.get_potential_energy()
        F[i] = atoms.get_forces(apply_constraint=False)  # the true -dE/dR, not the constrained force
    return {"z": atoms.numbers.astype(np.int64), "R": R, "E": E * EV_TO_KCAL_PER_MOL, "F": F * EV_TO_KCAL_PER_MOL}
