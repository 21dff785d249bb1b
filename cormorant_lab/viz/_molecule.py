"""Molecule inputs for the viewers: ``ase.Atoms``, a dataset record, or positions + charges → one canonical form.

The canonical form is ``positions`` ``(N, 3)`` float64 (Å) and ``charges`` ``(N,)`` int64 atomic numbers with the
padding atoms (charge 0) of a dataset record dropped, as :func:`~cormorant_lab.data.to_ase_atoms` drops them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.data import chemical_symbols

from ..data import to_ase_atoms


def as_molecule(molecule: Any, charges: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(positions (N, 3) float64, charges (N,) int64)`` from ``ase.Atoms``, a record, or ``(positions, charges)``.

    A record is a mapping with ``positions`` and ``charges`` (a dataset item); a leading batch axis of size 1 is
    allowed for tensors. Padding atoms (charge 0) are dropped.
    """
    if isinstance(molecule, Mapping):
        molecule = to_ase_atoms({"positions": molecule["positions"], "charges": molecule["charges"]})
    if isinstance(molecule, Atoms):
        if charges is not None:
            raise ValueError("charges must not be given with an ase.Atoms (it has its own atomic numbers)")
        return torch.as_tensor(molecule.positions, dtype=torch.float64), torch.as_tensor(
            molecule.numbers, dtype=torch.int64
        )
    if charges is None:
        raise ValueError("give ase.Atoms, a record with 'positions' and 'charges', or positions together with charges")
    positions = torch.as_tensor(np.asarray(molecule) if not isinstance(molecule, torch.Tensor) else molecule.detach())
    charges = torch.as_tensor(np.asarray(charges) if not isinstance(charges, torch.Tensor) else charges.detach())
    if positions.dim() == 3 and positions.shape[0] == 1:
        positions, charges = positions[0], charges.reshape(charges.shape[-1])
    if positions.dim() != 2 or positions.shape[-1] != 3 or charges.shape != positions.shape[:1]:
        raise ValueError(
            f"need positions (N, 3) and charges (N,), got {tuple(positions.shape)} and {tuple(charges.shape)}"
        )
    real = charges != 0
    return positions[real].to(torch.float64).cpu(), charges[real].to(torch.int64).cpu()


def element_symbols(charges: torch.Tensor) -> list[str]:
    """Chemical symbols for atomic numbers ``(N,)``."""
    return [chemical_symbols[int(z)] for z in charges]


def xyz_block(positions: torch.Tensor, charges: torch.Tensor, comment: str = "") -> str:
    """The molecule as an XYZ file's text (what 3Dmol.js reads): count, comment, one ``symbol x y z`` line per atom."""
    lines = [str(len(charges)), comment.replace("\n", " ")]
    lines += [
        f"{s} {x:.6f} {y:.6f} {z:.6f}"
        for s, (x, y, z) in zip(element_symbols(charges), positions.tolist(), strict=False)
    ]
    return "\n".join(lines) + "\n"
