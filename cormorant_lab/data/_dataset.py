"""MoleculeDataset: a torch Dataset of molecules of varying size, stored packed.

Molecules are stored as flat arrays over all atoms (``charges``, ``positions`` and per-atom
properties such as forces) with offsets per molecule, plus one value per molecule for each
scalar target. ``dataset[i]`` returns a dict of tensors for one molecule:

* ``charges``: (atoms,) int64 atomic numbers;
* ``positions``: (atoms, 3) Cartesian coordinates in Å;
* every scalar target: () tensor (e.g. ``energy``, ``U0``), in the units of ``dataset.units``;
* every per-atom property: (atoms, ...) tensor (e.g. ``forces``);
* ``index``: () int64, the molecule's identifier in its source (QM9 index, MD frame number).

Floating-point values are returned in ``dataset.dtype`` (float64 by default: MD-17 total energies
are about -4e5 kcal/mol, where float32 keeps only ~0.03 kcal/mol). Cast a batch with
:func:`~cormorant_lab.data.batch_to`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ._validation import check_molecule


class MoleculeDataset(Dataset):
    """Molecules stored packed; see the module docstring for the item layout.

    Args:
        n_atoms: (molecules,) number of atoms of each molecule.
        charges: (total atoms,) atomic numbers, molecules one after another.
        positions: (total atoms, 3) coordinates in Å.
        targets: name -> (molecules,) one value per molecule.
        atom_properties: name -> (total atoms, ...) one value per atom.
        index: (molecules,) identifiers in the source; defaults to 0..molecules-1.
        metadata: free-form description; ``metadata["units"]`` maps names to units.
        dtype: floating dtype of the returned tensors.
    """

    def __init__(
        self,
        n_atoms: np.ndarray,
        charges: np.ndarray,
        positions: np.ndarray,
        targets: Mapping[str, np.ndarray] | None = None,
        atom_properties: Mapping[str, np.ndarray] | None = None,
        *,
        index: np.ndarray | None = None,
        metadata: Mapping[str, Any] | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        self._n_atoms = np.asarray(n_atoms, dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(self._n_atoms)]).astype(np.int64)
        total = int(self._offsets[-1])
        self._charges = np.asarray(charges, dtype=np.int64)
        self._positions = np.asarray(positions, dtype=np.float64)
        if self._charges.shape != (total,) or self._positions.shape != (total, 3):
            raise ValueError(
                f"charges {self._charges.shape} and positions {self._positions.shape} do not match "
                f"{len(self._n_atoms)} molecules with {total} atoms in total"
            )
        self._targets = {k: np.asarray(v) for k, v in (targets or {}).items()}
        self._atom_properties = {k: np.asarray(v) for k, v in (atom_properties or {}).items()}
        for name, values in self._targets.items():
            if values.shape != self._n_atoms.shape:
                raise ValueError(f"target {name!r} has shape {values.shape}, expected ({len(self._n_atoms)},)")
        for name, values in self._atom_properties.items():
            if values.shape[:1] != (total,):
                raise ValueError(f"atom property {name!r} has shape {values.shape}, expected ({total}, ...)")
        self._index = np.arange(len(self._n_atoms)) if index is None else np.asarray(index, dtype=np.int64)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.dtype = dtype

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        *,
        metadata: Mapping[str, Any] | None = None,
        dtype: torch.dtype = torch.float64,
        validate: bool = True,
    ) -> MoleculeDataset:
        """Build a dataset from per-molecule dicts (``charges``, ``positions`` and targets).

        Keys with a value per atom become atom properties, scalars become targets; an ``index``
        key becomes the identifier. Every record must have the same keys.
        """
        if not records:
            raise ValueError("no records given")
        keys = set(records[0])
        n_atoms, charges, positions, index = [], [], [], []
        targets: dict[str, list] = {}
        atom_props: dict[str, list] = {}
        for i, rec in enumerate(records):
            if set(rec) != keys:
                raise ValueError(f"record {i} has keys {sorted(rec)}, record 0 has {sorted(keys)}")
            z = np.asarray(rec["charges"], dtype=np.int64)
            r = np.asarray(rec["positions"], dtype=np.float64)
            if validate:
                check_molecule(z, r, molecule=rec.get("index", i))
            n_atoms.append(len(z))
            charges.append(z)
            positions.append(r)
            index.append(int(rec.get("index", i)))
            for key, value in rec.items():
                if key in ("charges", "positions", "index"):
                    continue
                value = np.asarray(value)
                if value.ndim == 0:
                    targets.setdefault(key, []).append(value)
                elif value.shape[0] == len(z):
                    atom_props.setdefault(key, []).append(value)
                else:
                    raise ValueError(f"record {i}: {key!r} has shape {value.shape}; expected () or ({len(z)}, ...)")
        return cls(
            np.array(n_atoms),
            np.concatenate(charges),
            np.concatenate(positions),
            {k: np.stack(v) for k, v in targets.items()},
            {k: np.concatenate(v) for k, v in atom_props.items()},
            index=np.array(index),
            metadata=metadata,
            dtype=dtype,
        )

    def __len__(self) -> int:
        return len(self._n_atoms)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} molecules")
        i = int(i) % len(self)
        lo, hi = self._offsets[i], self._offsets[i + 1]
        item = {
            "charges": torch.from_numpy(self._charges[lo:hi].copy()),
            "positions": torch.tensor(self._positions[lo:hi], dtype=self.dtype),
            "index": torch.tensor(self._index[i]),
        }
        for name, values in self._targets.items():
            item[name] = self._tensor(values[i])
        for name, values in self._atom_properties.items():
            item[name] = self._tensor(values[lo:hi])
        return item

    def _tensor(self, value: np.ndarray) -> torch.Tensor:
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.floating):
            return torch.tensor(value, dtype=self.dtype)
        return torch.tensor(value)

    @property
    def target_names(self) -> list[str]:
        """Names of the per-molecule targets, e.g. ``["energy"]`` or ``["mu", "U0"]``."""
        return list(self._targets)

    @property
    def atom_property_names(self) -> list[str]:
        """Names of the per-atom properties, e.g. ``["forces"]``."""
        return list(self._atom_properties)

    @property
    def n_atoms(self) -> np.ndarray:
        """(molecules,) number of atoms of each molecule (a copy)."""
        return self._n_atoms.copy()

    @property
    def index(self) -> np.ndarray:
        """(molecules,) identifiers in the source (a copy)."""
        return self._index.copy()

    def targets(self, name: str) -> np.ndarray:
        """(molecules,) values of one target (a copy), e.g. for computing its mean and spread."""
        return self._targets[name].copy()

    def subset(self, indices: Sequence[int] | np.ndarray) -> MoleculeDataset:
        """Return a new dataset holding the molecules at ``indices`` (positions, not identifiers)."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"subset indices must lie in [0, {len(self)})")
        counts = self._n_atoms[indices]
        # Atom rows of the chosen molecules, in order: each molecule's start shifted onto a running range.
        shift = np.repeat(self._offsets[indices] - (np.cumsum(counts) - counts), counts)
        atom_idx = np.arange(int(counts.sum()), dtype=np.int64) + shift
        return MoleculeDataset(
            self._n_atoms[indices],
            self._charges[atom_idx],
            self._positions[atom_idx],
            {k: v[indices] for k, v in self._targets.items()},
            {k: v[atom_idx] for k, v in self._atom_properties.items()},
            index=self._index[indices],
            metadata=self.metadata,
            dtype=self.dtype,
        )

    def __repr__(self) -> str:
        name = self.metadata.get("name", "molecules")
        return (
            f"MoleculeDataset({name!r}, {len(self)} molecules, targets={self.target_names}, "
            f"atom_properties={self.atom_property_names})"
        )
