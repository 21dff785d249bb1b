"""Checkpoints: atomic writes, and everything an exact resume needs.

A checkpoint is a dict saved with ``torch.save``:

* ``format``: ``"cormorant_lab/1"``; ``model_config``, ``model_state``: rebuild with ``Cormorant(**config)``;
* ``metadata``: the task (dataset, molecule or target, splits, units), for ``evaluate`` and the ASE calculator;
* training state (``last.pt`` only): ``train_config``, ``optimizer``, ``rng`` (torch CPU and CUDA, numpy,
  python), ``epoch`` and ``batch_in_epoch`` (the dataloader position), ``step``, ``total_steps``, ``best``,
  ``history``.

Writes are atomic: the bytes go to a temporary file in the same folder, are flushed and fsynced, and the file is
renamed over the old one with ``os.replace`` — a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..nn import CHECKPOINT_FORMAT as FORMAT  # the model's file format lives with the model (nn)
from ..nn import CheckpointError, read_checkpoint

__all__ = ["FORMAT", "CheckpointError", "read_checkpoint", "rng_state", "save_atomic", "seed_everything", "set_rng_state"]


def save_atomic(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` to ``path`` through a temporary file, fsync and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path


def rng_state() -> dict[str, Any]:
    """Every random state a run may draw from: python, numpy, torch CPU and (if present) CUDA."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) — the reference implementation's default seed seeded nothing."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
