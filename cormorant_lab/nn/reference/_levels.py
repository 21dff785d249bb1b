r"""One level of the reference network: the scalar edge level, then the atom level (paper, §5, eqs. 7–9).

**Edge level** (``CormorantEdgeLevel``). For every pair, per edge degree :math:`l = 0..\text{max\_sh}`, the complex
scalars

.. math::

    g^{s}_{ij,l} = \mu^s(r_{ij}) \odot W^{s,\text{edge}}_l
        \bigl[\, g^{s-1}_{ij,l},\ \ (F^{s-1}_i \cdot F^{s-1}_j)_{l'=0..L},\ \ \eta(r_{ij}) \,\bigr]

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

    F^s_i = W^{s}\Bigl[\ \textstyle\sum_j G^s_{ij} \otimes_{cg} F^{s-1}_j,\ \ F^{s-1}_i,
        \ \ F^{s-1}_i \otimes_{cg} F^{s-1}_i\ \Bigr]_{l \le \text{maxl}},

channel-wise CG products in the complex basis (:func:`~cormorant_lab.so3.cg_aggregate`,
:func:`~cormorant_lab.so3.cg_product`; the full square, as the reference computes it) and complex mixing.
Everything here is complex and unnormalized, as in the reference.

Lean forms (the same function, ``ReferenceAtomLevel(..., lean=True)``, the default; tested equal to the textbook
form, values and gradients): the neighbour sum is contracted channels-first without forming
:math:`G = g\Upsilon` in the einsum's layout (:func:`neighbour_aggregate`), and the square is computed by its
distinct half (:func:`~cormorant_lab.so3.cg_square`) with the mixing weights of the full square folded onto it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...so3 import (
    SO3Vec,
    cg_aggregate,
    cg_product,
    cg_square,
    cg_square_expansion,
    output_channels,
    pieces_by_degree,
    plans_for,
)
from ._complex import ComplexMixing, as_complex
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


def neighbour_aggregate(
    edges: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor], atoms: Sequence[torch.Tensor], maxl: int
) -> list[torch.Tensor]:
    r""":math:`\sum_j G_{ij} \otimes_{cg} F_j` with :math:`G^l_{ij} = g^l_{ij}\Upsilon^l_{ij}`, channels first (lean form).

    ``edges[l]`` ``(B, N, N, C)``, ``harmonics[l]`` ``(B, N, N, 2l+1)``, ``atoms[l]`` ``(B, N, C, 2l+1)``, all complex.
    Returns the parts of ``cg_aggregate(SO3Vec(G), SO3Vec(atoms), maxl)``: ``(B, N, channels_l, 2l+1)``.
    """
    f = torch.cat(list(atoms), dim=-1).transpose(1, 2)  # (B, C, j, (L2+1)²)
    plans = plans_for(len(edges) - 1, len(atoms) - 1, maxl, f, BASIS)
    n = f.shape[2]

    def row(plan) -> torch.Tensor:
        g = edges[plan.l1].permute(0, 3, 1, 2)  # (B, C, i, j)
        y = harmonics[plan.l1].transpose(-1, -2)  # (B, i, x, j)
        summed = (g.unsqueeze(-2) * y.unsqueeze(1)).flatten(2, 3) @ f  # (B, C, i·x, (L2+1)²)
        return summed.unflatten(2, (n, -1)).flatten(-2) @ plan.matrix.to(f.dtype)  # (B, C, i, Σ(2l+1))

    pieces = pieces_by_degree(plans, row, min(maxl, len(edges) - 1 + len(atoms) - 1) + 1)
    return [torch.cat(p, dim=1).transpose(1, 2) for p in pieces]


class ReferenceEdgeLevel(nn.Module):
    """Edge scalars :math:`g^s` (module docstring): per degree l = 0..max_sh, complex ``(B, N, N, channels)``.

    Args:
        edge_channels: channels of the previous edge level per degree (empty at level 1).
        atom_channels: :math:`\\tau_l` of :math:`F^{s-1}`.
        radial_channels: complex radial functions per pair (half the real basis size).
        channels, max_sh: output channels and degrees.
        cutoff_type, hard_cut_rad, soft_cut_rad, soft_cut_width: :class:`ChannelCutoff`.
    """

    def __init__(
        self,
        edge_channels: Sequence[int],
        atom_channels: Sequence[int],
        radial_channels: int,
        channels: int,
        max_sh: int,
        cutoff_type,
        hard_cut_rad: float,
        soft_cut_rad: float,
        soft_cut_width: float,
    ):
        super().__init__()
        self.max_sh = int(max_sh)
        dot = sum(atom_channels)
        degrees = max(len(edge_channels), len(atom_channels), self.max_sh + 1)
        cat = [
            (edge_channels[l] if l < len(edge_channels) else 0)
            + (dot if l < len(atom_channels) else 0)
            + radial_channels
            for l in range(min(degrees, self.max_sh + 1))
        ]
        self.num_atom_degrees = len(atom_channels)
        self.mixing = ComplexMixing(cat, channels, init="randn", gain=1.0)
        self.lean = True  # False: the textbook form (concatenate, then mix), the same function
        self.cutoff = ChannelCutoff(channels, cutoff_type, hard_cut_rad, soft_cut_rad, soft_cut_width)

    def forward(
        self,
        edges: Sequence[torch.Tensor] | None,
        atoms: Sequence[torch.Tensor],
        radial: torch.Tensor,
        pair_mask: torch.Tensor,
        norms: torch.Tensor,
    ) -> list[torch.Tensor]:
        dots = pair_dot_products(atoms)
        edges = list(edges or [])
        mask = self.cutoff(pair_mask, norms).to(radial.dtype)
        if not self.lean:  # textbook: concatenate [g^{s-1}_l, dots, η] and mix, per degree
            cat = [
                torch.cat(
                    [
                        e
                        for e in (edges[l] if l < len(edges) else None, dots if l < len(atoms) else None, radial)
                        if e is not None
                    ],
                    dim=-1,
                )
                for l in range(len(self.mixing.weights))
            ]
            return [g * mask for g in self.mixing(cat, channel_axis=-1)]
        # lean: the blocks of each W_l apart, the dots' and η's blocks of every degree in one product each
        weights = [as_complex(w) for w in self.mixing.weights]
        previous = [edges[l].shape[-1] if l < len(edges) else 0 for l in range(len(weights))]
        dot_degrees = [l for l in range(len(weights)) if l < len(atoms)]
        d = dots.shape[-1]
        from_dots = (dots @ torch.cat([weights[l][:, previous[l] : previous[l] + d] for l in dot_degrees]).T).split(
            weights[0].shape[0], dim=-1
        )
        radial_cols = [weights[l][:, previous[l] + (d if l < len(atoms) else 0) :] for l in range(len(weights))]
        from_radial = (radial @ torch.cat(radial_cols).T).split(weights[0].shape[0], dim=-1)
        out = []
        for l, w in enumerate(weights):
            g = from_radial[l]
            if l < len(atoms):
                g = g + from_dots[l]
            if previous[l]:
                g = g + edges[l] @ w[:, : previous[l]].T
            out.append(g * mask)
        return out


class ReferenceAtomLevel(nn.Module):
    """Atom activations :math:`F^s` (module docstring): complex parts ``(B, N, channels, 2l+1)``, l = 0..maxl.

    Args:
        atom_channels: :math:`\\tau_l` of :math:`F^{s-1}` (one count at every degree: the CG products are channel-wise).
        edge_degrees: number of edge degrees (max_sh + 1); the edges have ``atom_channels[0]`` channels.
        maxl, channels: output degrees and channels.
        gain, init: mixing initialization (:class:`ComplexMixing`; the reference's ``level_gain``, ``weight_init``).
    """

    def __init__(
        self,
        atom_channels: Sequence[int],
        edge_degrees: int,
        maxl: int,
        channels: int,
        gain: float,
        init: str,
        *,
        lean: bool = True,
    ):
        super().__init__()
        if len(set(atom_channels)) != 1:
            raise ValueError(
                f"the reference's CG products are channel-wise: every degree needs the same channels, got {list(atom_channels)}"
            )
        c, atom_maxl, self.maxl = atom_channels[0], len(atom_channels) - 1, int(maxl)
        aggregate = output_channels(c, edge_degrees - 1, atom_maxl, self.maxl)
        square = output_channels(c, atom_maxl, atom_maxl, self.maxl)
        degrees = self.maxl + 1
        cat = [sum(t[l] for t in (aggregate, atom_channels, square) if l < len(t)) for l in range(degrees)]
        cat = [n for n in cat if n]
        self.mixing = ComplexMixing(cat, channels, init=init, gain=gain)
        self.lean, self.channels = lean, c
        self.num_square = [square[l] if l < len(square) else 0 for l in range(len(cat))]

    def forward(
        self, atoms: Sequence[torch.Tensor], edges: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        if self.lean:
            return self._lean(atoms, edges, harmonics)
        f = SO3Vec(list(atoms), basis=BASIS)
        g = SO3Vec([e.unsqueeze(-1) * y.unsqueeze(-2) for e, y in zip(edges, harmonics, strict=False)], basis=BASIS)
        aggregate = cg_aggregate(g, f, self.maxl)
        square = cg_product(f, f, self.maxl)
        cat = SO3Vec.cat([aggregate, f.truncate(self.maxl), square])
        return self.mixing(cat.parts)

    def _lean(self, atoms, edges, harmonics) -> list[torch.Tensor]:
        """The textbook form's function: the square's mixing columns folded onto its distinct pieces, W_sq E_l."""
        f = SO3Vec(list(atoms), basis=BASIS)
        aggregate = neighbour_aggregate(edges, harmonics, atoms, self.maxl)
        square = cg_square(f, self.maxl).parts
        expansions = cg_square_expansion(self.channels, f.maxl, self.maxl)
        out = []
        for l, weight in enumerate(self.mixing.weights):
            w = as_complex(weight)
            rest = [
                p
                for p in (aggregate[l] if l < len(aggregate) else None, f.parts[l] if l < len(f.parts) else None)
                if p is not None
            ]
            x = torch.cat(rest, dim=-2) if len(rest) > 1 else rest[0]
            k = x.shape[-2]
            y = w[:, :k] @ x
            if self.num_square[l]:
                folded = w[:, k:] @ expansions[l].to(device=w.device, dtype=w.dtype)
                y = y + folded @ square[l]
            out.append(y)
        return out
