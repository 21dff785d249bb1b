r"""Output: invariant scalars from every level, summed over the real atoms, then a head (paper, §5 "output").

For each level s and atom i the invariants are the l = 0 activations and the per-degree, per-channel squared
norms (the dot products :math:`F_{i,l,c} \cdot F_{i,l,c}`, the paper's
:math:`\sum_m (-1)^m F_{l,m} F_{l,-m}` in the real basis):

.. math::

    \xi_i = \bigoplus_{s} \Bigl[ F^s_{i,0} \;\oplus\; \bigoplus_{l} \bigl(\lVert F^s_{i,l,c} \rVert^2\bigr)_c \Bigr].

Heads (the reference's): :class:`OutputPMLP` (QM9 preset) applies an MLP to each atom, sums over real atoms and
applies a second MLP; :class:`OutputLinear` (MD-17 preset) sums :math:`\xi_i` over real atoms and applies one
linear map. Squared norms rather than norms keep the gradient finite at zero activations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..so3 import SO3Vec
from ._mixing import cat_split_backward
from ._mlp import mlp


def num_invariants(channels: Sequence[Sequence[int]]) -> int:
    """Length of :func:`atom_invariants` for levels with the given channels per degree."""
    return sum(c[0] + sum(c) for c in channels)


def atom_invariants(levels: Sequence[SO3Vec], *, degree_sum: torch.Tensor | None = None) -> torch.Tensor:
    """Per-atom invariants of every level: ``(B, N, num_invariants)``.

    ``degree_sum``: ``_constants.degree_sum_matrix`` of the levels' ``maxl`` (in their dtype and device). With it, levels
    that all have one channel count and one ``maxl`` are done at once (:func:`_atom_invariants_at_once`: five
    operations instead of nine per level); without it, or for other levels, level by level, as the formula reads.
    """
    one_channel_count = len({c for vec in levels for c in vec.channels}) == 1
    one_maxl = len({len(vec.parts) for vec in levels}) == 1
    if degree_sum is not None and one_channel_count and one_maxl and degree_sum.shape[-1] == len(levels[0].parts):
        if not levels[0].parts[0].is_complex():
            return _atom_invariants_at_once(levels, degree_sum)
    return atom_invariants_plain(levels)


def _atom_invariants_at_once(levels: Sequence[SO3Vec], degree_sum: torch.Tensor) -> torch.Tensor:
    """:func:`atom_invariants_plain` for S levels of C channels at every degree l ≤ L, every level at once.

    The parts of every level concatenated, ``x`` ``(B, N, C, S, Σ(2l+1))``: the squared norms are
    ``(x ∘ x) @ degree_sum`` ``(B, N, C, S, L+1)``, the scalars ``x[..., 0]``; both are laid out in the order of the
    plain form (per level: scalars, then the norms of l = 0..L, each C channels) by one permutation.
    """
    # concatenations whose gradient is one split (one kernel, not three per piece, when it is differentiated again)
    x = cat_split_backward([vec.stacked() for vec in levels], dim=-1)  # (B, N, C, S·Σ(2l+1)); no copy if made so
    x = x.unflatten(-1, (len(levels), degree_sum.shape[0]))  # (B, N, C, S, Σ(2l+1))
    norms = (x * x) @ degree_sum  # (B, N, C, S, L+1)
    invariants = cat_split_backward([x[..., :1], norms], dim=-1)  # (B, N, C, S, L+2)
    return invariants.permute(*range(invariants.dim() - 3), -2, -1, -3).flatten(-3)  # (B, N, S·(L+2)·C)


def atom_invariants_plain(levels: Sequence[SO3Vec]) -> torch.Tensor:
    """:func:`atom_invariants` level by level and degree by degree, as the formula reads: ``(B, N, num_invariants)``."""
    pieces = []
    for vec in levels:
        pieces.append(vec.scalars())
        pieces.extend(vec.squared_norms())
    return torch.cat(pieces, dim=-1)


def _sum_over_atoms(x: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
    return (x * atom_mask.unsqueeze(-1).to(x.dtype)).sum(-2)


class OutputLinear(nn.Module):
    """``y = W Σ_i ξ_i + b`` over real atoms: ``(B, N, num_in) → (B, num_out)``."""

    def __init__(self, num_in: int, num_out: int):
        super().__init__()
        self.linear = nn.Linear(num_in, num_out)

    def forward(self, invariants: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
        return self.linear(_sum_over_atoms(invariants, atom_mask))


class OutputPMLP(nn.Module):
    """``y = MLP₂(Σ_i MLP₁(ξ_i))`` over real atoms: ``(B, N, num_in) → (B, num_out)``."""

    def __init__(
        self, num_in: int, num_out: int, *, num_mixed: int = 64, width: int = 256, activation: str = "leakyrelu"
    ):
        super().__init__()
        self.atom_mlp = mlp(num_in, num_mixed, width=width, activation=activation)
        self.molecule_mlp = mlp(num_mixed, num_out, width=width, activation=activation)

    def forward(self, invariants: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
        return self.molecule_mlp(_sum_over_atoms(self.atom_mlp(invariants), atom_mask))
