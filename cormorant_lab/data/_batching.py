"""Padding molecules of different sizes into (batch, atoms) tensors, and reproducible loaders.

Padding convention (the one Cormorant's original loaders used): atoms beyond a molecule's size
have charge 0, position 0 and every per-atom property 0; ``atom_mask`` is True for real atoms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset


def collate_molecules(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pad a list of molecule dicts into one batch.

    Each record holds ``charges`` (atoms,) and ``positions`` (atoms, 3) and any number of
    scalar values (-> (batch,)) and per-atom tensors whose first dimension is the molecule's
    atom count (-> (batch, max atoms, ...), padded with 0). Non-tensor values (strings) are
    gathered into lists. The batch also holds ``atom_mask`` (batch, max atoms) bool and
    ``n_atoms`` (batch,) int64.
    """
    if not records:
        raise ValueError("cannot collate an empty list of molecules")
    n_atoms = torch.tensor([len(r["charges"]) for r in records], dtype=torch.int64)
    batch_size, max_atoms = len(records), int(n_atoms.max())
    atom_mask = torch.arange(max_atoms)[None, :] < n_atoms[:, None]
    batch: dict[str, Any] = {"atom_mask": atom_mask, "n_atoms": n_atoms}
    for key in records[0]:
        values = [r[key] for r in records]
        first = values[0]
        if not isinstance(first, torch.Tensor):
            try:
                values = [torch.as_tensor(v) for v in values]
            except (TypeError, ValueError, RuntimeError):
                batch[key] = list(values)
                continue
            first = values[0]
        if first.dim() == 0:
            batch[key] = torch.stack(values)
            continue
        per_atom = all(v.shape[0] == n for v, n in zip(values, n_atoms.tolist(), strict=True))
        if not per_atom:
            raise ValueError(f"{key!r}: expected a scalar or a value per atom in every molecule")
        padded = first.new_zeros((batch_size, max_atoms, *first.shape[1:]))
        for b, v in enumerate(values):
            padded[b, : v.shape[0]] = v
        batch[key] = padded
    return batch


def batch_to(
    batch: Mapping[str, Any], device: torch.device | str | None = None, dtype: torch.dtype | None = None
) -> dict[str, Any]:
    """Move every tensor of a batch to ``device`` and cast floating tensors to ``dtype``.

    Integer and boolean tensors (charges, masks, indices) keep their dtype; other values are
    passed through unchanged.
    """
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            cast = dtype if (dtype is not None and value.is_floating_point()) else None
            value = value.to(device=device, dtype=cast)
        out[key] = value
    return out


def make_dataloader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    *,
    drop_last: bool = False,
    num_workers: int = 0,
) -> DataLoader:
    """A DataLoader that pads with :func:`collate_molecules` and shuffles from ``seed``.

    Two loaders built with the same seed yield the same batches in the same order, epoch after
    epoch, independently of the global torch random state.
    """
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate_molecules,
        generator=generator,
        drop_last=drop_last,
        num_workers=num_workers,
    )
