"""Your own data: energies (and forces) of molecules from any extended-XYZ file, ASE database or MD-17-style npz.

The formats the field exchanges, and the keys each tool writes by default:

* **extended XYZ** (``.xyz``, ``.extxyz``): MACE writes ``REF_energy`` in the comment line and ``REF_forces``
  as a per-atom column; NequIP and ASE write ``energy`` and ``forces`` (ASE moves those two into a
  ``SinglePointCalculator`` when it reads the file; both places are searched).
* **ASE database** (``.db``, ``.json``): energies and forces of each row's calculator, or any key of its
  ``key_value_pairs`` (energies) and ``data`` (per-atom arrays).
* **npz** in the MD-17 layout (``E``, ``F``, ``R``, ``z``; also NequIP's examples) or the rMD17 release's
  (``energies``, ``forces``, ``coords``, ``nuclear_charges``); see :func:`read_md17_npz`.

Units are never guessed: ASE labels every energy it reads as eV whatever the file holds, so ``energy_unit``
is required and the numbers are kept in it (forces in ``energy_unit`` per Å). Positions are converted from
``length_unit`` to Å, forces from per-``length_unit`` to per-Å. Only these formats are read: none of them can
execute code (npz files are read without pickles).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._ase_interop import ENERGY_UNITS_IN_EV
from ._dataset import MoleculeDataset
from ._errors import DataFormatError, InvalidMoleculeError
from ._md17 import invalid_frames, read_md17_npz
from ._units import BOHR_TO_ANGSTROM
from ._validation import check_molecule

#: Length units ``load_dataset`` converts from, in Å.
LENGTH_UNITS_IN_ANGSTROM = {"Å": 1.0, "Angstrom": 1.0, "A": 1.0, "bohr": BOHR_TO_ANGSTROM, "nm": 10.0}
#: Energy units ``load_dataset`` accepts (the numbers are kept in the unit given).
ENERGY_UNITS = tuple(ENERGY_UNITS_IN_EV)
#: File formats by suffix (ASE format names, plus npz).
FORMATS = {".xyz": "extxyz", ".extxyz": "extxyz", ".db": "db", ".json": "db", ".npz": "npz"}


def _check_units(energy_unit: str, length_unit: str) -> float:
    if energy_unit not in ENERGY_UNITS_IN_EV:
        raise ValueError(f"unknown energy_unit {energy_unit!r}; choose one of {', '.join(ENERGY_UNITS)}")
    if length_unit not in LENGTH_UNITS_IN_ANGSTROM:
        raise ValueError(f"unknown length_unit {length_unit!r}; choose one of {', '.join(LENGTH_UNITS_IN_ANGSTROM)}")
    return LENGTH_UNITS_IN_ANGSTROM[length_unit]


def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in set(FORMATS.values()):
            raise ValueError(f"unsupported format {format!r}; choose one of {', '.join(sorted(set(FORMATS.values())))}")
        return format
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise DataFormatError(
            f"cannot tell the format from the suffix {path.suffix!r}; known suffixes: {', '.join(FORMATS)} "
            "(or pass format='extxyz', 'db' or 'npz')",
            file=path,
        ) from None


def _read_frames(path: Path, format: str) -> list[Any]:
    """``ase.Atoms`` frames; for a database, with ``key_value_pairs`` in ``info`` and ``data`` arrays in ``arrays``."""
    import ase.db
    import ase.io

    if format == "db":
        frames = []
        with ase.db.connect(path) as database:
            for row in database.select():
                atoms = row.toatoms()
                atoms.info.update(row.key_value_pairs)
                for key, value in row.get("data", {}).items():
                    value = np.asarray(value)
                    if value.ndim >= 1 and value.shape[0] == len(atoms) and np.issubdtype(value.dtype, np.number):
                        atoms.arrays[key] = value
                frames.append(atoms)
        return frames
    try:
        read = ase.io.read(path, index=":", format=format)
    except FileNotFoundError:
        raise
    except Exception as exc:  # ASE raises many types for a malformed file
        raise DataFormatError(f"ASE cannot read it as {format} ({type(exc).__name__}: {exc})", file=path) from exc
    return read if isinstance(read, list) else [read]


def _lookup(atoms: Any, key: str, per_atom: bool) -> np.ndarray | None:
    """``key`` from the frame's ``arrays`` (per atom) or ``info``, else from its stored calculator results."""
    store = atoms.arrays if per_atom else atoms.info
    if key in store:
        return np.asarray(store[key], dtype=np.float64)
    results = getattr(atoms.calc, "results", None) or {}
    if key in results:
        return np.asarray(results[key], dtype=np.float64)
    return None


