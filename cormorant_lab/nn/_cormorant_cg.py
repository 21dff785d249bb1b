r"""``CormorantCG``: the stack of covariant levels, s = 1..num_cg_levels (paper, §5).

Level s first updates the edges from the atoms of level s−1 (:class:`EdgeLevel`), then the atoms from those
edges (:class:`AtomLevel`):

.. math::

    g^{s} = \text{EdgeLevel}^s(g^{s-1}, F^{s-1}, r), \qquad
    G^{s,l}_{ij} = g^{s,l}_{ij} Y_l(\hat r_{ij}), \qquad
    F^{s} = \text{AtomLevel}^s(F^{s-1}, G^{s}).

Channel bookkeeping follows the reference: level s has ``num_channels[s]`` edge channels, equal to the channels
of :math:`F^{s-1}` (the CG aggregate is channel-wise), and outputs ``num_channels[s+1]`` atom channels.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

import torch
from torch import nn

from ..so3 import SO3Vec
from ._atom_level import AtomLevel
from ._cutoff import SoftCutoff, soft_cutoffs_all
from ._edge_level import AT_ONCE_BYTES, EdgeLevel, SeparableEdges
from ._geometry import EdgeGeometry
from ._radial import RadialPolyTrig, radial_functions_all


class CormorantCG(nn.Module):
    """``num_cg_levels`` (EdgeLevel, AtomLevel) pairs; lists have one entry per level (``num_channels``: one more)."""

    def __init__(
        self,
        *,
        maxl: Sequence[int],
        max_sh: Sequence[int],
        num_channels: Sequence[int],
        basis_set: tuple[int, int] = (3, 3),
        radial_frequency_scale: float = 1.0,
        cutoff_type: Collection[str] = ("learn",),
        soft_cut_rad: Sequence[float],
        soft_cut_width: Sequence[float],
        hard_cut_rad: Sequence[float],
        level_gain: Sequence[float],
        weight_init: str = "rand",
        normalization: str = "soft",
        normalization_scale: Sequence[float] = (1.0,),
        normalization_epsilon: float = 1.0,
        block_gain: Sequence[float] = (1.0, 1.0, 1.0),
        weight_multiplier: float = 1.0,
    ):
        super().__init__()
        num_levels = len(maxl)
        self.edge_levels, self.atom_levels = nn.ModuleList(), nn.ModuleList()
        atom_channels: tuple[int, ...] = (num_channels[0],)
        previous_edges: tuple[int, ...] = ()
        for s in range(num_levels):
            self.edge_levels.append(
                EdgeLevel(
                    atom_channels,
                    previous_edges,
                    num_channels[s],
                    max_sh[s],
                    basis_set=basis_set,
                    radial_frequency_scale=radial_frequency_scale,
                    cutoff_type=cutoff_type,
                    soft_cut_rad=soft_cut_rad[s],
                    soft_cut_width=soft_cut_width[s],
                    hard_cut_rad=hard_cut_rad[s],
                    weight_multiplier=weight_multiplier,
                )
            )
            atom_level = AtomLevel(
                atom_channels,
                max_sh[s],
                maxl[s],
                num_channels[s + 1],
                gain=level_gain[s],
                weight_init=weight_init,
                normalization=normalization,
                normalization_scale=normalization_scale[min(s, len(normalization_scale) - 1)],
                normalization_epsilon=normalization_epsilon,
                block_gain=block_gain,
                weight_multiplier=weight_multiplier,
            )
            self.atom_levels.append(atom_level)
            atom_channels = atom_level.channels_out
            previous_edges = (num_channels[s],) * (max_sh[s] + 1)

    @property
    def channels(self) -> list[tuple[int, ...]]:
        """Channels per degree of each level's atom activations."""
        return [cast(AtomLevel, level).channels_out for level in self.atom_levels]

    @property
    def edge_modules(self) -> list[EdgeLevel]:
        """The edge levels, typed (each with its ``radial`` functions and ``cutoff``)."""
        return [cast(EdgeLevel, level) for level in self.edge_levels]

    def forward(
        self,
        atoms: SO3Vec,
        geometry: EdgeGeometry,
        *,
        keep_edges: bool = True,
        recompute: bool = True,
        functions: tuple[Sequence[torch.Tensor | None], Sequence[torch.Tensor | None]] | None = None,
    ) -> tuple[list[SO3Vec], list[SO3Vec]]:
        """Atom activations ``F^s`` ``(B, N, C, 2l+1)`` and edge activations ``G^s`` ``(B, N, N, C, 2l+1)``, s = 1..L.

        The levels never form ``G^s`` (see :class:`SeparableEdges`); ``keep_edges=False`` skips forming it for the
        caller too and returns an empty list of edges (the network's forward pass does, to save memory).
        ``recompute``: the levels keep small tensors for the backward pass and recompute their largest ones.
        ``functions``: every level's radial functions and cutoff mask (``None`` entries: the level computes its
        own), if the caller computed them together with others (:func:`edge_functions_at_once`).
        """
        atom_levels, edge_levels = [], []
        scalars: list = []
        edge_modules = self.edge_modules
        if functions is None:
            functions = edge_functions_at_once(
                [level.radial for level in edge_modules], [level.cutoff for level in edge_modules], geometry
            )
        radials, cutoffs = functions
        for edge_level, atom_level, radial, cutoff in zip(
            self.edge_levels, self.atom_levels, radials, cutoffs, strict=True
        ):
            scalars = edge_level(atoms, scalars, geometry, recompute=recompute, radial=radial, cutoff=cutoff)
            edges = SeparableEdges.of(scalars, geometry)
            atoms = atom_level(atoms, edges, recompute=recompute)
            atom_levels.append(atoms)
            if keep_edges:
                edge_levels.append(edges.materialize())
        return atom_levels, edge_levels


def edge_functions_at_once(
    radials: Sequence[RadialPolyTrig], cutoffs: Sequence[SoftCutoff], geometry: EdgeGeometry
) -> tuple[list[torch.Tensor | None], list[torch.Tensor | None]]:
    """``[radial(geometry)]`` and ``[cutoff(geometry)]`` of every module, each group computed at once.

    Functions of the geometry only, so every level's (and the message-passing input's) radial functions are one
    sine and one product for all of them, and their cutoffs one sigmoid step (:func:`radial_functions_all`,
    :func:`soft_cutoffs_all`): fewer kernels, the same numbers. Only as long as the temporaries stay small
    (``AT_ONCE_BYTES``: large ones are faulted in afresh at every step, slower than a kernel each); otherwise the
    entries are ``None`` and each module computes its own.
    """
    pair_bytes = geometry.distances.numel() * geometry.distances.element_size()
    radial_values: list[torch.Tensor | None] = [None] * len(radials)
    cutoff_values: list[torch.Tensor | None] = [None] * len(cutoffs)
    if radials and pair_bytes * sum(radial.num_functions for radial in radials) <= AT_ONCE_BYTES:
        radial_values = list(radial_functions_all(radials, geometry))
    if cutoffs and pair_bytes * sum(cutoff.radius.numel() for cutoff in cutoffs) <= AT_ONCE_BYTES:
        cutoff_values = list(soft_cutoffs_all(cutoffs, geometry))
    return radial_values, cutoff_values
