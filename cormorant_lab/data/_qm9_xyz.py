"""Parser for one file of the original QM9 archive (``dsgdb9nsd_NNNNNN.xyz``), exactly as published.

Layout (Ramakrishnan et al., Sci. Data 1, 140022 (2014), Table 2), for a molecule of n atoms:

=========  ===============================================================================
line 1     n
line 2     ``gdb`` tag, index, then A, B, C (GHz), mu (D), alpha (bohr^3), homo, lumo, gap
           (Hartree), r2 (bohr^2), zpve, U0, U, H, G (Hartree), Cv (cal/(mol K)); tab-separated
lines 3..  element symbol, x, y, z (Å), Mulliken charge (e); one line per atom
line n+3   harmonic frequencies (cm^-1)
line n+4   SMILES from GDB-17, SMILES of the relaxed geometry
line n+5   InChI from GDB-17, InChI of the relaxed geometry
=========  ===============================================================================

Numbers may use Mathematica's exponent notation ``1.2*^-5`` (= 1.2e-5); 176 coordinates of the
archive do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import DataFormatError, InvalidMoleculeError
from ._validation import atomic_number, check_molecule

#: The 15 properties of the second line, in file order, under the names the issue and paper use.
QM9_PROPERTY_NAMES = ("A", "B", "C", "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "Cv")

#: Units of the properties as stored in the original files (and in qm9pack's CSV).
QM9_FILE_UNITS = {
    "A": "GHz",
    "B": "GHz",
    "C": "GHz",
    "mu": "D",
    "alpha": "bohr^3",
    "homo": "Hartree",
    "lumo": "Hartree",
    "gap": "Hartree",
    "r2": "bohr^2",
    "zpve": "Hartree",
    "U0": "Hartree",
    "U": "Hartree",
    "H": "Hartree",
    "G": "Hartree",
    "Cv": "cal/(mol K)",
}


def parse_qm9_number(token: str) -> float:
    """Parse a QM9 number, accepting the ``*^`` exponent notation (``"2.1997*^-6"`` -> 2.1997e-6)."""
    return float(token.replace("*^", "e"))


def parse_qm9_xyz(text: str, *, file: str | os.PathLike = "<string>") -> dict[str, Any]:
    """Parse the text of one QM9 xyz file; see :func:`read_qm9_xyz` for the returned record."""
    lines = text.splitlines()
    molecule: int | str | None = None

    def fail(message: str, line: int | None = None, atom: int | None = None) -> DataFormatError:
        return DataFormatError(message, file=file, molecule=molecule, line=line, atom=atom)

    if not lines or not lines[0].strip():
        raise fail("empty file; expected the atom count on line 1", line=1)
    try:
        n_atoms = int(lines[0].split()[0])
    except ValueError:
        raise fail(f"expected the atom count, found {lines[0].strip()[:40]!r}", line=1) from None
    if n_atoms < 1:
        raise fail(f"atom count {n_atoms} must be positive", line=1)
    if len(lines) < 2:
        raise fail("file ends before the property line", line=2)
    props = lines[1].split()
    if len(props) != 2 + len(QM9_PROPERTY_NAMES) or props[0] != "gdb":
        raise fail(
            f"property line must be 'gdb', index and {len(QM9_PROPERTY_NAMES)} numbers; found {len(props)} fields",
            line=2,
        )
    try:
        molecule = int(props[1])
    except ValueError:
        raise fail(f"molecule index {props[1]!r} is not an integer", line=2) from None
    record: dict[str, Any] = {"index": molecule}
    for name, token in zip(QM9_PROPERTY_NAMES, props[2:], strict=True):
        try:
            record[name] = parse_qm9_number(token)
        except ValueError:
            raise fail(f"property {name} = {token!r} is not a number", line=2) from None
        if not np.isfinite(record[name]):
            raise InvalidMoleculeError(
                f"property {name} = {token!r} is not finite", file=file, molecule=molecule, line=2
            )

    expected_lines = n_atoms + 5
    if len(lines) < expected_lines:
        raise fail(
            f"file has {len(lines)} lines, expected {expected_lines} for {n_atoms} atoms (truncated?)",
            line=len(lines) + 1,
        )
    charges = np.empty(n_atoms, dtype=np.int64)
    positions = np.empty((n_atoms, 3), dtype=np.float64)
    mulliken = np.empty(n_atoms, dtype=np.float64)
    for atom in range(n_atoms):
        line_no = atom + 3
        fields = lines[line_no - 1].split()
        if len(fields) != 5:
            raise fail(
                f"atom line must have symbol, x, y, z, charge; found {len(fields)} fields", line=line_no, atom=atom
            )
        try:
            charges[atom] = atomic_number(fields[0])
        except KeyError:
            raise InvalidMoleculeError(
                f"unknown element {fields[0]!r}", file=file, molecule=molecule, line=line_no, atom=atom
            ) from None
        try:
            values = [parse_qm9_number(t) for t in fields[1:]]
        except ValueError:
            raise fail(f"non-numeric coordinate or charge in {fields[1:]}", line=line_no, atom=atom) from None
        if not np.isfinite(values).all():
            raise InvalidMoleculeError(
                f"non-finite value in {fields[1:]}", file=file, molecule=molecule, line=line_no, atom=atom
            )
        positions[atom] = values[:3]
        mulliken[atom] = values[3]
    check_molecule(charges, positions, file=file, molecule=molecule)

    freq_line = n_atoms + 3
    try:
        frequencies = np.array([parse_qm9_number(t) for t in lines[freq_line - 1].split()], dtype=np.float64)
    except ValueError:
        raise fail("non-numeric harmonic frequency", line=freq_line) from None
    smiles = lines[freq_line].split()
    inchi = lines[freq_line + 1].split()
    if len(smiles) != 2:
        raise fail(f"expected two SMILES (GDB-17 and relaxed), found {len(smiles)}", line=freq_line + 1)
    if len(inchi) != 2 or not all(s.startswith("InChI=") for s in inchi):
        raise fail("expected two InChI strings (GDB-17 and relaxed)", line=freq_line + 2)
    record.update(
        charges=charges,
        positions=positions,
        mulliken_charges=mulliken,
        frequencies=frequencies,
        smiles_gdb=smiles[0],
        smiles_relaxed=smiles[1],
        inchi_gdb=inchi[0],
        inchi_relaxed=inchi[1],
    )
    return record


def read_qm9_xyz(path: str | os.PathLike) -> dict[str, Any]:
    """Read one QM9 xyz file of the original archive.

    Returns a dict with
    ``index`` (int, the GDB-9 number), ``charges`` (atoms,) int64 atomic numbers,
    ``positions`` (atoms, 3) float64 in Å, ``mulliken_charges`` (atoms,) in e,
    the 15 properties ``A, B, C, mu, alpha, homo, lumo, gap, r2, zpve, U0, U, H, G, Cv`` as
    floats in the file's own units (:data:`QM9_FILE_UNITS`: Hartree for energies, no atom
    references subtracted), ``frequencies`` (modes,) in cm^-1, ``smiles_gdb``,
    ``smiles_relaxed``, ``inchi_gdb`` and ``inchi_relaxed``.

    Raises :class:`~cormorant_lab.data.DataFormatError` naming the file, molecule index, line
    and atom for a truncated or malformed file, and
    :class:`~cormorant_lab.data.InvalidMoleculeError` for an unknown element, a non-finite
    coordinate or two atoms closer than 0.1 Å.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"not a text file ({exc})", file=path) from exc
    return parse_qm9_xyz(text, file=path)
