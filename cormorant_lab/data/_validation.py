"""Physical sanity checks on one molecule: known elements, finite coordinates, no overlapping atoms.

Loaders call :func:`check_molecule` on every molecule they read so that a bad record fails with
the file, molecule and atom named, instead of turning into NaN losses deep inside training.
"""

from __future__ import annotations

import os

import numpy as np
from ase.data import atomic_numbers, chemical_symbols

from ._errors import InvalidMoleculeError

#: Closest allowed distance between two atoms, in Å. Real bonds are longer than 0.7 Å (H2 is
#: 0.74 Å); 0.1 Å only catches duplicated atoms and unit mistakes (e.g. nm read as Å).
MIN_INTERATOMIC_DISTANCE = 0.1

#: Largest atomic number we accept (oganesson).
MAX_ATOMIC_NUMBER = len(chemical_symbols) - 1


def atomic_number(symbol: str) -> int:
    """Return the atomic number of an element symbol such as ``"C"`` or ``"Cl"``; ``KeyError`` if unknown."""
    z = atomic_numbers.get(symbol, 0)  # ASE maps the dummy symbol "X" to 0
    if z == 0:
        raise KeyError(symbol)
    return z


def check_molecule(
    charges: np.ndarray,
    positions: np.ndarray,
    *,
    file: str | os.PathLike | None = None,
    molecule: str | int | None = None,
    min_distance: float = MIN_INTERATOMIC_DISTANCE,
) -> None:
    """Raise :class:`InvalidMoleculeError` unless the molecule is usable.

    Args:
        charges: atomic numbers, shape (atoms,), each in 1..118.
        positions: Cartesian coordinates in Å, shape (atoms, 3), all finite.
        file, molecule: where the molecule came from, for the message.
        min_distance: smallest allowed interatomic distance in Å.
    """
    charges = np.asarray(charges)
    positions = np.asarray(positions)
    if charges.ndim != 1 or positions.shape != (charges.shape[0], 3):
        raise InvalidMoleculeError(
            f"charges have shape {charges.shape} and positions {positions.shape}; expected (atoms,) and (atoms, 3)",
            file=file,
            molecule=molecule,
        )
    if charges.shape[0] == 0:
        raise InvalidMoleculeError("molecule has no atoms", file=file, molecule=molecule)
    bad = np.flatnonzero((charges < 1) | (charges > MAX_ATOMIC_NUMBER))
    if bad.size:
        raise InvalidMoleculeError(
            f"unknown element with atomic number {int(charges[bad[0]])}", file=file, molecule=molecule, atom=int(bad[0])
        )
    finite = np.isfinite(positions).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise InvalidMoleculeError(
            f"non-finite coordinate {positions[i].tolist()}", file=file, molecule=molecule, atom=i
        )
    if charges.shape[0] > 1:
        diff = positions[:, None, :] - positions[None, :, :]
        dist = np.sqrt((diff**2).sum(-1))
        dist[np.diag_indices_from(dist)] = np.inf
        near_i, near_j = np.unravel_index(np.argmin(dist), dist.shape)
        if dist[near_i, near_j] < min_distance:
            i, j = sorted((int(near_i), int(near_j)))
            raise InvalidMoleculeError(
                f"atoms {i} and {j} are {dist[i, j]:.4f} Å apart (closer than {min_distance} Å)",
                file=file,
                molecule=molecule,
                atom=i,
            )
