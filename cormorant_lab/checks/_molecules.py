"""Random molecule-like batches, padded as the data loaders pad them: inputs for covariance checks and demos.

Atom k > 0 sits at a bond length (uniform in ``bond``, Å) from a randomly chosen earlier atom, in a uniformly
random direction: a random tree with chemically plausible nearest-neighbour distances (close contacts between
non-bonded atoms can occur). Padding atoms have charge 0 and position 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def random_molecules(
    batch: int,
    atoms: int,
    *,
    species: Sequence[int] = (1, 6, 7, 8, 9),
    min_atoms: int | None = None,
    bond: tuple[float, float] = (1.0, 1.5),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions ``(batch, atoms, 3)`` and charges ``(batch, atoms)``; molecule sizes uniform in ``[min_atoms, atoms]``.

    ``min_atoms`` defaults to ``atoms`` (no padding). Sampled in float64 on the CPU, returned in ``dtype`` on ``device``.
    """
    min_atoms = atoms if min_atoms is None else min_atoms
    if not 1 <= min_atoms <= atoms:
        raise ValueError(f"need 1 <= min_atoms <= atoms, got min_atoms={min_atoms}, atoms={atoms}")
    f64 = dict(generator=generator, dtype=torch.float64)
    directions = torch.randn(batch, atoms, 3, **f64)
    lengths = bond[0] + (bond[1] - bond[0]) * torch.rand(batch, atoms, 1, **f64)
    steps = directions / directions.norm(dim=-1, keepdim=True) * lengths
    positions = torch.zeros(batch, atoms, 3, dtype=torch.float64)
    rows = torch.arange(batch)
    for k in range(1, atoms):  # test-data generation, not a forward pass: a loop over atoms is fine here
        parent = torch.randint(0, k, (batch,), generator=generator)
        positions[:, k] = positions[rows, parent] + steps[:, k]
    positions = positions - positions.mean(dim=1, keepdim=True)
    table = torch.tensor(list(species))
    charges = table[torch.randint(0, len(table), (batch, atoms), generator=generator)]
    sizes = torch.randint(min_atoms, atoms + 1, (batch, 1), generator=generator)
    real = torch.arange(atoms) < sizes
    charges = torch.where(real, charges, torch.zeros_like(charges))
    positions = torch.where(real.unsqueeze(-1), positions, torch.zeros_like(positions))
    return positions.to(dtype=dtype, device=device), charges.to(device=device)
