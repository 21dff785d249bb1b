"""Restoring a trained model: ``load_model(path)`` → a :class:`~cormorant_lab.nn.Cormorant` with its preset,
normalization buffers and species, in eval mode; ``save_model`` writes the same format.

``Cormorant.load(path)`` is this function. The task metadata (units, dataset) is attached to the model as
``model.metadata`` (a dict), which the ASE calculator reads to convert energies to eV.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..nn import Cormorant, load_model, model_from_payload
from ._checkpoint import FORMAT, save_atomic

__all__ = ["load_model", "model_from_payload", "save_model"]


def save_model(model: Cormorant, path: str | os.PathLike, metadata: dict[str, Any] | None = None, **extra: Any) -> Path:
    """Save ``model``'s config and weights (atomically), with ``metadata`` and any ``extra`` entries."""
    payload = {
        "format": FORMAT,
        "model_config": model.config,
        "model_state": model.state_dict(),
        "metadata": dict(metadata or getattr(model, "metadata", {}) or {}),
        **extra,
    }
    return save_atomic(payload, path)
