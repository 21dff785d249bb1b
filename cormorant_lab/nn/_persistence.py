"""A trained model on disk and back: the checkpoint format, ``load_model`` and ``predict`` on ``ase.Atoms``.

``Cormorant.load(path)`` and ``Cormorant.predict(atoms)`` are :func:`load_model` and :func:`predict`. They live in
``nn`` (not ``train``) so that the model package does not import the training package: ``train`` builds on ``nn``
(its checkpoints add the training state to this format) and re-exports these names.

A checkpoint is a dict saved with ``torch.save``: ``format`` (``"cormorant_lab/1"``), ``model_config`` and
``model_state`` (rebuild with ``Cormorant(**config)``), ``metadata`` (the task and its units), and, in a
trainer's ``last.pt``, the training state (see ``cormorant_lab.train``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._cormorant import Cormorant

CHECKPOINT_FORMAT = "cormorant_lab/1"


class CheckpointError(ValueError):
    """A file that is not a cormorant_lab checkpoint, or one that does not match the model asked for."""


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint, with a clear error for a missing file or one that is not ours."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001 -- any unpickling failure means "not a checkpoint"
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a cormorant_lab checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return payload


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
    """The trained model saved at ``path`` (a ``best.pt``/``last.pt`` of the trainer or a ``save_model`` file)."""
    return model_from_payload(read_checkpoint(path, map_location), source=str(path))


def predict(model: torch.nn.Module, atoms: Any) -> np.ndarray:
    """The model's predictions (its own units) for one ``ase.Atoms`` or a list: ``(molecules,)`` or ``(molecules, T)``."""
    from ase import Atoms

    from ..data import batch_to, collate_molecules, from_ase_atoms  # data does not import nn: no cycle

    molecules = [atoms] if isinstance(atoms, Atoms) else list(atoms)
    reference = next(model.parameters())
    batch = batch_to(collate_molecules([from_ase_atoms(a) for a in molecules]), reference.device, reference.dtype)
    with torch.no_grad():
        return model.eval()(batch["positions"], batch["charges"]).to("cpu", torch.float64).numpy()
