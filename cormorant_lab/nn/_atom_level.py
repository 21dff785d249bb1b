r"""The atom level: Cormorant's covariant vertex update (paper, §5, with the aggregate of eq. 8).

.. math::

    F^s_i = \mathcal{N}\Bigl( W^s \Bigl[\, F^{s-1}_i \;\oplus\; \bigl(F^{s-1}_i \otimes_{cg} F^{s-1}_i\bigr)
        \;\oplus\; \sum_j G^s_{ij} \otimes_{cg} F^{s-1}_j \,\Bigr]_{l \le \text{maxl}} \Bigr)

* the identity term keeps the previous activation, the CG square :math:`F_i \otimes_{cg} F_i` is the one-body
  nonlinearity, and :math:`\sum_j G_{ij} \otimes_{cg} F_j` (summed over neighbours *before* the coupling, by
  :func:`~cormorant_lab.so3.cg_aggregate`) is the two-body message;
* the weights :math:`W^s` are the reference's, one column per channel of the full bracket. The square's blocks
  repeat up to sign, ``(l2, l1)`` = ±``(l1, l2)``, or vanish (``l1 = l2``, odd l), so the level computes only the
  distinct ones (:func:`~cormorant_lab.so3.cg_square`) and folds the repeated columns of :math:`W^s` into them,
  :math:`W_l E_l` (:func:`~cormorant_lab.so3.cg_square_expansion`): the same function, with about half the
  square's work and memory. Edges given as their factors :math:`g_{ij} Y(\hat r_{ij})`
  (:class:`SeparableEdges`) are never formed (:func:`~cormorant_lab.so3.cg_aggregate_separable`);
* :math:`\oplus` concatenates channels degree by degree; everything above ``maxl`` is dropped;
* :math:`W^s` is the per-degree channel mixing :class:`~cormorant_lab.nn.SO3Linear`;
* :math:`\mathcal{N}` is the covariant soft normalization (our addition, see ``_normalization``).

Each piece is covariant (the CG product intertwines :math:`D^{l_1} \otimes D^{l_2}` with :math:`D^l`), so the
level is: :math:`F \mapsto F D^\top`, :math:`G \mapsto G D^\top` give :math:`F^s \mapsto F^s D^\top`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import torch
from torch import nn

from ..so3 import (
    SO3Vec,
    cg_aggregate,
    cg_square_expansion,
    iter_separable_aggregate_pieces,
    iter_square_pieces,
    output_channels,
)
from ._cg_plans import CouplingPlans
from ._constants import degree_sum_matrix
from ._edge_level import SeparableEdges
from ._mixing import SO3Linear, broadcast_matmul, cat_split_backward, matmuls_recomputing
from ._normalization import CovariantNormalization, soft_normalize_stacked

COMPONENTS_PER_CHUNK = 3  # harmonic components of the edges formed at once in the backward pass's recomputation


def _combined_channels(atom_channels: Sequence[int], max_sh: int, maxl: int) -> tuple[int, ...]:
    """Channels per degree of ``[F ⊕ F⊗F ⊕ Σ G⊗F]`` truncated at ``maxl`` (F has one channel count C).

    Degrees that no term reaches (e.g. maxl = 3 from scalar atoms and max_sh = 1) are left out.
    """
    channels, max_in = atom_channels[0], len(atom_channels) - 1
    counts = [0] * (maxl + 1)
    for term in (
        atom_channels,
        output_channels(channels, max_in, max_in, maxl),
        output_channels(channels, max_sh, max_in, maxl),
    ):
        for l, count in enumerate(term[: maxl + 1]):
            counts[l] += count
    while counts[-1] == 0:
        counts.pop()
    return tuple(counts)


class AtomLevel(nn.Module):
    """One atom level; atoms ``(B, N, C, 2l+1)`` for l ≤ L_in and edges ``(B, N, N, C, 2l+1)`` for l ≤ max_sh."""

    _degree_sum: torch.Tensor  # a buffer (see __init__)

    def __init__(
        self,
        atom_channels: Sequence[int],
        max_sh: int,
        maxl: int,
        channels_out: int,
        *,
        gain: float = 10.0,
        weight_init: str = "rand",
        normalization: str = "soft",
        normalization_scale: float = 1.0,
        normalization_epsilon: float = 1.0,
        block_gain: Sequence[float] = (1.0, 1.0, 1.0),
        weight_multiplier: float = 1.0,
    ):
        super().__init__()
        if len(set(atom_channels)) != 1:
            raise ValueError(f"AtomLevel needs the same number of channels at every degree, got {tuple(atom_channels)}")
        self.atom_channels = tuple(atom_channels)
        self.max_sh = int(max_sh)
        combined = _combined_channels(self.atom_channels, self.max_sh, int(maxl))
        self.maxl = len(combined) - 1  # degrees above what the products can reach are dropped
        self.mix = SO3Linear(  # over the full bracket
            combined, channels_out, gain=gain, init=weight_init, multiplier=weight_multiplier
        )
        self.normalize = CovariantNormalization(normalization, normalization_scale, normalization_epsilon)
        in_degrees, channels = len(self.atom_channels), self.atom_channels[0]
        square = output_channels(channels, in_degrees - 1, in_degrees - 1, self.maxl)
        # Column ranges of the square in W_l, and the ±1 matrices E_l that fold them onto the distinct pieces.
        self._square_columns: tuple[tuple[int, int] | None, ...] = tuple(
            (self.atom_channels[l] if l < in_degrees else 0, square[l]) if l < len(square) else None
            for l in range(self.maxl + 1)
        )
        if len(block_gain) != 3:
            raise ValueError(f"block_gain must be three factors (on F, F⊗F, ΣG⊗F), got {block_gain!r}")
        if tuple(block_gain) != (1.0, 1.0, 1.0):  # initial scale of the weights on F, F⊗F and ΣG⊗F
            with torch.no_grad():
                for l, weight in enumerate(self.mix.weights):
                    own = self.atom_channels[l] if l < in_degrees else 0
                    columns = self._square_columns[l]
                    width = columns[1] if columns is not None else 0
                    weight[:, :own].mul_(block_gain[0])
                    weight[:, own : own + width].mul_(block_gain[1])
                    weight[:, own + width :].mul_(block_gain[2])
        self.square_plans = CouplingPlans(in_degrees - 1, in_degrees - 1, self.maxl, basis="real", square=True)
        self.aggregate_plans = CouplingPlans(self.max_sh, in_degrees - 1, self.maxl, basis="real")
        for l, expansion in enumerate(cg_square_expansion(channels, in_degrees - 1, self.maxl)):
            start, _ = cast(tuple[int, int], self._square_columns[l])
            after = self.mix.weights[l].shape[1] - start - expansion.shape[0]
            # W_l @ fold_l = [W_own | W_square E_l | W_rest]: the fold as one product (identity on the other columns),
            # times the multiplier C (W_l = C·V_l, exact for C a power of two), which then costs no operation
            fold = torch.block_diag(torch.eye(start), expansion, torch.eye(after)) * self.mix.multiplier
            self.register_buffer(f"_fold_{l}", fold.to(torch.get_default_dtype()), persistent=False)
        # The 0/1 matrix that sums the components m of each degree l (the parts concatenated): (Σ(2l+1), maxl+1).
        degree_sum = degree_sum_matrix(self.maxl).to(torch.get_default_dtype())
        self.register_buffer("_degree_sum", degree_sum, persistent=False)

    @property
    def channels_out(self) -> tuple[int, ...]:
        return self.mix.channels_out

    def folded_weights(self) -> list[torch.Tensor]:
        """``W_l`` with the square's columns folded, ``W_l E_l``: weights for ``[F ⊕ cg_square(F) ⊕ ΣG⊗F]``.

        One product per degree with the constant ``C·diag(I, E_l, I)`` (exact: the identity blocks copy the other
        columns, every other term is an exact zero), not a split, a product and a concatenation; ``C`` is the
        mixing's ``multiplier`` (``W_l = C·V_l``, :class:`~cormorant_lab.nn.SO3Linear`), folded in for free.
        """
        return [
            self.mix.effective_weight(l) if self._square_columns[l] is None else weight @ getattr(self, f"_fold_{l}")
            for l, weight in enumerate(self.mix.weights)
        ]

    def bracket(self, atoms: SO3Vec, edges: SO3Vec | SeparableEdges, *, lean: bool = False) -> list[torch.Tensor]:
        """``[F ⊕ cg_square(F) ⊕ Σ_j G_ij ⊗cg F_j]`` truncated at ``maxl``, channels first: ``(B, τ_l, N, 2l+1)`` per l.

        The order of the channels is that of :meth:`folded_weights`. Channels first, every large product of the
        level is one matrix product without copies: the CG couplings, the neighbour sum and the mixing.
        ``lean`` forms the edges a few harmonic components at a time (smaller temporaries, more operations).
        """
        return [_from_components_major(part) for part in self._components_major_bracket(atoms, edges, lean=lean)]

    def _components_major_bracket(
        self, atoms: SO3Vec, edges: SO3Vec | SeparableEdges, *, lean: bool = False
    ) -> list[torch.Tensor]:
        """:meth:`bracket` with the channels, then the components outermost, contiguous: ``(τ_l, 2l+1, B, N)`` per l.

        In this layout the mixing of every molecule is one matrix product ``W_l (τ_l, (2l+1)·B·N)`` (and its weight
        gradient one product, not a batched product and a sum over the batch), and the CG pieces, made
        components-major (``components_major_matmul``), are copied into it in runs of ``B·N`` numbers.
        (``B``: any batch axes.)
        """
        blocks: list[list[torch.Tensor]] = [[] for _ in range(self.maxl + 1)]
        for l, block in self._bracket_blocks(atoms, edges, lean=lean):
            blocks[l].append(block.movedim(-3, 0).movedim(-1, 1))  # (c, 2l+1, B, N), a view
        # a differentiated backward pass (forces: not lean) gets concatenations whose gradient is one split
        cat = torch.cat if lean else cat_split_backward
        return [cat(pieces, dim=0) for pieces in blocks]

    def _bracket_blocks(
        self, atoms: SO3Vec, edges: SO3Vec | SeparableEdges, *, lean: bool
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """``(l, block)``: the channel blocks ``(B, c, N, 2l+1)`` of the bracket, each degree's in channel order.

        ``lean`` forms the edges ``COMPONENTS_PER_CHUNK`` harmonic components at a time (smaller temporaries).
        """
        channels_first = [part.transpose(-2, -3) for part in atoms.parts]  # (B, C, N, 2l+1), views
        yield from enumerate(channels_first[: self.maxl + 1])
        own = atoms.basis == "real"  # the plans held as buffers are real-basis ones
        stacked = atoms.stacked()  # (B, N, C, (L+1)²): no copy when the previous level made the parts
        # the square's rows channels outermost, (C, B, N): its pieces come components-major, (2l+1, C, B, N)
        outer_stacked = stacked.movedim(-2, 0).contiguous()  # (C, B, N, (L+1)²), small: one copy for every degree
        square = iter_square_pieces(
            list(outer_stacked.split([part.shape[-1] for part in atoms.parts], dim=-1)),
            self.maxl,
            atoms.basis,
            plans=self.square_plans() if own else None,
            components_major=True,
            stacked=outer_stacked,
            all_rows=self.square_plans.all_rows() if own else None,
        )
        yield from ((l, piece.movedim(0, -3)) for l, piece in square)
        if isinstance(edges, SeparableEdges):
            # (B, C, N, (L+1)²), contiguous: no copy after a soft-normalized level (its output is stored so); else one
            # copy here, not one in each of the aggregate's batched products that read it
            f_all = stacked.transpose(-2, -3).contiguous()
            chunk = COMPONENTS_PER_CHUNK if lean else None
            own_edges = own and len(edges.scalars) == self.max_sh + 1
            plans = self.aggregate_plans() if own_edges else None
            yield from iter_separable_aggregate_pieces(
                edges.scalars,
                edges.harmonics,
                f_all,
                self.maxl,
                atoms.basis,
                chunk=chunk,
                plans=plans,
                components_major=True,
                stacked_harmonics=edges.stacked_harmonics,
                all_rows=self.aggregate_plans.all_rows() if own_edges else None,
            )
        else:
            yield from enumerate(part.transpose(-2, -3) for part in cg_aggregate(edges, atoms, self.maxl).parts)

    def forward(self, atoms: SO3Vec, edges: SO3Vec | SeparableEdges, *, recompute: bool = True) -> SO3Vec:
        """``F^s`` from ``F^{s-1}`` (``atoms``) and ``G^s`` (``edges``): parts ``(B, N, channels_out, 2l+1)``.

        Equal to ``normalize(mix(F, cg_product(F, F), cg_aggregate(G, F)))`` truncated at ``maxl``. With
        ``recompute`` the bracket, the largest activation of a level, is not kept for the backward pass: the
        weight gradient recomputes it from ``F``, ``g`` and ``Y`` (or ``G``), one degree at a time
        (:func:`~cormorant_lab.nn._mixing.matmuls_recomputing`). Without, autograd keeps it (faster when the
        backward pass is itself differentiated, as in training on forces).
        """
        lean = recompute and torch.is_grad_enabled()
        bracket = [
            part.flatten(1) for part in self._components_major_bracket(atoms, edges, lean=lean)
        ]  # (τ_l, (2l+1)·B·N)
        weights = self.folded_weights()
        if lean:
            degrees = len(atoms.parts)
            separable = isinstance(edges, SeparableEdges)
            edge_tensors = (
                (*edges.scalars, *edges.harmonics) if isinstance(edges, SeparableEdges) else tuple(edges.parts)
            )

            def recompute_bracket(*tensors: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
                vec = SO3Vec(list(tensors[:degrees]), basis=atoms.basis)
                rest = tensors[degrees:]
                again = (
                    SeparableEdges(rest[: len(rest) // 2], rest[len(rest) // 2 :])
                    if separable
                    else SO3Vec(list(rest), basis=cast(SO3Vec, edges).basis)
                )
                # each degree's bracket whole (the weight gradient takes one product per degree): no copy per block
                return enumerate(part.flatten(1) for part in self._components_major_bracket(vec, again, lean=True))

            mixed: Sequence[torch.Tensor] = matmuls_recomputing(
                weights, bracket, recompute_bracket, *atoms.parts, *edge_tensors
            )
        else:
            mixed = [broadcast_matmul(w, x) for w, x in zip(weights, bracket, strict=False)]
        shape = tuple(atoms.batch_shape)  # (B, N)
        if self.normalize.mode == "soft" and len(set(self.channels_out)) == 1 and not mixed[0].is_complex():
            # the parts as views of one tensor, which the next level reads without concatenating them again
            normalized = self._soft_normalize_components_major(mixed, shape)
            return SO3Vec.from_stacked(normalized.transpose(-2, -3), basis=atoms.basis)
        channels_first = [
            _from_components_major(m.unflatten(-1, (2 * l + 1, *shape))) for l, m in enumerate(mixed)
        ]  # (B, τ'_l, N, 2l+1), views
        parts = [part.transpose(-2, -3) for part in channels_first]  # (B, N, τ'_l, 2l+1)
        return self.normalize(SO3Vec(parts, basis=atoms.basis))

    def _soft_normalize_components_major(self, mixed: Sequence[torch.Tensor], shape: tuple[int, ...]) -> torch.Tensor:
        r"""``self.normalize`` (:func:`~cormorant_lab.nn.soft_normalize`, degree by degree) of every degree at once.

        :math:`F_{i,l} / \sqrt{1 + q_{i,l}}` with :math:`q_{i,l} = \frac{1}{\tau} \sum_{c, m} F_{i,l,c,m}^2` (with the
        normalization's constants, ``scale`` κ and ``epsilon`` ε: :math:`\sqrt{\varepsilon + q/\kappa^2}`), of the
        mixing's products ``(τ, (2l+1)·B·N)`` (one τ) as they come. They are concatenated as they are stored,
        components-major, ``(τ, Σ(2l+1)·B·N)``, and seen as ``(B, τ, N, Σ(2l+1))`` without a copy: the gradient of
        each product is then a block of columns of one gradient, which the mixing's backward products read in place.
        The squares are summed over c, and the sum over the m of each degree is one product with the 0/1 matrix
        ``_degree_sum`` ``(Σ(2l+1), L+1)``; its transpose spreads the factors back over m, and one multiplication
        scales every degree (:func:`~cormorant_lab.nn._normalization.soft_normalize_stacked`, its derivatives written
        out). Returns the degrees concatenated, ``(B, τ, N, Σ(2l+1))``, channels first, in the standard layout;
        tested equal to ``self.normalize`` degree by degree, first and second derivatives included
        (``tests/nn/test_lean_forms.py``).
        """
        stacked = cat_split_backward(list(mixed), dim=-1)  # (τ, Σ(2l+1)·B·N); its gradient one split
        components = len(mixed) ** 2  # Σ(2l+1), l = 0..L
        x = _from_components_major(stacked.unflatten(-1, (components, *shape)))  # (B, τ, N, Σ(2l+1)), a view
        return soft_normalize_stacked(x, self._degree_sum, self.normalize.scale, self.normalize.epsilon)


def _from_components_major(part: torch.Tensor) -> torch.Tensor:
    """A view ``(B, τ, N, 2l+1)`` (channels first) of ``part`` ``(τ, 2l+1, B, N)`` (``B``: any batch axes)."""
    return part.movedim(1, -1).movedim(0, -3)
