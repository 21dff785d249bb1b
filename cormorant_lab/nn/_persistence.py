"""A trained model on disk and back: the checkpoint format, safe reading, ``load_model`` and ``predict``.

``Cormorant.load(path)`` and ``Cormorant.predict(atoms)`` are :func:`load_model` and :func:`predict`. They live in
``nn`` (not ``train``) so that the model package does not import the training package: ``train`` builds on ``nn``
(its checkpoints add the training state to this format, see ``cormorant_lab.train``) and re-exports these names.

Checkpoints hold tensors and plain types only and are read with ``torch.load(..., weights_only=True)``: loading a
file never runs code, and a file holding any other Python object is refused with a :class:`CheckpointError`.
Nor can a file make the loader build a model far larger than the weights it holds (a denial of service: a few
bytes of configuration asking for billions of weights or Clebsch–Gordan tables of degree 1000): the configuration is
bounded before anything is built (:func:`check_config_size`).
"""

from __future__ import annotations

import math
import os
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._cormorant import Cormorant

CHECKPOINT_FORMAT = "cormorant_lab/2"
#: Formats this version reads (format 1 stored numpy RNG states as objects: its ``last.pt`` cannot be loaded
#: safely, its model files can).
READABLE_FORMATS = ("cormorant_lab/1", "cormorant_lab/2")


class CheckpointError(ValueError):
    """A file that is not a cormorant_lab checkpoint, or one that does not match the model asked for."""


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
            hint = (
                (
                    "; a last.pt of format cormorant_lab/1 held numpy random states like this: if you trust the file, "
                    "restart the run from its weights instead"
                )
                if "numpy" in objects[0]
                else ""
            )
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
    version, newest = _format_version(found), _format_version(CHECKPOINT_FORMAT)
    assert newest is not None  # CHECKPOINT_FORMAT is "cormorant_lab/<number>"
    readable = ", ".join(READABLE_FORMATS)
    if version is not None and version > newest:
        raise CheckpointError(
            f"{path} has checkpoint format {found!r}, written by a newer cormorant_lab; this version "
            f"reads {readable}: upgrade cormorant_lab to load it"
        )
    what = (
        f"format {found!r}"
        if found is not None
        else ("no format entry" if isinstance(payload, dict) else type(payload).__name__)
    )
    raise CheckpointError(f"{path} is not a cormorant_lab checkpoint ({what}; expected one of {readable})")


#: The highest degree (``maxl``, ``max_sh``) a checkpoint's configuration may ask for: its Clebsch–Gordan tables are
#: built when the model is (the paper's networks use 3; every real CG block up to 10 takes ~0.6 s).
MAX_CHECKPOINT_DEGREE = 12


def check_config_size(config: dict[str, Any], weights: int, source: str = "checkpoint") -> None:
    """Refuse a configuration that would build more than the ``weights`` numbers its checkpoint holds, before building.

    A lower bound of what ``Cormorant(**config)`` allocates, from the configuration alone: every atom level s mixes
    at least ``C_s × C_{s-1}`` weights (its degree-0 channels from the previous level's), and a width of the head,
    of the input or of the targets (where the configuration builds them), a radial function, a species, a power
    of the charge each at least one weight; degrees are capped at ``MAX_CHECKPOINT_DEGREE``.
    Values of a wrong type are left to the constructor, which names them.
    """

    def counts(name: str, default: int) -> list[int] | None:
        value = config.get(name, default)
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
        ):
            return None
        return [int(v) for v in values]

    for name in ("maxl", "max_sh"):
        degrees = counts(name, 3)
        if degrees and max(degrees) > MAX_CHECKPOINT_DEGREE:
            raise CheckpointError(
                f"{source}: its model configuration asks for {name} = {max(degrees)}; a checkpoint may ask for "
                f"degrees up to {MAX_CHECKPOINT_DEGREE} (nothing was built)"
            )
    levels, channels = counts("num_cg_levels", 4), counts("num_channels", 10)
    # widths of the parts the configuration builds (an unused width allocates nothing)
    mpnn, pmlp = config.get("input") == "mpnn", config.get("top") == "pmlp"
    used = ["num_targets", *(["mlp_width"] if mpnn or pmlp else []), *(["num_mixed"] if pmlp else [])]
    sizes = {name: counts(name, 1) for name in (*used, *(["num_mpnn_layers"] if mpnn else []))}
    sizes["charge_power"] = counts("charge_power", 2)
    basis = counts("basis_set", 3)
    sizes["basis_set (radial functions)"] = [math.prod(basis)] if basis else None
    species = config.get("species")
    sizes["species"] = [len(species)] if isinstance(species, (list, tuple)) else None
    sizes["num_cg_levels"] = levels
    if levels is not None and channels is not None and 1 <= levels[0] <= weights:
        per_level = channels * (levels[0] + 1) if len(channels) == 1 else channels
        least = sum(max(a, 0) * max(b, 0) for a, b in zip(per_level[1:], per_level[:-1], strict=False))
        if least > weights:
            raise CheckpointError(
                f"{source}: its model configuration (num_channels = {config.get('num_channels')!r}) needs at least "
                f"{least:,} weights (Σ C_s·C_(s-1) over the levels) but the checkpoint holds {weights:,} numbers; "
                f"refused before building the model"
            )
    for name, values in sizes.items():
        if values and max(values) > weights:
            raise CheckpointError(
                f"{source}: its model configuration ({name} = {max(values):,}) asks for more weights than the "
                f"{weights:,} numbers the checkpoint holds; refused before building the model"
            )


def model_from_payload(payload: dict[str, Any], source: str = "checkpoint") -> Cormorant:
    """Build the model a checkpoint describes and load its weights; anything wrong raises :class:`CheckpointError`."""
    config, state, metadata = payload.get("model_config"), payload.get("model_state"), payload.get("metadata", {})
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise CheckpointError(f"{source}: no model configuration (model_config must be a dict of named arguments)")
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{source}: no weights (model_state must be a dict of named tensors)")
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{source}: metadata must be a dict, not {type(metadata).__name__}")
    check_config_size(config, sum(tensor.numel() for tensor in state.values()), source)
    try:
        model = Cormorant(**config)
    except Exception as exc:  # noqa: BLE001 -- whatever an untrusted configuration breaks, it is a bad checkpoint
        raise CheckpointError(
            f"{source}: its model configuration cannot be built ({type(exc).__name__}: {exc})"
        ) from exc
    dtype = next((t.dtype for t in state.values() if t.is_floating_point()), torch.float32)
    if dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise CheckpointError(f"{source}: weights of dtype {dtype} are not supported")
    model = model.to(dtype)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(
            f"{source}: the weights do not match the model configuration stored with them:\n{exc}"
        ) from exc
    model.metadata = dict(metadata)
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
