"""The model's inputs, checked and put in canonical form before the first layer sees them.

``Cormorant(positions, charges)`` takes positions ``(B, N, 3)`` in Å and integer charges ``(B, N)`` (atomic
numbers, 0 = padding), as torch tensors or numpy arrays. :func:`prepare_inputs` is called at the start of the
forward pass and

* converts numpy arrays to tensors on the model's device (positions in the model's dtype, charges int64), and
  raises ``TypeError`` saying what is expected for anything else;
* raises ``ValueError`` for wrong shapes, a non-integer charge tensor, or tensors on another device than the model;
* replaces the positions of padding atoms (charge 0) by 0, so that they do not matter at all, NaN included —
  with ``torch.where``, whose gradient with respect to a padding position is exactly 0;
* gives an empty molecule (``N = 0``) one padding atom, which by the previous point changes nothing: the model
  then predicts what it predicts for a molecule of padding only, and zero forces of shape ``(B, 0, 3)``;
* when ``validate`` is on (``Cormorant.validate_inputs``, default True), raises ``ValueError`` naming the molecule
  and atom of the first charge the model does not know or the first non-finite position of a real atom; both
  checks share one host synchronisation.
"""

from __future__ import annotations

import numpy as np
import torch

from ._input import check_charges


def _as_tensor(value, name: str, expected: str, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object or value.dtype.kind not in "biuf":
            raise TypeError(f"{name}: a numpy array of dtype {value.dtype} cannot be used; expected {expected}")
        return torch.as_tensor(value, device=device)
    raise TypeError(f"{name} must be a torch.Tensor or a numpy array, {expected}; got {type(value).__name__}")


def prepare_inputs(
    positions, charges, *, species: torch.Tensor, dtype: torch.dtype, validate: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked, canonical ``positions`` ``(B, max(N, 1), 3)`` (``dtype``) and ``charges`` ``(B, max(N, 1))``; see the
    module docstring. ``species`` ``(S,)``: the atomic numbers the model knows (on the model's device)."""
    device = species.device
    positions = _as_tensor(positions, "positions", "(batch, atoms, 3) of floats in Å", device)
    charges = _as_tensor(charges, "charges", "(batch, atoms) of integer atomic numbers (0 = padding)", positions.device)
    if positions.dim() != 3 or positions.shape[-1] != 3:
        raise ValueError(f"positions must have shape (batch, atoms, 3), got {tuple(positions.shape)}")
    if positions.is_complex() or positions.dtype == torch.bool:
        raise ValueError(f"positions must be real numbers, got {positions.dtype}")
    if charges.shape != positions.shape[:2]:
        raise ValueError(
            f"charges must have shape (batch, atoms) = {tuple(positions.shape[:2])}, got {tuple(charges.shape)}"
        )
    if charges.is_floating_point() or charges.is_complex() or charges.dtype == torch.bool:
        raise ValueError(f"charges must be an integer tensor (atomic numbers, 0 for padding), got {charges.dtype}")
    for name, tensor in (("positions", positions), ("charges", charges)):
        if tensor.device != device:
            raise ValueError(
                f"{name} are on {tensor.device}, the model on {device}: move one of them (tensor.to(device))"
            )
    positions = positions.to(dtype)
    if positions.shape[1] == 0:  # an empty molecule: one padding atom, which changes nothing (below)
        positions = torch.cat([positions, positions.new_zeros(positions.shape[0], 1, 3)], dim=1)
        charges = torch.cat([charges, charges.new_zeros(charges.shape[0], 1)], dim=1)
    real = charges != 0
    if validate:
        _check(positions, charges, real, species)
    positions = torch.where(real.unsqueeze(-1), positions, torch.zeros((), dtype=dtype, device=positions.device))
    return positions, charges


def _check(positions: torch.Tensor, charges: torch.Tensor, real: torch.Tensor, species: torch.Tensor) -> None:
    known = (charges.unsqueeze(-1) == species).any(-1) | ~real
    finite = torch.isfinite(positions).all(-1) | ~real
    if bool((known & finite).all()):  # one host synchronisation per forward, for clear error messages
        return
    check_charges(charges, species)  # raises, naming molecule and atom, if a charge is unknown
    molecule, atom = (int(i) for i in (~finite).nonzero()[0])
    raise ValueError(
        f"non-finite position {positions[molecule, atom].tolist()} of a real atom at (molecule {molecule}, atom {atom}, "
        f"charge {int(charges[molecule, atom])}); padding atoms (charge 0) may hold anything"
    )


def as_tensor_inputs(positions, charges, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Only the numpy → tensor conversion (for ``energy_and_forces``, which differentiates by the positions)."""
    positions = _as_tensor(positions, "positions", "(batch, atoms, 3) of floats in Å", device)
    if not positions.is_floating_point() and not positions.is_complex():
        positions = positions.to(dtype)
    return positions, charges
