r"""The edge level: invariant pair features and the covariant edge activations built from them (paper, §5).

At level s, for every pair (i, j) and every degree l = 0..max_sh, the scalar edge features are

.. math::

    g^{s,l}_{ij} = \mu^s(r_{ij}) \odot W^{s,l}_{\text{edge}}
        \Bigl[\, g^{s-1,l}_{ij} \;\oplus\; (F^{s-1}_i \cdot F^{s-1}_j) \;\oplus\; \eta^s(r_{ij}) \,\Bigr],

the previous level's edge features, the dot products of the atoms' activations, and the learnable radial
functions, mixed by learned weights and masked by the soft cutoff :math:`\mu^s`. The dot products are taken per
degree and channel, :math:`(F_i \cdot F_j)_{l',c} = \sum_m (-1)^m F_{i,l',c,m} F_{j,l',c,-m}` in the paper's
complex basis, which is :math:`\sum_m F_{i,l',c,m} F_{j,l',c,m}` in our real one (for vectors satisfying the
reality condition :math:`F_{-m} = (-1)^m \overline{F_m}`, as every real-basis vector does; the reference's complex
activations do not, and there the two differ); every degree :math:`l'` of them
feeds every output degree l (the reference's ``cat=True``). All three inputs are invariant, so :math:`g` is.

The covariant edge activations are :math:`G^{s,l}_{ij} = g^{s,l}_{ij}\, Y_l(\hat r_{ij})`
(:func:`edge_activations`): an invariant times a spherical harmonic turns with :math:`D^l(R)`.

Initialization: the edge weights are normal with variance 1/fan-in (std ≈ 0.11 at level 2 of the presets). The
reference scaled its complex edge weights too, but by ``1 / max(τ_in, τ_out)``: real and imaginary parts
:math:`\mathcal N(0, 1)/\max(\tau_{in}, \tau_{out})`, std ≈ 0.015 at its τ_in = 66. With ``weight_multiplier``
:math:`C` the weights are stored as :math:`V = W / C` and the level computes with :math:`W = C\,V` (as
:class:`~cormorant_lab.nn.SO3Linear`'s ``multiplier``): Adam's steps then move :math:`W` :math:`C` times as far
relative to its size. The factor is applied to the mask, :math:`\mu \odot (C V x) = (C \mu) \odot (V x)`, one
multiplication of a ``(B, C, N²)`` tensor whatever the number of weight matrices.

Memory: the inputs of :math:`W_{\text{edge}}` are ``(B, inputs, N²)``, the largest tensor of the level. By default
autograd keeps them, concatenated, for one product with :math:`[W_{\text{shared}} \mid \mathrm{diag}(W_l)]`
(:func:`_mix_concatenated`: fewer kernels). With the recomputation (``recompute=True``) they are never
concatenated (one product per block, and :math:`g^{s-1,l}` meets only the weights of degree l), and autograd keeps
neither them nor :math:`W x`: the backward pass recomputes them from the atoms, the distances and
:math:`g^{s-1}` when the gradients of :math:`W` and :math:`\mu` need them (:class:`_MaskedMix`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Sequence

import torch
from torch import nn

from ..so3 import SO3Vec
from ._constants import degree_sum_matrix
from ._cutoff import SoftCutoff
from ._geometry import EdgeGeometry
from ._mixing import broadcast_matmul, cat_split_backward, positive_finite
from ._radial import RadialPolyTrig

# The forms that do every level (or every degree) in one operation are used while their results take at most this
# many bytes; larger temporaries (large molecules) are faulted in afresh at every step, which costs more than the
# kernels saved: there, one level (one degree) at a time.
AT_ONCE_BYTES = 16 * 2**20


def degree_mask(maxl: int) -> torch.Tensor:
    """The 0/1 mask ``(maxl+1, 1, 1, (maxl+1)²)``: row l selects the components of degree l of stacked parts."""
    return degree_sum_matrix(maxl).T.contiguous().view(maxl + 1, 1, 1, (maxl + 1) ** 2)


def pair_dot_products(atoms: SO3Vec, *, mask: torch.Tensor | None = None) -> torch.Tensor:
    r"""Invariant :math:`\sum_m F_{i,l,c,m} F_{j,l,c,m}` for every degree and channel: ``(B, sum(channels), N, N)``.

    One batched matrix product over every (degree, channel): each degree's components are zero-padded to the
    largest degree's 2L+1 (zeros add nothing to the sum over m), so the ``(B, sum(channels), N, N)`` result is
    made at once, not concatenated from per-degree products (a concatenation's gradient, differentiated again
    when training on forces, is a zero-filled full tensor per degree). Equal to :func:`pair_dot_products_plain`.

    ``mask``: :func:`degree_mask` of ``atoms.maxl`` (a layer holds it as a buffer). With it, and one channel count,
    no padding: the stacked parts ``x`` ``(B, C, N, (L+1)²)`` times the mask of each degree, ``(B, L+1, C, N, (L+1)²)``,
    against ``x`` in one batched product (three operations for every degree; no copy of the parts when they were
    made stacked, :meth:`SO3Vec.stacked`), while the result takes at most ``AT_ONCE_BYTES``.
    """
    if len(atoms.parts) == 1:
        return pair_dot_products_plain(atoms)
    if mask is not None and mask.shape[0] == len(atoms.parts) and len(set(atoms.channels)) == 1:
        first = atoms.parts[0]  # (B, N, C, 1)
        result_bytes = first.shape[:-2].numel() * first.shape[-3] * sum(atoms.channels) * first.element_size()
        if result_bytes <= AT_ONCE_BYTES:  # else (large molecules) the padded product below: fewer flops, less memory
            x = atoms.stacked().transpose(-2, -3).unsqueeze(-4)  # (B, 1, C, N, (L+1)²)
            products = (x * mask) @ x.transpose(-1, -2)  # (B, L+1, C, N, N)
            return products.flatten(-4, -3)
    width = atoms.parts[-1].shape[-1]
    padded = torch.cat([torch.nn.functional.pad(part, (0, width - part.shape[-1])) for part in atoms.parts], dim=-2)
    channels_first = padded.movedim(-2, -3)  # (B, sum(channels), N, 2L+1), small
    return channels_first @ channels_first.transpose(-1, -2)


def pair_dot_products_plain(atoms: SO3Vec) -> torch.Tensor:
    """:func:`pair_dot_products` degree by degree, as the formula reads: ``(B, sum(channels), N, N)``."""
    products = []
    for part in atoms.parts:
        channels_first = part.movedim(-2, -3)  # (B, C, N, 2l+1)
        # (for l = 0 an outer product: a broadcast multiplication beats a matrix product with one inner index)
        products.append(
            channels_first @ channels_first.transpose(-1, -2)
            if part.shape[-1] > 1
            else channels_first * channels_first.transpose(-1, -2)
        )
    return torch.cat(products, dim=-3) if len(products) > 1 else products[0]


@dataclasses.dataclass(frozen=True)
class SeparableEdges:
    r"""The edge activations :math:`G^l_{ij} = g^l_{ij} Y_l(\hat r_{ij})` kept as their two factors.

    The atom level aggregates them without forming G (:func:`~cormorant_lab.so3.cg_aggregate_separable`);
    :meth:`materialize` forms it (:func:`edge_activations`), for inspection and the covariance checker.
    """

    scalars: tuple[torch.Tensor, ...]  # g^l, l = 0..max_sh, each (B, C, N, N)
    harmonics: tuple[torch.Tensor, ...]  # Y_l(r_ij), l = 0..max_sh, each (B, N, N, 2l+1)
    stacked_harmonics: torch.Tensor | None = None  # (B, N, ≥(max_sh+1)², N), if the harmonics are views of it

    @classmethod
    def of(cls, scalars: Sequence[torch.Tensor], geometry: EdgeGeometry) -> SeparableEdges:
        return cls(tuple(scalars), tuple(geometry.harmonics[: len(scalars)]), geometry.stacked_harmonics)

    def materialize(self) -> SO3Vec:
        """``G`` as an SO3Vec with parts ``(B, N, N, C, 2l+1)``."""
        return _edge_product(self.scalars, self.harmonics)


def edge_activations(scalars: Sequence[torch.Tensor], geometry: EdgeGeometry) -> SO3Vec:
    r"""Covariant :math:`G^l_{ij} = g^l_{ij} Y_l(\hat r_{ij})` from ``g`` ``(B, C, N, N)``: parts ``(B, N, N, C, 2l+1)``.

    The parts are views of tensors laid out as ``(B, C, i, m, j)``: the layout in which the CG aggregate's
    neighbour sum over j is a batched matrix product of contiguous blocks.
    """
    return _edge_product(scalars, geometry.harmonics)


def _edge_product(scalars: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor]) -> SO3Vec:
    parts = []
    for g, y in zip(scalars, harmonics, strict=False):
        product = g.unsqueeze(-2) * y.transpose(-1, -2).unsqueeze(-4)  # (B, C, i, m, j)
        parts.append(product.permute(0, 2, 4, 1, 3))
    return SO3Vec(parts)


class EdgeLevel(nn.Module):
    """Scalar edge features ``g^{s,l}_ij`` for l = 0..max_sh, each ``(B, channels, N, N)``; see the module docstring."""

    _degree_mask: torch.Tensor  # a buffer (see __init__)

    def __init__(
        self,
        atom_channels: Sequence[int],
        previous_channels: Sequence[int],
        channels: int,
        max_sh: int,
        *,
        basis_set: tuple[int, int] = (3, 3),
        radial_frequency_scale: float = 1.0,
        cutoff_type: Collection[str] = ("learn",),
        soft_cut_rad: float = 1.73,
        soft_cut_width: float = 0.2,
        hard_cut_rad: float = 1.73,
        weight_multiplier: float = 1.0,
    ):
        super().__init__()
        self.channels, self.max_sh = int(channels), int(max_sh)
        self.weight_multiplier = positive_finite(weight_multiplier, "weight_multiplier")
        self.register_buffer("_degree_mask", degree_mask(len(atom_channels) - 1), persistent=False)  # dot products
        self.radial = RadialPolyTrig(basis_set, frequency_scale=radial_frequency_scale)
        num_shared = sum(atom_channels) + self.radial.num_functions
        previous = list(previous_channels)[: self.max_sh + 1]
        # The dot products and radial functions feed every output degree: one weight block serves all l.
        fan_in, stored = num_shared + max(previous, default=0), self.weight_multiplier  # V = W / C
        self.shared = nn.Parameter(
            torch.randn(num_shared, (self.max_sh + 1) * self.channels) / math.sqrt(fan_in) / stored
        )
        self.previous = nn.ParameterList(
            nn.Parameter(torch.randn(c, self.channels) / math.sqrt(num_shared + c) / stored) for c in previous
        )
        self.cutoff = SoftCutoff(
            self.channels,
            cutoff_type=cutoff_type,
            soft_cut_rad=soft_cut_rad,
            soft_cut_width=soft_cut_width,
            hard_cut_rad=hard_cut_rad,
        )

    def inputs(
        self,
        atoms: SO3Vec,
        previous: Sequence[torch.Tensor],
        geometry: EdgeGeometry,
        *,
        padded: bool = False,
        radial: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """The inputs ``F_i·F_j``, ``η(r_ij)`` (rows of ``shared``) and ``g^{s-1,l}_ij`` (of ``previous[l]``): ``(B, k, N²)`` each.

        ``padded``: the dot products in one padded product (:func:`pair_dot_products`; for a backward pass that is
        itself differentiated), else degree by degree (fewer kernels, and autograd keeps no padded copy of F).
        ``radial``: ``self.radial(geometry)`` if the caller computed it (for every level at once).
        """
        dots = pair_dot_products(atoms, mask=self._degree_mask) if padded else pair_dot_products_plain(atoms)
        blocks = [dots, self.radial(geometry) if radial is None else radial, *previous[: len(self.previous)]]
        return [block.flatten(-2) for block in blocks]

    def forward(
        self,
        atoms: SO3Vec,
        previous: Sequence[torch.Tensor],
        geometry: EdgeGeometry,
        *,
        recompute: bool = True,
        radial: torch.Tensor | None = None,
        cutoff: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """``atoms``: parts ``(B, N, τ_l, 2l+1)``; ``previous``: last level's ``g`` (empty at the first level).

        ``recompute``: keep only small tensors for the backward pass and recompute the inputs of the mixing from
        them (:class:`_MaskedMix`); without, autograd keeps the inputs (faster when the backward pass is itself
        differentiated, as in training on forces). ``radial`` and ``cutoff``: ``self.radial(geometry)`` and
        ``self.cutoff(geometry)``, if the caller computed them (for every level at once, fewer kernels).
        """
        if len(previous) < len(self.previous):
            raise ValueError(
                f"EdgeLevel needs the previous level's g for degrees 0..{len(self.previous) - 1}, got {len(previous)} tensors"
            )
        blocks = self.inputs(atoms, previous, geometry, padded=not recompute, radial=radial)
        mask = (self.cutoff(geometry) if cutoff is None else cutoff).flatten(-2)  # (B, C, N²)
        if self.weight_multiplier != 1.0:  # μ ⊙ (C·V x) = (C·μ) ⊙ (V x)
            mask = mask * self.weight_multiplier
        weights = (self.shared.T, *(w.T for w in self.previous))
        if recompute and torch.is_grad_enabled():
            degrees, used = len(atoms.parts), previous[: len(self.previous)]

            def recompute_inputs(*tensors: torch.Tensor) -> list[torch.Tensor]:
                recomputed_geometry = dataclasses.replace(
                    geometry, safe_distances=tensors[-2], neighbour_mask=tensors[-1]
                )
                return self.inputs(SO3Vec(list(tensors[:degrees])), tensors[degrees:-2], recomputed_geometry)

            pieces = (*atoms.parts, *used, geometry.safe_distances, geometry.neighbour_mask)
            scalars = _MaskedMix.apply(mask, recompute_inputs, len(weights), *weights, *blocks, *pieces)
        else:
            mixed = _mix_concatenated(weights, blocks)
            scalars = mixed.unflatten(-2, (-1, mask.shape[-2])) * mask.unsqueeze(-3)
        return list(scalars.unflatten(-1, geometry.distances.shape[-2:]).unbind(1))  # (B, C, N, N) per degree


def _mix_concatenated(weights: Sequence[torch.Tensor], blocks: Sequence[torch.Tensor]) -> torch.Tensor:
    """:func:`_mix` as one product: the blocks concatenated, ``[W_shared | diag(W_0, …, W_L)] [dots; radial; g^{s-1}]``.

    One batched product (and one for each gradient) instead of one per block: fewer, larger kernels, for a copy of
    the inputs and the zeros of the block-diagonal part. Equal to :func:`_mix` (``tests/nn/test_lean_forms.py``).
    """
    shared, *per_degree = weights
    if per_degree:
        previous = torch.block_diag(*per_degree)  # ((L+1)·C, (L+1)·C) when every degree has a previous g
        if previous.shape[0] < shared.shape[0]:
            previous = torch.cat([previous, previous.new_zeros(shared.shape[0] - previous.shape[0], previous.shape[1])])
        shared = torch.cat([shared, previous], dim=1)
    return broadcast_matmul(shared, cat_split_backward(list(blocks), dim=-2))


def _mix(weights: Sequence[torch.Tensor], blocks: Sequence[torch.Tensor]) -> torch.Tensor:
    """``W_shared [dots; radial] + ⊕_l W_l g^{s-1,l}``: ``(B, (max_sh+1)·C, N²)``, never concatenating the inputs.

    ``weights[0]`` ``((max_sh+1)·C, k_dots + k_radial)`` acts on ``blocks[0:2]``; ``weights[1 + l]`` ``(C, C)`` on
    ``blocks[2 + l]``, feeding output rows ``l·C .. (l+1)·C`` only.
    """
    shared, *per_degree = weights
    split = blocks[0].shape[-2]
    in_place = not torch.is_grad_enabled()  # accumulate in place unless this is being recorded (create_graph)
    dots_weight, radial_weight = shared.split(
        [split, shared.shape[1] - split], dim=1
    )  # one gradient node, not two slices
    mixed, radial = broadcast_matmul(dots_weight, blocks[0]), broadcast_matmul(radial_weight, blocks[1])
    mixed = mixed.add_(radial) if in_place else mixed + radial
    if per_degree:
        channels = per_degree[0].shape[0]
        rows = len(per_degree) * channels
        previous = cat_split_backward(
            [broadcast_matmul(w, g) for w, g in zip(per_degree, blocks[2:], strict=False)], dim=-2
        )
        if in_place:
            mixed[..., :rows, :] += previous
        elif rows == mixed.shape[-2]:  # every degree has a previous g: no slices (their gradient is zero-filled)
            mixed = mixed + previous
        else:
            mixed = torch.cat([mixed[..., :rows, :] + previous, mixed[..., rows:, :]], dim=-2)
    return mixed


class _MaskedMix(torch.autograd.Function):
    r""":math:`g_{b,l,c,p} = \mu_{b,c,p}\, (W x_b)_{(l,c),p}` keeping :math:`W`, :math:`\mu` and the small pieces that
    ``x`` is made of, not the ``(B, inputs, N²)`` inputs ``x`` nor :math:`W x`.

    ``x`` comes in blocks (dot products, radial functions, each degree of the previous level's ``g``; see
    :func:`_mix`) that are never concatenated. The backward pass calls ``recompute(*pieces)`` for them (cheap)
    when the gradients of ``W`` or :math:`\mu` need them. Made of differentiable operations, so second
    derivatives (training on forces) work; the recomputation is then recorded.
    """

    @staticmethod
    def forward(ctx, mask: torch.Tensor, recompute, count: int, *tensors: torch.Tensor) -> torch.Tensor:
        weights, blocks, pieces = tensors[:count], tensors[count : 2 * count + 1], tensors[2 * count + 1 :]
        ctx.recompute, ctx.count, ctx.shared_sizes = recompute, count, [block.shape[-2] for block in blocks[:2]]
        ctx.save_for_backward(mask, *weights, *pieces)
        return _mix(weights, blocks).unflatten(-2, (-1, mask.shape[-2])) * mask.unsqueeze(-3)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        mask, *rest = ctx.saved_tensors
        weights, pieces = rest[: ctx.count], rest[ctx.count :]
        grad_mixed = (grad * mask.unsqueeze(-3)).flatten(-3, -2)  # (B, (max_sh+1)·C, N²)
        channels = mask.shape[-2]
        per_degree = [grad_mixed[..., l * channels : (l + 1) * channels, :] for l in range(ctx.count - 1)]
        needs_weights = ctx.needs_input_grad[3 : 3 + ctx.count]
        needs_blocks = ctx.needs_input_grad[3 + ctx.count : 4 + 2 * ctx.count]
        grad_blocks: list = [None] * (ctx.count + 1)
        if any(needs_blocks):
            shared = broadcast_matmul(weights[0].transpose(-1, -2), grad_mixed).split(ctx.shared_sizes, dim=-2)
            grad_blocks = [
                *shared,
                *(broadcast_matmul(w.transpose(-1, -2), g) for w, g in zip(weights[1:], per_degree, strict=False)),
            ]
        grad_weights: list = [None] * ctx.count
        grad_mask = None
        if any(needs_weights) or ctx.needs_input_grad[0]:
            blocks = ctx.recompute(*pieces)
            if any(needs_weights):
                shared_inputs = [torch.matmul(grad_mixed, b.transpose(-1, -2)).sum(0) for b in blocks[:2]]
                grad_weights = [torch.cat(shared_inputs, dim=-1)]
                grad_weights += [
                    torch.matmul(g, b.transpose(-1, -2)).sum(0) for g, b in zip(per_degree, blocks[2:], strict=False)
                ]
            if ctx.needs_input_grad[0]:
                grad_mask = (grad * _mix(weights, blocks).unflatten(-2, (-1, channels))).sum(-3)
        return (grad_mask, None, None, *grad_weights, *grad_blocks, *(None for _ in pieces))
