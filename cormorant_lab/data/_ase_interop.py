"""Conversion between molecule records and ``ase.Atoms``, so any file ASE reads can become a dataset.

ASE's conventions are eV and eV/Å for a calculator's energy and forces; records carry whatever
unit their dataset documents (kcal/mol for MD-17). Pass ``energy_unit`` to convert between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from ._units import EV_TO_KCAL_PER_MOL, HARTREE_TO_EV
from ._validation import check_molecule

#: How many eV one unit is, for the energy units records use.
ENERGY_UNITS_IN_EV = {"eV": 1.0, "meV": 1e-3, "kcal/mol": 1.0 / EV_TO_KCAL_PER_MOL, "Hartree": HARTREE_TO_EV}
_STRUCTURE_KEYS = ("charges", "positions", "atom_mask", "n_atoms")


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _eV_per(unit: str) -> float:
    try:
        return ENERGY_UNITS_IN_EV[unit]
    except KeyError:
        raise ValueError(f"unknown energy unit {unit!r}; known: {sorted(ENERGY_UNITS_IN_EV)}") from None


def to_ase_atoms(record: Mapping[str, Any], *, energy_unit: str | None = None) -> Atoms:
    """Turn one molecule record (a dataset item) into ``ase.Atoms``.

    Padding atoms (charge 0) are dropped. Scalars go to ``atoms.info`` and per-atom arrays to
    ``atoms.arrays``, unchanged. If ``energy_unit`` names the unit of the record's ``energy`` and
    ``forces`` (e.g. ``"kcal/mol"``), they are also attached as a SinglePointCalculator in eV and
    eV/Å, so ``atoms.get_potential_energy()`` works as in the rest of ASE.
    """
    charges = _numpy(record["charges"]).astype(np.int64)
    real = charges > 0
    atoms = Atoms(numbers=charges[real], positions=_numpy(record["positions"])[real].astype(np.float64))
    n = len(charges)
    for key, value in record.items():
        if key in _STRUCTURE_KEYS:
            continue
        if not isinstance(value, (torch.Tensor, np.ndarray, int, float, np.number)):
            atoms.info[key] = value
            continue
        value = _numpy(value)
        if value.ndim == 0:
            atoms.info[key] = value.item()
        elif value.shape[0] == n:
            atoms.arrays[key] = value[real].copy()
        else:
            atoms.info[key] = value.copy()
    if energy_unit is not None and "energy" in record:
        scale = _eV_per(energy_unit)
        forces = _numpy(record["forces"])[real] * scale if "forces" in record else None
        atoms.calc = SinglePointCalculator(atoms, energy=float(_numpy(record["energy"])) * scale, forces=forces)
    return atoms


def from_ase_atoms(
    atoms: Atoms, *, energy_unit: str | None = None, calc_energy_unit: str | None = None, validate: bool = True
) -> dict[str, Any]:
    """Turn ``ase.Atoms`` into a molecule record: ``charges`` (atoms,) int64, ``positions`` (atoms, 3) float64 Å.

    Numeric ``atoms.info`` entries become scalar entries and extra ``atoms.arrays`` per-atom
    entries. If ``energy_unit`` is given and the atoms carry a calculator with results, its
    energy and forces are added as ``energy`` and ``forces`` in ``energy_unit`` (forces per Å).
    The molecule is checked (known elements, finite positions, no atoms closer than 0.1 Å).

    ``calc_energy_unit`` is the unit the calculator's numbers are really in. A live ASE calculator
    works in eV (the default for it). Stored results (a ``SinglePointCalculator``, which is what
    ``ase.io.read`` attaches to every frame of a file) carry whatever unit the file holds, although
    ASE labels them eV: an XYZ in kcal/mol would be multiplied by 23.06 if taken for eV. So for
    stored results ``calc_energy_unit`` must be given (``"kcal/mol"`` for such a file, ``"eV"`` for
    results that really are eV, such as those :func:`to_ase_atoms` attaches).

    Raises:
        ValueError: for an unknown unit, or stored results without ``calc_energy_unit``.
    """
    record: dict[str, Any] = {
        "charges": torch.as_tensor(atoms.numbers.astype(np.int64)),
        "positions": torch.as_tensor(atoms.positions.astype(np.float64)),
    }
    if validate:
        check_molecule(record["charges"].numpy(), record["positions"].numpy(), molecule=atoms.get_chemical_formula())
    for key, value in atoms.info.items():
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            record[key] = torch.as_tensor(value)
    for key, value in atoms.arrays.items():
        if key not in ("numbers", "positions") and np.issubdtype(value.dtype, np.number):
            record[key] = torch.as_tensor(value.copy())
    if energy_unit is not None and atoms.calc is not None:
        target = _eV_per(energy_unit)
        if calc_energy_unit is None:
            if isinstance(atoms.calc, SinglePointCalculator):
                raise ValueError(
                    f"{atoms.get_chemical_formula()}: the energies stored on these atoms (a SinglePointCalculator, "
                    "as ase.io.read attaches) are in whatever unit their file holds, though ASE labels them eV; "
                    "say which with calc_energy_unit= (e.g. 'kcal/mol' or 'eV')"
                )
            calc_energy_unit = "eV"
        scale = _eV_per(calc_energy_unit) / target
        results = atoms.calc.results
        if "energy" in results:
            record["energy"] = torch.tensor(float(results["energy"]) * scale, dtype=torch.float64)
        if "forces" in results:
            record["forces"] = torch.as_tensor(np.asarray(results["forces"], dtype=np.float64) * scale)
    return record
