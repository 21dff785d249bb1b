r"""Parity plots: a model's predictions against the reference labels, the picture behind an MAE.

:func:`predict_dataset` runs a model over a dataset and returns reference and predicted values side by side (energies
and, for an energy model, the forces :math:`f = -\partial E/\partial r`); :func:`parity_plot` draws them against the
line :math:`\hat y = y` with the MAE in the title. A perfect model puts every point on the diagonal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from torch.utils.data import DataLoader

from ..data import MoleculeDataset, batch_to, collate_molecules


def predict_dataset(
    model: torch.nn.Module, dataset: MoleculeDataset, target: str, *, forces: bool = False, batch_size: int = 100
) -> dict[str, np.ndarray]:
    """Reference and predicted ``target`` (and forces) of ``model`` on every molecule of ``dataset``, in stored units.

    Returns:
        ``reference`` and ``predicted`` (molecules,); with ``forces=True`` also ``forces_reference`` and
        ``forces_predicted`` (real atoms × 3,), flattened over molecules, padding atoms dropped. The model is evaluated
        in its own device and dtype, in eval mode, and left in the mode it was in.
    """
    parameter = next(model.parameters())
    device, dtype = parameter.device, parameter.dtype
    out: dict[str, list[np.ndarray]] = {
        "reference": [],
        "predicted": [],
        "forces_reference": [],
        "forces_predicted": [],
    }
    was_training = model.training
    model.eval()
    try:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_molecules)
        for batch in loader:
            out["reference"].append(batch[target].to(torch.float64).numpy())
            batch = batch_to(batch, device, dtype)
            if forces:
                energy, predicted = model.energy_and_forces(batch["positions"], batch["charges"], create_graph=False)
                mask = batch["atom_mask"]
                out["forces_reference"].append(batch["forces"][mask].detach().to("cpu", torch.float64).numpy().ravel())
                out["forces_predicted"].append(predicted[mask].detach().to("cpu", torch.float64).numpy().ravel())
            else:
                with torch.no_grad():
                    energy = model(batch["positions"], batch["charges"])
            out["predicted"].append(energy.detach().to("cpu", torch.float64).numpy().reshape(-1))
    finally:
        model.train(was_training)
    return {key: np.concatenate(value) for key, value in out.items() if value}


def parity_plot(
    reference: Any,
    predicted: Any,
    *,
    label: str = "value",
    unit: str = "",
    scale: float = 1.0,
    max_points: int | None = 5000,
    width: int = 420,
    height: int = 400,
) -> go.Figure:
    """A scatter of ``predicted`` against ``reference`` with the diagonal, titled with the MAE.

    Args:
        reference, predicted: arrays or tensors of the same shape (flattened).
        label, unit: axis labels, e.g. ``"energy"``, ``"kcal/mol"``.
        scale: multiplies both (e.g. 1000 to show eV as meV).
        max_points: draw an evenly spaced subset of at most this many points (the MAE uses all).
    """
    y = np.asarray(torch.as_tensor(reference).detach().cpu(), dtype=np.float64).ravel() * scale
    y_hat = np.asarray(torch.as_tensor(predicted).detach().cpu(), dtype=np.float64).ravel() * scale
    if y.shape != y_hat.shape:
        raise ValueError(f"reference and predicted differ in size: {y.shape} and {y_hat.shape}")
    mae = float(np.abs(y_hat - y).mean()) if y.size else float("nan")
    shown = np.linspace(0, y.size - 1, max_points).astype(int) if max_points and y.size > max_points else slice(None)
    low, high = (float(min(y.min(), y_hat.min())), float(max(y.max(), y_hat.max()))) if y.size else (0.0, 1.0)
    suffix = f" ({unit})" if unit else ""
    figure = go.Figure(
        [
            go.Scatter(x=[low, high], y=[low, high], mode="lines", line=dict(color="gray", dash="dash"), name="ŷ = y"),
            go.Scatter(x=y[shown], y=y_hat[shown], mode="markers", marker=dict(size=4, opacity=0.6), name=label),
        ]
    )
    figure.update_layout(
        title=f"{label}: MAE {mae:.3g}{' ' + unit if unit else ''}",
        width=width,
        height=height,
        xaxis_title=f"reference{suffix}",
        yaxis_title=f"predicted{suffix}",
        showlegend=False,
        margin=dict(l=60, r=20, t=40, b=50),
    )
    return figure
