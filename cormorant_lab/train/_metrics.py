"""Errors in the paper's units: MAE and RMSE of energies (meV for QM9 energies, kcal/mol for MD-17), other QM9
targets in their own units (D, bohr³, ...) and forces (kcal/mol/Å).

Sums are accumulated on the device (no host sync per batch) and, under torch.distributed, summed over processes
before the division, so every process reports the metrics of the whole split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._distributed import all_reduce_sum


@dataclass(frozen=True)
class TargetUnits:
    """A target's stored unit, the unit it is reported in and the factor between them (reported = scale · stored)."""

    name: str
    unit: str
    reported_unit: str
    scale: float = 1.0
    force_unit: str | None = None  # reported unit of the forces (same scale), None without forces

    def to_dict(self) -> dict:
        return dict(
            name=self.name,
            unit=self.unit,
            reported_unit=self.reported_unit,
            scale=self.scale,
            force_unit=self.force_unit,
        )


class ErrorAccumulator:
    """Running sums of |error|, error² and counts for one quantity, on the device of the first batch."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self._sums = torch.zeros(3, dtype=torch.float64, device=device)  # Σ|e|, Σe², n

    def add(self, error: torch.Tensor) -> None:
        """Add the errors of a batch (any shape; every entry counts once)."""
        error = error.detach().to(torch.float64).reshape(-1)
        sums = torch.stack([error.abs().sum(), error.pow(2).sum(), error.new_tensor(float(error.numel()))])
        self._sums = self._sums + sums.to(self._sums.device)

    def result(self, scale: float = 1.0) -> tuple[float, float]:
        """``(MAE, RMSE)`` times ``scale``, over every process."""
        abs_sum, sq_sum, count = all_reduce_sum(self._sums.clone()).tolist()
        if count == 0:
            return math.nan, math.nan
        return scale * abs_sum / count, scale * math.sqrt(sq_sum / count)


def format_metrics(metrics: dict[str, float], units: TargetUnits) -> str:
    """``"energy MAE 0.512 kcal/mol, RMSE 0.70 kcal/mol; forces MAE ..."``."""
    parts = []
    for label, unit in ((units.name, units.reported_unit), ("forces", units.force_unit)):
        if f"{label}_mae" in metrics:
            parts.append(
                f"{label} MAE {metrics[f'{label}_mae']:.4g} {unit}, RMSE {metrics[f'{label}_rmse']:.4g} {unit}"
            )
    return "; ".join(parts)
