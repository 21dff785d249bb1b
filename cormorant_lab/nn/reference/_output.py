r"""The reference network's output: 2 + 2 real invariants per channel and degree, summed over atoms, and its heads.

From the atom activations of every level, concatenated degree by degree (``GetScalarsAtom``):

.. math::

    \xi_i = \Bigl(\operatorname{Re} F^{0}_{i,c},\ \operatorname{Im} F^{0}_{i,c}\Bigr)_c \ \oplus\
    \Bigl(\operatorname{Re}\sum_m (-1)^m F_{i,lm}^c F_{i,l,-m}^c,\ \ \sum_m |F_{i,lm}^c|^2\Bigr)_{l, c},

i.e. 2 (τ_0 + Σ_l τ_l) reals per atom (400 for the default presets). All are rotation invariant for the
reference's vectors (turning with :math:`\overline{D}` or :math:`D` alike): the l = 0 parts do not turn, the
second is the bilinear invariant and the third the norm.

Heads: :class:`ReferenceOutputLinear` (MD-17, ``OutputLinear``): :math:`y = w \cdot \sum_i \xi_i + b`;
:class:`ReferenceOutputPMLP` (QM9, ``OutputPMLP``): :math:`y = \text{MLP}_2(\sum_i \text{MLP}_1(\xi_i))` over real atoms.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._complex import interleave
from ._input import ReferenceMLP


def reference_invariants(levels: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
    """``levels[s][l]`` complex ``(B, N, τ, 2l+1)`` → real ``(B, N, 2(τ_0 + Σ_l τ_l))`` in the reference's order."""
    degrees = max(len(level) for level in levels)
    parts = [torch.cat([level[l] for level in levels if l < len(level)], dim=-2) for l in range(degrees)]
    scalars = [interleave(parts[0][..., 0])]
    for l, part in enumerate(parts):
        signs = torch.tensor([(-1.0) ** m for m in range(-l, l + 1)], dtype=part.real.dtype, device=part.device)
        bilinear = (part * part.flip(-1) * signs).sum(-1).real
        norm = (part.real.square() + part.imag.square()).sum(-1)
        scalars.append(torch.stack([bilinear, norm], dim=-1).flatten(-2))
    return torch.cat(scalars, dim=-1)


def num_reference_invariants(channels: Sequence[Sequence[int]]) -> int:
    """Length of :func:`reference_invariants` for levels with ``channels[s][l]`` channels."""
    return 2 * (sum(level[0] for level in channels) + sum(sum(level) for level in channels))


class ReferenceOutputLinear(nn.Module):
    """``(B, N, n)`` invariants → ``(B, T)``: the sum over atoms (padding atoms are zero), then one linear map."""

    def __init__(self, num_in: int, num_targets: int = 1):
        super().__init__()
        self.linear = nn.Linear(num_in, num_targets)

    def forward(self, invariants: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
        return self.linear(invariants.sum(-2))


class ReferenceOutputPMLP(nn.Module):
    """``(B, N, n)`` → ``(B, T)``: an MLP per atom (``num_mixed`` outputs), the sum over real atoms, an MLP."""

    def __init__(
        self, num_in: int, num_targets: int = 1, *, num_mixed: int = 64, width: int = 256, activation: str = "leakyrelu"
    ):
        super().__init__()
        self.atom_mlp = ReferenceMLP(num_in, num_mixed, width, activation)
        self.molecule_mlp = ReferenceMLP(num_mixed, num_targets, width, activation)

    def forward(self, invariants: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
        x = self.atom_mlp(invariants)
        x = torch.where(atom_mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype, device=x.device)).sum(-2)
        return self.molecule_mlp(x)
