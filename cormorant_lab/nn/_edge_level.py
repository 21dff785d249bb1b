r"""The edge level: invariant pair features and the covariant edge activations built from them (paper, §5).

At level s, for every pair (i, j) and every degree l = 0..max_sh, the scalar edge features are

.. math::

    g^{s,l}_{ij} = \mu^s(r_{ij}) \odot W^{s,l}_{\text{edge}}
        \Bigl[\, g^{s-1,l}_{ij} \;\oplus\; (F^{s-1}_i \cdot F^{s-1}_j) \;\oplus\; \eta^s(r_{ij}) \,\Bigr],

the previous level's edge features, the dot products of the atoms' activations, and the learnable radial
functions, mixed by learned weights and masked by the soft cutoff :math:`\mu^s`. The dot products are taken per
degree and channel, :math:`(F_i \cdot F_j)_{l',c} = \sum_m (-1)^m F_{i,l',c,m} F_{j,l',c,-m}` in the paper's
complex basis, which is :math:`\sum_m F_{i,l',c,m} F_{j,l',c,m}` in our real one; every degree :math:`l'` of them
feeds every output degree l (the reference's ``cat=True``). All three inputs are invariant, so :math:`g` is.

The covariant edge activations are :math:`G^{s,l}_{ij} = g^{s,l}_{ij}\, Y_l(\hat r_{ij})`
(:func:`edge_activations`): an invariant times a spherical harmonic turns with :math:`D^l(R)`.

Initialization: the edge weights are normal with variance 1/fan-in (the reference drew them unscaled, which
multiplies the edge features by ~√fan-in at every level).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import torch
from torch import nn

from ..so3 import SO3Vec
from ._cutoff import SoftCutoff
from ._geometry import EdgeGeometry
from ._radial import RadialPolyTrig


def pair_dot_products(atoms: SO3Vec) -> torch.Tensor:
    r"""Invariant :math:`\sum_m F_{i,l,c,m} F_{j,l,c,m}` for every degree and channel: ``(B, sum(channels), N, N)``."""
    products = []
    for part in atoms.parts:
        channels_first = part.movedim(-2, -3)  # (B, C, N, 2l+1)
        products.append(channels_first @ channels_first.transpose(-1, -2))
    return torch.cat(products, dim=-3)


def edge_activations(scalars: Sequence[torch.Tensor], geometry: EdgeGeometry) -> SO3Vec:
    r"""Covariant :math:`G^l_{ij} = g^l_{ij} Y_l(\hat r_{ij})` from ``g`` ``(B, C, N, N)``: parts ``(B, N, N, C, 2l+1)``.

    The parts are views of tensors laid out as ``(B, C, i, m, j)``: the layout in which the CG aggregate's
    neighbour sum over j is a batched matrix product of contiguous blocks.
    """
    parts = []
    for g, y in zip(scalars, geometry.harmonics):
        product = g.unsqueeze(-2) * y.transpose(-1, -2).unsqueeze(-4)  # (B, C, i, m, j)
        parts.append(product.permute(0, 2, 4, 1, 3))
    return SO3Vec(parts)


class EdgeLevel(nn.Module):
    """Scalar edge features ``g^{s,l}_ij`` for l = 0..max_sh, each ``(B, channels, N, N)``; see the module docstring."""

    def __init__(
        self,
        atom_channels: Sequence[int],
        previous_channels: Sequence[int],
        channels: int,
        max_sh: int,
        *,
        basis_set: tuple[int, int] = (3, 3),
        cutoff_type: Collection[str] = ("learn",),
        soft_cut_rad: float = 1.73,
        soft_cut_width: float = 0.2,
        hard_cut_rad: float = 1.73,
    ):
        super().__init__()
        self.channels, self.max_sh = int(channels), int(max_sh)
        self.radial = RadialPolyTrig(basis_set)
        num_shared = sum(atom_channels) + self.radial.num_functions
        previous = list(previous_channels)[: self.max_sh + 1]
        # The dot products and radial functions feed every output degree: one weight block serves all l.
        fan_in = num_shared + max(previous, default=0)
        self.shared = nn.Parameter(torch.randn(num_shared, (self.max_sh + 1) * self.channels) / math.sqrt(fan_in))
        self.previous = nn.ParameterList(nn.Parameter(torch.randn(c, self.channels) / math.sqrt(num_shared + c)) for c in previous)
        self.cutoff = SoftCutoff(
            self.channels, cutoff_type=cutoff_type, soft_cut_rad=soft_cut_rad, soft_cut_width=soft_cut_width, hard_cut_rad=hard_cut_rad
        )

    def weight(self) -> torch.Tensor:
        """All edge weights as one ``(inputs, (max_sh+1) * channels)`` matrix: ``g^{s-1,l}`` only feeds degree l."""
        if len(self.previous) == 0:
            return self.shared
        previous = torch.block_diag(*self.previous)
        previous = nn.functional.pad(previous, (0, self.shared.shape[1] - previous.shape[1]))
        return torch.cat([self.shared, previous], dim=0)

    def forward(self, atoms: SO3Vec, previous: Sequence[torch.Tensor], geometry: EdgeGeometry) -> list[torch.Tensor]:
        """``atoms``: parts ``(B, N, τ_l, 2l+1)``; ``previous``: last level's ``g`` (empty at the first level)."""
        inputs = torch.cat([pair_dot_products(atoms), self.radial(geometry), *previous[: len(self.previous)]], dim=1)
        batch, _, atoms_count, _ = inputs.shape
        weight = self.weight().T.expand(batch, -1, -1)  # a batched product avoids transposing the (B, K, N²) inputs
        mixed = torch.bmm(weight, inputs.flatten(2)).view(batch, self.max_sh + 1, self.channels, atoms_count, atoms_count)
        return list((mixed * self.cutoff(geometry).unsqueeze(1)).unbind(1))
