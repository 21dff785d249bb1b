"""Checkpoints: atomic writes, safe loading, and everything an exact resume needs.

A checkpoint is a dict saved with ``torch.save`` holding tensors and plain types only (numbers, strings, lists,
dicts, None), so that it is read with ``torch.load(..., weights_only=True)``: loading a file never runs code, and
a file that holds any other Python object (a pickled ``os.system`` call, say) is refused with a
:class:`CheckpointError` before anything in it is executed. Model files are what people share.

* ``format``: ``"cormorant_lab/2"`` (this version also reads the model part of ``"cormorant_lab/1"`` files);
  ``model_config``, ``model_state``: rebuild with ``Cormorant(**config)``;
* ``metadata``: the task (dataset, molecule or target, splits, units), for ``evaluate`` and the ASE calculator;
* training state (``last.pt`` only): ``train_config``, ``optimizer``, ``rng`` (torch CPU and CUDA, numpy and
  python states as integer tensors, see :func:`rng_state`), and the fields of
  :class:`~cormorant_lab.train._state.TrainState` (``epoch``, ``batch_in_epoch``, ``step``, ``history``...).

Writes go through :func:`cormorant_lab._atomic.atomic_open` (temporary file, fsync, ``os.replace``, fsync of the
folder): a crash mid-write leaves the previous checkpoint intact, and the temporaries of killed writers are
cleaned up by the next write.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_open

# The model's file format and its safe reader live with the model (nn); train adds the training state.
from ..nn import CHECKPOINT_FORMAT as FORMAT
from ..nn import READABLE_FORMATS, CheckpointError, read_checkpoint

__all__ = [
    "FORMAT",
    "READABLE_FORMATS",
    "CheckpointError",
    "read_checkpoint",
    "rng_state",
    "save_atomic",
    "seed_everything",
    "set_rng_state",
]


def save_atomic(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` to ``path`` atomically and durably (see the module docstring)."""
    path = Path(path)
    with atomic_open(path) as handle:
        torch.save(payload, handle)
    return path


def rng_state() -> dict[str, Any]:
    """Every random state a run may draw from, as tensors and plain numbers: python's Mersenne Twister
    (``python``: 625 integers, ``python_gauss``), numpy's (``numpy``: 624 keys, ``numpy_pos``, ``numpy_gauss``),
    torch CPU (``torch``) and, if present, CUDA (``cuda``)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python_version": int(version),
        "python": torch.tensor(internal, dtype=torch.int64),
        "python_gauss": gauss,
        "numpy": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "numpy_pos": int(pos),
        "numpy_gauss": float(cached) if has_gauss else None,
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state`; a malformed state raises ``ValueError``."""
    try:
        python = tuple(int(v) for v in state["python"].tolist())
        random.setstate((int(state["python_version"]), python, state["python_gauss"]))
        keys = state["numpy"].numpy().astype(np.uint32)
        gauss = state["numpy_gauss"]
        np.random.set_state(("MT19937", keys, int(state["numpy_pos"]), int(gauss is not None), float(gauss or 0.0)))
        torch.set_rng_state(state["torch"].to("cpu", torch.uint8))
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise ValueError(f"malformed random-generator state ({type(exc).__name__}: {exc})") from exc
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) — the reference implementation's default seed seeded nothing."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
