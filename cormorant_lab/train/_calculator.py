"""An ASE calculator for a trained energy (and forces) model, so that ASE's dynamics, optimizers and tools use it.

ASE works in eV and Å; the model predicts in its dataset's unit (kcal/mol for MD-17, eV for QM9), read from
``model.metadata["units"]`` (set by :func:`~cormorant_lab.train.load_model`) or given as ``energy_unit``.
Forces are :math:`-\\partial E / \\partial r` by autograd, so they are exactly conservative.

Example::

    atoms.calc = CormorantCalculator.from_checkpoint("runs/ethanol/best.pt")
    VelocityVerlet(atoms, 0.5 * ase.units.fs).run(1000)
"""

from __future__ import annotations

import os

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from ..data import EV_TO_KCAL_PER_MOL, HARTREE_TO_EV
from ..nn import load_model, predict

__all__ = ["EV_PER_UNIT", "CormorantCalculator", "predict"]

#: eV per unit, for the energy units the datasets use.
EV_PER_UNIT = {"eV": 1.0, "meV": 1e-3, "kcal/mol": 1.0 / EV_TO_KCAL_PER_MOL, "Hartree": HARTREE_TO_EV}


class CormorantCalculator(Calculator):
    """``energy`` (eV) and ``forces`` (eV/Å) of a single-target Cormorant model.

    Args:
        model: a trained model (moved to ``device``; evaluated in its own dtype).
        energy_unit: the unit the model predicts in; default ``model.metadata["units"]["unit"]``.
        device: where to evaluate (default: the model's device).
    """

    implemented_properties = ["energy", "forces"]

    def __init__(
        self, model: torch.nn.Module, energy_unit: str | None = None, device: str | torch.device | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        unit = energy_unit or getattr(model, "metadata", {}).get("units", {}).get("unit")
        if unit not in EV_PER_UNIT:
            raise ValueError(
                f"energy unit {unit!r} unknown or not given; pass energy_unit, one of {sorted(EV_PER_UNIT)}"
            )
        if model.num_targets != 1:
            raise ValueError(
                f"the calculator needs a single-target (energy) model, this one has {model.num_targets} targets"
            )
        self.model = model.eval() if device is None else model.to(device).eval()
        self.scale = EV_PER_UNIT[unit]

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, **kwargs) -> CormorantCalculator:
        return cls(load_model(path), **kwargs)

    def calculate(self, atoms: Atoms | None = None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        reference = next(self.model.parameters())
        positions = torch.as_tensor(self.atoms.positions, dtype=reference.dtype, device=reference.device).unsqueeze(0)
        charges = torch.as_tensor(self.atoms.numbers.astype(np.int64), device=reference.device).unsqueeze(0)
        energy, forces = self.model.energy_and_forces(positions, charges, create_graph=False)
        self.results["energy"] = float(energy[0].detach()) * self.scale
        self.results["forces"] = forces[0].detach().to("cpu", torch.float64).numpy() * self.scale
