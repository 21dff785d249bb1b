"""Real QM9 without a network: reading the CSV files that the ``qm9pack`` wheel ships.

``qm9pack`` (R. Ramakrishnan, QM9's first author; MIT licence; the data are CC0) carries the
130,831 characterized molecules with geometries and properties as CSV in ``qm9pack/data``. Its
``__init__`` imports ``pkg_resources``, which current setuptools no longer provides, so we never
import the package: :func:`qm9pack_data_dir` finds the folder through the import system's
metadata alone, and the CSV files are read with the standard library (no pandas).

Columns hold the same numbers as the original xyz files, in the same units (Hartree, D, bohr^3,
GHz, ...), with ``E`` instead of ``*^`` exponents.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import DataFormatError, InvalidMoleculeError
from ._qm9_xyz import QM9_PROPERTY_NAMES
from ._validation import atomic_number, check_molecule

QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")

# qm9pack column -> our property name (units unchanged: those of the original files).
QM9PACK_COLUMNS = {
    "RotA_GHz": "A",
    "RotB_GHz": "B",
    "RotC_GHz": "C",
    "Dipole_debye": "mu",
    "Polarizability_bohr3": "alpha",
    "HOMO_au": "homo",
    "LUMO_au": "lumo",
    "HOMO_LUMO_gap_au": "gap",
    "R2_bohr2": "r2",
    "ZPVE_au": "zpve",
    "InternalEnergy_0K_au": "U0",
    "InternalEnergy_298K_au": "U",
    "Enthalphy_298K_au": "H",  # sic, qm9pack's spelling
    "GibbsFreeEnergy_298K_au": "G",
    "Heatcapacity_Cv_cal_mol_K": "Cv",
}
assert sorted(QM9PACK_COLUMNS.values()) == sorted(QM9_PROPERTY_NAMES)


def qm9pack_data_dir() -> Path | None:
    """The ``qm9pack/data`` folder if qm9pack is installed, else None; qm9pack is never imported."""
    if "qm9pack" in sys.modules:  # someone imported it anyway; use its location
        locations = getattr(sys.modules["qm9pack"], "__path__", [])
    else:
        spec = importlib.util.find_spec("qm9pack")
        locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or []:
        data = Path(location) / "data"
        if all((data / name).is_file() for name in QM9PACK_FILES):
            return data
    return None


def _numbers(text: str) -> list[float]:
    return [float(t) for t in text.replace("[", " ").replace("]", " ").replace(",", " ").split()]


def iter_qm9pack_rows(data_dir: str | os.PathLike) -> Iterator[tuple[Path, int, dict[str, str]]]:
    """Yield ``(csv path, line number, raw row)`` for every molecule, in file order."""
    csv.field_size_limit(1 << 24)  # one row holds a whole molecule
    for name in QM9PACK_FILES:
        path = Path(data_dir) / name
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"Index", "Elements", "XYZ_Ang", "Mulliken_pop", *QM9PACK_COLUMNS} - set(reader.fieldnames or ())
            if missing:
                raise DataFormatError(f"missing columns {sorted(missing)}", file=path, line=1)
            for row in reader:
                yield path, reader.line_num, row


def parse_qm9pack_row(row: dict[str, str], *, file: str | os.PathLike, line: int) -> dict[str, Any]:
    """One qm9pack CSV row as a record.

    The record holds ``index``, ``charges`` (atoms,), ``positions`` (atoms, 3) in Å,
    ``mulliken_charges`` (atoms,) and the 15 properties in the files' units.

    Raises :class:`DataFormatError` (malformed row) or :class:`InvalidMoleculeError` (unknown
    element, non-finite coordinate, overlapping atoms), naming the CSV file, molecule and line.
    """
    molecule: Any = row.get("Index")
    try:
        molecule = int(row["Index"])
        symbols = [s.strip().strip("'\"") for s in row["Elements"].strip("[]").split(",")]
        positions = np.array(_numbers(row["XYZ_Ang"]), dtype=np.float64).reshape(len(symbols), 3)
        mulliken = np.array(_numbers(row["Mulliken_pop"]), dtype=np.float64)
        if mulliken.shape != (len(symbols),):
            raise ValueError(f"{len(mulliken)} Mulliken charges for {len(symbols)} atoms")
        record: dict[str, Any] = {"index": molecule}
        for column, prop in QM9PACK_COLUMNS.items():
            record[prop] = float(row[column])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise DataFormatError(f"malformed row ({exc})", file=file, molecule=molecule, line=line) from exc
    for prop in QM9PACK_COLUMNS.values():
        if not np.isfinite(record[prop]):
            raise InvalidMoleculeError(
                f"property {prop} = {record[prop]} is not finite", file=file, molecule=molecule, line=line
            )
    charges = np.empty(len(symbols), dtype=np.int64)
    for atom, symbol in enumerate(symbols):
        try:
            charges[atom] = atomic_number(symbol)
        except KeyError:
            raise InvalidMoleculeError(
                f"unknown element {symbol!r}", file=file, molecule=molecule, line=line, atom=atom
            ) from None
    check_molecule(charges, positions, file=file, molecule=molecule)
    record.update(charges=charges, positions=positions, mulliken_charges=mulliken)
    return record
