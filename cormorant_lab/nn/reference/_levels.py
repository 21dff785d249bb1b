r"""One level of the reference network: the scalar edge level, then the atom level (paper, §5, eqs. 7–9).

**Edge level** (``CormorantEdgeLevel``). For every pair, per edge degree :math:`l = 0..\text{max\_sh}`, the complex
scalars

.. math::

    g^{s}_{ij,l} = \mu^s(r_{ij}) \odot W^{s,\text{edge}}_l \bigl[\, g^{s-1}_{ij,l},\ \ (F^{s-1}_i \cdot F^{s-1}_j)_{l'=0..L},\ \ \eta(r_{ij}) \,\bigr]

are mixed from a concatenation of the previous level's edge scalars (absent at level 1), the dot products of the
atom activations of **every** degree (one block, fed to every edge degree up to the atoms' maxl — at level 1 the
atoms have l = 0 only, so they feed :math:`l = 0` only), and the radial basis :math:`\eta` read as complex numbers
(16 for ``basis_set=(3, 3)``), then cut off per channel by :math:`\mu` (:class:`ChannelCutoff`). The dot product
is the reference's

.. math:: (F_i \cdot F_j)_{l,c} = \sum_m (-1)^m F_{i,lm}^c\, F_{j,l,-m}^c,

which equals :math:`\sum_m F_{i,lm}\overline{F_{j,lm}}` only for vectors satisfying the reality condition
:math:`F_{l,-m} = (-1)^m \overline{F_{lm}}` (the reference's are not constrained to it).

**Atom level** (``CormorantAtomLevel``), with :math:`G^s_{ij,l} = g^s_{ij,l}\,\Upsilon^l_{ij}`:

.. math::

    F^s_i = W^{s}\Bigl[\ \textstyle\sum_j G^s_{ij} \otimes_{cg} F^{s-1}_j,\ \ F^{s-1}_i,\ \ F^{s-1}_i \otimes_{cg} F^{s-1}_i\ \Bigr]_{l \le \text{maxl}},

channel-wise CG products in the complex basis (:func:`~cormorant_lab.so3.cg_aggregate`,
:func:`~cormorant_lab.so3.cg_product`; the full square, as the reference computes it) and complex mixing.
Everything here is complex and unnormalized, as in the reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...so3 import SO3Vec, cg_aggregate, cg_product, output_channels
from ._complex import ComplexMixing
from ._geometry import ChannelCutoff

BASIS = "complex"


def pair_dot_products(atoms: Sequence[torch.Tensor]) -> torch.Tensor:
    r""":math:`\sum_m (-1)^m F_{i,lm} F_{j,l,-m}` per degree and channel, degrees concatenated: ``(B, N, N, Σ_l τ_l)``.

    ``atoms[l]`` is complex ``(B, N, τ_l, 2l+1)``.
    """
    out = []
    for l, part in enumerate(atoms):
        signs = torch.tensor([(-1.0) ** m for m in range(-l, l + 1)], dtype=part.real.dtype, device=part.device)
        out.append(torch.einsum("bicm,bjcm->bijc", part, part.flip(-1) * signs))
    return torch.cat(out, dim=-1)


class ReferenceEdgeLevel(nn.Module):
    """Edge scalars :math:`g^s` (module docstring): per degree l = 0..max_sh, complex ``(B, N, N, channels)``.

    Args:
        edge_channels: channels of the previous edge level per degree (empty at level 1).
        atom_channels: :math:`\\tau_l` of :math:`F^{s-1}`.
        radial_channels: complex radial functions per pair (half the real basis size).
        channels, max_sh: output channels and degrees.
        cutoff_type, hard_cut_rad, soft_cut_rad, soft_cut_width: :class:`ChannelCutoff`.
    """

    def __init__(self, edge_channels: Sequence[int], atom_channels: Sequence[int], radial_channels: int, channels: int, max_sh: int,
                 cutoff_type, hard_cut_rad: float, soft_cut_rad: float, soft_cut_width: float):
        super().__init__()
        self.max_sh = int(max_sh)
        dot = sum(atom_channels)
        degrees = max(len(edge_channels), len(atom_channels), self.max_sh + 1)
        cat = [(edge_channels[l] if l < len(edge_channels) else 0) + (dot if l < len(atom_channels) else 0) + radial_channels
               for l in range(min(degrees, self.max_sh + 1))]
        self.num_atom_degrees = len(atom_channels)
        self.mixing = ComplexMixing(cat, channels, init="randn", gain=1.0)
        self.cutoff = ChannelCutoff(channels, cutoff_type, hard_cut_rad, soft_cut_rad, soft_cut_width)

    def forward(self, edges: Sequence[torch.Tensor] | None, atoms: Sequence[torch.Tensor], radial: torch.Tensor,
                pair_mask: torch.Tensor, norms: torch.Tensor) -> list[torch.Tensor]:
        dots = pair_dot_products(atoms)
        edges = list(edges or [])
        cat = [torch.cat([e for e in (edges[l] if l < len(edges) else None, dots if l < len(atoms) else None, radial) if e is not None], dim=-1)
               for l in range(len(self.mixing.weights))]
        mask = self.cutoff(pair_mask, norms).to(radial.dtype)
        return [g * mask for g in self.mixing(cat, channel_axis=-1)]


class ReferenceAtomLevel(nn.Module):
    """Atom activations :math:`F^s` (module docstring): complex parts ``(B, N, channels, 2l+1)``, l = 0..maxl.

    Args:
        atom_channels: :math:`\\tau_l` of :math:`F^{s-1}` (one count at every degree: the CG products are channel-wise).
        edge_degrees: number of edge degrees (max_sh + 1); the edges have ``atom_channels[0]`` channels.
        maxl, channels: output degrees and channels.
        gain, init: mixing initialization (:class:`ComplexMixing`; the reference's ``level_gain``, ``weight_init``).
    """

    def __init__(self, atom_channels: Sequence[int], edge_degrees: int, maxl: int, channels: int, gain: float, init: str):
        super().__init__()
        if len(set(atom_channels)) != 1:
            raise ValueError(f"the reference's CG products are channel-wise: every degree needs the same channels, got {list(atom_channels)}")
        c, atom_maxl, self.maxl = atom_channels[0], len(atom_channels) - 1, int(maxl)
        aggregate = output_channels(c, edge_degrees - 1, atom_maxl, self.maxl)
        square = output_channels(c, atom_maxl, atom_maxl, self.maxl)
        degrees = self.maxl + 1
        cat = [sum(t[l] for t in (aggregate, atom_channels, square) if l < len(t)) for l in range(degrees)]
        cat = [n for n in cat if n]
        self.mixing = ComplexMixing(cat, channels, init=init, gain=gain)

    def forward(self, atoms: Sequence[torch.Tensor], edges: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        f = SO3Vec(list(atoms), basis=BASIS)
        g = SO3Vec([e.unsqueeze(-1) * y.unsqueeze(-2) for e, y in zip(edges, harmonics)], basis=BASIS)
        aggregate = cg_aggregate(g, f, self.maxl)
        square = cg_product(f, f, self.maxl)
        cat = SO3Vec.cat([aggregate, f.truncate(self.maxl), square])
        return self.mixing(cat.parts)
