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
import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_open

FORMAT = "cormorant_lab/2"
#: Formats this version reads (format 1 stored numpy RNG states as objects: its ``last.pt`` cannot be loaded
#: safely, its model files can).
READABLE_FORMATS = ("cormorant_lab/1", "cormorant_lab/2")


class CheckpointError(ValueError):
    """A file that is not a cormorant_lab checkpoint, or one that does not match the model asked for."""


def save_atomic(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """``torch.save(payload)`` to ``path`` atomically and durably (see the module docstring)."""
    path = Path(path)
    with atomic_open(path) as handle:
        torch.save(payload, handle)
    return path


def _format_version(name: Any) -> int | None:
    if isinstance(name, str) and name.startswith("cormorant_lab/") and name.split("/", 1)[1].isdigit():
        return int(name.split("/", 1)[1])
    return None


def _global_name(line: str) -> str:
    match = re.search(r"GLOBAL ([\w.]+)", line)
    return match.group(1) if match else line.rstrip(".")


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``), with a clear error for a missing file, a file that is
    not ours, one of a newer format, or one that holds Python objects (which would run code when unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        objects = [line for line in lines if "global" in line.lower() and "unsupported" in line.lower()]
        if objects:
            hint = ("; a last.pt of format cormorant_lab/1 held numpy random states like this: if you trust the file, "
                    "restart the run from its weights instead") if "numpy" in objects[0] else ""
            raise CheckpointError(
                f"{path} refused: it holds Python objects other than tensors and plain data, and loading them could "
                f"run code; nothing in it was executed (it names {_global_name(objects[0])}){hint}"
            ) from None
        detail = next((line for line in reversed(lines) if "Unsupported" in line), lines[-1] if lines else "")
        raise CheckpointError(f"{path} is not a readable checkpoint (UnpicklingError: {detail})") from None
    except Exception as exc:  # noqa: BLE001 -- any other failure means "not a readable checkpoint"
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc})") from exc
    found = payload.get("format") if isinstance(payload, dict) else None
    if found in READABLE_FORMATS:
        return payload
    version, newest = _format_version(found), _format_version(FORMAT)
    readable = ", ".join(READABLE_FORMATS)
    if version is not None and version > newest:
        raise CheckpointError(f"{path} has checkpoint format {found!r}, written by a newer cormorant_lab; this version "
                              f"reads {readable}: upgrade cormorant_lab to load it")
    what = f"format {found!r}" if found is not None else ("no format entry" if isinstance(payload, dict) else type(payload).__name__)
    raise CheckpointError(f"{path} is not a cormorant_lab checkpoint ({what}; expected one of {readable})")


def rng_state() -> dict[str, Any]:
    """Every random state a run may draw from, as tensors and plain numbers: python's Mersenne Twister
    (``python``: 625 integers, ``python_gauss``), numpy's (``numpy``: 624 keys, ``numpy_pos``, ``numpy_gauss``),
    torch CPU (``torch``) and, if present, CUDA (``cuda``)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python_version": int(version), "python": torch.tensor(internal, dtype=torch.int64),
        "python_gauss": gauss,
        "numpy": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "numpy_pos": int(pos),
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
