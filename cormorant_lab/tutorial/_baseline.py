r"""Atom counting: the baseline a QM9 energy model must beat, and the residual a parity plot should show.

An extensive energy such as :math:`U_0` is, to a first approximation, a sum of per-atom contributions:
:math:`\hat y_{\rm count}(Z) = \mu + \sum_i b_{Z_i}`, with :math:`b` the least-squares fit of the training targets on
the species counts and :math:`\mu` the mean of what is left (:func:`cormorant_lab.train.fit_standardization` fits
both; the trainer adds them to the network's output). Over QM9 this alone spans tens of eV, so a parity plot of
:math:`\hat y` against :math:`y` looks perfect whatever the network does; the honest picture is the **residual**
:math:`y - \hat y_{\rm count}`, what the network has to learn, against the network's share
:math:`\hat y - \hat y_{\rm count}`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def species_counts(charges_per_molecule: Sequence, species: Sequence[int]) -> np.ndarray:
    """``(molecules, S)``: how many atoms of each species in ``species`` every molecule has (padding 0 ignored)."""
    table = np.asarray(list(species))
    return np.stack(
        [(np.asarray(charges).reshape(-1)[:, None] == table).sum(0) for charges in charges_per_molecule]
    ).astype(np.float64)


def atom_counting_prediction(dataset, stats, species: Sequence[int]) -> np.ndarray:
    r""":math:`\mu + \sum_i b_{Z_i}` for every molecule of ``dataset`` ``(molecules,)``, in the stored units.

    ``stats`` is a :class:`~cormorant_lab.train.Standardization` (``trainer.stats``); ``species`` the model's species
    (``trainer.model.species``), in the order of ``stats.species_reference``.
    """
    reference = np.asarray(stats.species_reference or [0.0] * len(species), dtype=np.float64)
    if reference.shape != (len(species),):
        raise ValueError(f"stats has {reference.size} species references for {len(species)} species {list(species)}")
    counts = species_counts([dataset[i]["charges"].numpy() for i in range(len(dataset))], species)
    return float(stats.mean) + counts @ reference


def atom_counting_mae(dataset, stats, species: Sequence[int], target: str, *, scale: float = 1.0) -> float:
    """MAE of :func:`atom_counting_prediction` on ``dataset``'s ``target``, times ``scale`` (e.g. 1000: eV → meV)."""
    return float(np.abs(atom_counting_prediction(dataset, stats, species) - dataset.targets(target)).mean()) * scale
