"""Restoring a trained model: ``load_model(path)`` → a :class:`~cormorant_lab.nn.Cormorant` with its preset,
normalization buffers and species, in eval mode; ``save_model`` writes the same format.

``Cormorant.load(path)`` is this function. The task metadata (units, dataset) is attached to the model as
``model.metadata`` (a dict), which the ASE calculator reads to convert energies to eV.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..nn import Cormorant
from ._checkpoint import FORMAT, CheckpointError, read_checkpoint, save_atomic


def save_model(model: Cormorant, path: str | os.PathLike, metadata: dict[str, Any] | None = None, **extra: Any) -> Path:
    """Save ``model``'s config and weights (atomically), with ``metadata`` and any ``extra`` entries."""
    payload = {"format": FORMAT, "model_config": model.config, "model_state": model.state_dict(),
               "metadata": dict(metadata or getattr(model, "metadata", {}) or {}), **extra}
    return save_atomic(payload, path)


def model_from_payload(payload: dict[str, Any], source: str = "checkpoint") -> Cormorant:
    """Build the model a checkpoint describes and load its weights; a mismatch raises :class:`CheckpointError`."""
    try:
        model = Cormorant(**payload["model_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: its model configuration cannot be built ({exc})") from exc
    state = payload["model_state"]
    dtype = next((t.dtype for t in state.values() if t.is_floating_point()), torch.float32)
    model = model.to(dtype)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{source}: the weights do not match the model configuration stored with them:\n{exc}") from exc
    model.metadata = dict(payload.get("metadata", {}))
    return model.eval()


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Cormorant:
    """The trained model saved at ``path`` (a ``best.pt``/``last.pt`` of the trainer or a :func:`save_model` file)."""
    return model_from_payload(read_checkpoint(path, map_location), source=str(path))
