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
    """Build the model a checkpoint describes and load its weights; anything wrong raises :class:`CheckpointError`."""
    config, state, metadata = payload.get("model_config"), payload.get("model_state"), payload.get("metadata", {})
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise CheckpointError(f"{source}: no model configuration (model_config must be a dict of named arguments)")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointError(f"{source}: no weights (model_state must be a dict of named tensors)")
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{source}: metadata must be a dict, not {type(metadata).__name__}")
    try:
        model = Cormorant(**config)
    except Exception as exc:  # noqa: BLE001 -- whatever an untrusted configuration breaks, it is a bad checkpoint
        raise CheckpointError(f"{source}: its model configuration cannot be built ({type(exc).__name__}: {exc})") from exc
    dtype = next((t.dtype for t in state.values() if t.is_floating_point()), torch.float32)
    if dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise CheckpointError(f"{source}: weights of dtype {dtype} are not supported")
    model = model.to(dtype)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{source}: the weights do not match the model configuration stored with them:\n{exc}") from exc
    model.metadata = dict(metadata)
    return model.eval()


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Cormorant:
    """The trained model saved at ``path`` (a ``best.pt``/``last.pt`` of the trainer or a :func:`save_model` file)."""
    return model_from_payload(read_checkpoint(path, map_location), source=str(path))
