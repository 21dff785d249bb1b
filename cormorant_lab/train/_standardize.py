r"""Standardized targets: the network learns :math:`(y - \mu - \sum_i b_{Z_i}) / \sigma`, as the paper's code did.

* :math:`\mu, \sigma`: mean and standard deviation of the training targets (after the references below);
* :math:`b_Z` (optional, for extensive energies over molecules of different compositions such as QM9's U0):
  per-species reference energies, the least-squares fit of the targets on the species counts;
* forces are divided by :math:`\sigma_F`, the root mean square of the training force components, in the loss.

The model stores :math:`\mu, \sigma, b` in its buffers ``target_mean``, ``target_std``, ``species_reference``
and applies them in ``forward``, so a saved model predicts in physical units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import MoleculeDataset


@dataclass(frozen=True)
class Standardization:
    """Target mean and spread, per-species references ``(S,)`` (zeros when not fitted), force RMS (or None)."""

    mean: float
    std: float
    species_reference: tuple[float, ...]
    force_rms: float | None = None


def _species_counts(dataset: MoleculeDataset, species: list[int]) -> np.ndarray:
    """(molecules, S) number of atoms of each species in each molecule."""
    table = np.asarray(species)
    return np.stack([(dataset[i]["charges"].numpy()[:, None] == table).sum(0) for i in range(len(dataset))]).astype(
        np.float64
    )


def fit_standardization(
    dataset: MoleculeDataset, target: str, species: list[int], *, per_species: bool = False, forces: bool = False
) -> Standardization:
    """Fit the statistics of ``target`` on the training set (``per_species`` adds least-squares references)."""
    values = dataset.targets(target).astype(np.float64)
    if len(values) < 2:
        raise ValueError(f"need at least 2 training molecules to standardize {target!r}, got {len(values)}")
    reference = np.zeros(len(species))
    if per_species:
        counts = _species_counts(dataset, species)
        reference = np.linalg.lstsq(counts, values, rcond=None)[0]
        values = values - counts @ reference
    std = float(values.std())
    if not np.isfinite(std) or std == 0.0:
        std = 1.0  # constant targets: nothing to scale
    force_rms = None
    if forces:
        squares = [(dataset[i]["forces"].double() ** 2).mean().item() for i in range(len(dataset))]
        force_rms = float(np.sqrt(np.mean(squares))) or 1.0
    return Standardization(float(values.mean()), std, tuple(float(b) for b in reference), force_rms)


def apply_standardization(model: torch.nn.Module, stats: Standardization) -> None:
    """Write the statistics into the model's buffers (a single-target model)."""
    with torch.no_grad():
        model.target_mean.fill_(stats.mean)
        model.target_std.fill_(stats.std)
        model.species_reference.copy_(
            torch.tensor(stats.species_reference, dtype=model.species_reference.dtype).reshape(-1, 1)
        )