def _available_keys(atoms: Any) -> str:
    results = sorted(getattr(atoms.calc, "results", None) or {})
    return (
        f"per-molecule keys {sorted(k for k in atoms.info if not isinstance(atoms.info[k], str))}, "
        f"per-atom keys {sorted(k for k in atoms.arrays if k not in ('numbers', 'positions'))}, "
        f"calculator results {results}"
    )


def _frames_to_arrays(frames: list[Any], path: Path, energy_key: str, forces_key: str | None):
    """Per-frame charges, positions (file units), energies and forces (None where the file has none)."""
    if not frames:
        raise DataFormatError("the file holds no structures", file=path)
    charges, positions, energies, forces = [], [], [], []
    for i, atoms in enumerate(frames):
        energy = _lookup(atoms, energy_key, per_atom=False)
        if energy is None or energy.size != 1:
            raise DataFormatError(
                f"no scalar energy under the key {energy_key!r}; this structure has {_available_keys(atoms)} "
                "(MACE files use --energy-key REF_energy --forces-key REF_forces)",
                file=path,
                molecule=i,
            )
        force = None if forces_key is None else _lookup(atoms, forces_key, per_atom=True)
        if force is not None and force.shape != (len(atoms), 3):
            raise DataFormatError(
                f"{forces_key!r} has shape {force.shape}, expected ({len(atoms)}, 3)", file=path, molecule=i
            )
        charges.append(atoms.numbers.astype(np.int64))
        positions.append(np.asarray(atoms.positions, dtype=np.float64))
        energies.append(float(energy.reshape(())))
        forces.append(force)
    return charges, positions, np.asarray(energies), forces


