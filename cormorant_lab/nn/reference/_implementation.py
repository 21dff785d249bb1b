"""Running the reference implementation itself (risilab/cormorant) beside the reference mode.

The reference is never part of this package: these helpers import it from a clone the caller names
(``reference_src``, e.g. ``/tmp/cormorant_ref/src``), build its ``CormorantQM9`` / ``CormorantMD17`` with its
command-line defaults (its ``engine/args.py``), and lay out a batch the way its ``forward`` reads it. The fixture
script, the speed benchmark and the tutorial's converter check all use them, so that the three compare against
the same reference model.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import torch

REFERENCE_DEFAULTS: dict[str, Any] = dict(
    maxl=[3],
    max_sh=[3],
    num_cg_levels=4,
    num_channels=[10],
    cutoff_type=["learn"],
    hard_cut_rad=1.73,
    soft_cut_rad=1.73,
    soft_cut_width=0.2,
    weight_init="rand",
    level_gain=[10.0],
    charge_power=2,
    basis_set=[3, 3],
    gaussian_mask=False,
    top="linear",
    input="linear",
    num_mpnn_layers=1,
)
"""The reference's command-line defaults (``engine/args.py``), as keyword arguments of its models."""


def reference_implementation_model(
    preset: str,
    species: Sequence[int],
    *,
    dtype: torch.dtype,
    reference_src: str | os.PathLike | None = None,
    **overrides: Any,
) -> torch.nn.Module:
    """The reference's ``CormorantQM9`` (``preset="qm9"``) or ``CormorantMD17`` (``"md17"``) on the CPU.

    Args:
        preset: ``"qm9"`` or ``"md17"``.
        species: atomic numbers of its one-hot, in order; ``charge_scale`` is their maximum.
        dtype: of the model.
        reference_src: a folder to import ``cormorant`` from (put first on ``sys.path``), else it must be importable.
        overrides: keyword arguments that differ from :data:`REFERENCE_DEFAULTS` (``num_channels`` may be an int).
    """
    if reference_src is not None and str(reference_src) not in sys.path:
        sys.path.insert(0, str(reference_src))
    from cormorant.models import CormorantMD17, CormorantQM9

    if preset not in ("qm9", "md17"):
        raise ValueError(f"preset must be 'qm9' or 'md17', got {preset!r}")
    args = {**REFERENCE_DEFAULTS, **overrides}
    if isinstance(args["num_channels"], int):
        args["num_channels"] = [args["num_channels"]]
    cls = CormorantQM9 if preset == "qm9" else CormorantMD17
    return cls(num_species=len(species), charge_scale=max(species), device=torch.device("cpu"), dtype=dtype, **args)


def reference_implementation_inputs(
    positions: torch.Tensor, charges: torch.Tensor, species: Sequence[int], dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    """The batch dict the reference's ``forward`` reads: positions ``(B, N, 3)`` and charges ``(B, N)`` (0 = padding)."""
    positions, charges = torch.as_tensor(positions), torch.as_tensor(charges)
    atom_mask = charges > 0
    return {
        "positions": positions.to(dtype),
        "charges": charges.to(dtype),
        "one_hot": charges.unsqueeze(-1) == torch.tensor(list(species)),
        "atom_mask": atom_mask,
        "edge_mask": atom_mask.unsqueeze(1) * atom_mask.unsqueeze(2),
    }