def load_dataset(
    path: str | os.PathLike,
    *,
    energy_unit: str,
    energy_key: str = "energy",
    forces_key: str | None = "forces",
    length_unit: str = "Å",
    format: str | None = None,
    on_invalid: str = "raise",
    dtype: torch.dtype = torch.float64,
) -> tuple[MoleculeDataset, dict[str, Any]]:
    """Load energies (and forces) of the structures in a file as a dataset, in the units you state.

    Args:
        path: an extended-XYZ file, an ASE database or an npz in the MD-17 / rMD17 layout.
        energy_unit: the unit of the file's energies (``"eV"``, ``"kcal/mol"``, ``"meV"``, ``"Hartree"``);
            required, because no file format records it. The dataset keeps this unit; forces are per Å.
        energy_key: where each structure's energy is (``atoms.info`` or the stored calculator results);
            MACE writes ``"REF_energy"``. Ignored for npz.
        forces_key: where the forces are (``atoms.arrays`` or the calculator results); MACE writes
            ``"REF_forces"``. ``None`` loads energies only. If the key is found in no structure the dataset
            has no forces; if only in some, that is an error. Ignored for npz (whose layouts have forces).
        length_unit: unit of the positions in the file (``"Å"``, ``"bohr"``, ``"nm"``).
        format: ``"extxyz"``, ``"db"`` or ``"npz"`` (default: from the suffix).
        on_invalid: ``"raise"`` on the first unusable structure (unknown element, non-finite value, atoms
            closer than 0.1 Å), or ``"skip"`` such structures (counted in ``metadata["skipped"]``, warned about).
        dtype: floating dtype of the returned tensors.

    Returns:
        ``(dataset, metadata)``. Items hold ``charges`` (atoms,), ``positions`` (atoms, 3) Å, ``energy`` ()
        in ``energy_unit``, ``forces`` (atoms, 3) in ``energy_unit``/Å when present and ``index`` (the
        structure's position in the file). ``metadata`` holds ``units``, ``file``, ``format``, the keys,
        ``n_frames``, ``skipped``, ``has_forces`` and ``n_compositions`` (distinct chemical formulas).

    Raises:
        ValueError: for an unknown unit, format or ``on_invalid``.
        DataFormatError: naming the file and structure, for a file that cannot be read or lacks the keys.
        InvalidMoleculeError: for an unusable structure with ``on_invalid="raise"``.
    """
    path = Path(path)
    to_angstrom = _check_units(energy_unit, length_unit)
    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid must be 'raise' or 'skip', not {on_invalid!r}")
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    kind = _format_of(path, format)
    if kind == "npz":
        data = read_md17_npz(path)
        z, R, E, F = data["z"], data["R"], data["E"], data["F"]
        charges, positions, energies = [z] * len(R), list(R), E
        forces: list[np.ndarray | None] = list(F)
        energy_key, forces_key = "E/energies", "F/forces"
    else:
        charges, positions, energies, forces = _frames_to_arrays(_read_frames(path, kind), path, energy_key, forces_key)
    found = [f is not None for f in forces]
    if any(found) and not all(found):
        missing = found.index(False)
        raise DataFormatError(
            f"structure {missing} has no forces under {forces_key!r} but structure {found.index(True)} has",
            file=path,
            molecule=missing,
        )
    has_forces = all(found)
    positions = [r * to_angstrom for r in positions]
    bad = np.zeros(len(charges), dtype=bool)
    reason = None
    for i, (z, r) in enumerate(zip(charges, positions, strict=True)):
        problem = None
        try:
            check_molecule(z, r, file=path, molecule=i)
        except InvalidMoleculeError as exc:
            problem = exc
        if problem is None:
            force = forces[i]
            _, reasons = invalid_frames(z, r[None], None if force is None else force[None], energies[i : i + 1])
            if reasons:
                problem = InvalidMoleculeError(reasons[0].replace("frame 0", f"structure {i}"), file=path, molecule=i)
        if problem is not None:
            if on_invalid == "raise":
                raise InvalidMoleculeError(f"{problem} (pass on_invalid='skip' to drop such structures)") from problem
            bad[i] = True
            reason = reason or str(problem)
    if bad.any():
        warnings.warn(f"{path}: skipped {int(bad.sum())} invalid structures; first: {reason}", stacklevel=2)
    keep = np.flatnonzero(~bad)
    if keep.size == 0:
        raise InvalidMoleculeError("no usable structure in the file", file=path)
    force_unit = f"{energy_unit}/Å"
    formulas = {tuple(np.sort(charges[i])) for i in keep}
    metadata: dict[str, Any] = dict(
        name=path.stem,
        source="file",
        file=str(path.resolve()),
        format=kind,
        energy_key=energy_key,
        forces_key=forces_key if has_forces else None,
        length_unit=length_unit,
        units={"energy": energy_unit, "forces": force_unit, "positions": "Å"},
        n_frames=int(keep.size),
        skipped=int(bad.sum()),
        has_forces=has_forces,
        n_compositions=len(formulas),
    )
    atom_properties = {}
    if has_forces:
        atom_properties["forces"] = np.concatenate([forces[i] / to_angstrom for i in keep])  # type: ignore[operator]
    dataset = MoleculeDataset(
        np.array([len(charges[i]) for i in keep]),
        np.concatenate([charges[i] for i in keep]),
        np.concatenate([positions[i] for i in keep]),
        {"energy": np.asarray(energies, dtype=np.float64)[keep]},
        atom_properties,
        index=keep,
        metadata=metadata,
        dtype=dtype,
    )
    return dataset, metadata


def split_sizes(
    n_items: int,
    n_train: int | float | None = None,
    n_valid: int | float | None = None,
    n_test: int | float | None = None,
    *,
    default_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> tuple[int, int, int]:
    """Split sizes from counts (``int``) or fractions of ``n_items`` (``float`` in (0, 1]); ``None`` takes the
    default fraction. Fractions round down, so the sizes never exceed ``n_items``:
    ``split_sizes(1000, 0.8, 0.1, 100) == (800, 100, 100)``.
    """
    sizes = []
    for name, value, default in zip(
        ("n_train", "n_valid", "n_test"), (n_train, n_valid, n_test), default_fractions, strict=True
    ):
        value = default if value is None else value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a count or a fraction, not {value!r}")
        if isinstance(value, (float, np.floating)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} = {value} is a fraction outside [0, 1] (give a whole number for a count)")
            value = int(np.floor(value * n_items + 1e-9))
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
        sizes.append(int(value))
    if sum(sizes) > n_items:
        raise ValueError(f"n_train + n_valid + n_test = {sum(sizes)} exceeds the {n_items} structures available")
    return sizes[0], sizes[1], sizes[2]
