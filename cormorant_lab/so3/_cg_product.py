r"""The Clebsch–Gordan product: Cormorant's only nonlinearity (paper, eq. 3 and §5).

For SO(3) vectors :math:`a = (a_0, \dots, a_{L_1})` and :math:`b = (b_0, \dots, b_{L_2})` with the same
channels, channel by channel (channel :math:`c` of :math:`a` meets channel :math:`c` of :math:`b`, as in the
paper's reference implementation):

.. math::

    [a \otimes_{cg} b]_{l}^{(l_1, l_2), c} = C^{l_1 l_2 l}\,\bigl(a_{l_1}^c \otimes b_{l_2}^c\bigr),
    \qquad |l_1 - l_2| \le l \le \min(l_1 + l_2, \text{maxl}).

Output part ``l`` stacks the results of every pair :math:`(l_1, l_2)` that reaches ``l`` along the channel
axis, pairs in the order ``l1 = 0..L1`` (outer), ``l2 = 0..L2`` (inner), each pair contributing ``C``
channels. Covariance: :math:`(D a) \otimes_{cg} (D b) = D (a \otimes_{cg} b)`, because the CG block
intertwines :math:`D^{l_1} \otimes D^{l_2}` with :math:`D^l`.

Speed: for each degree :math:`l_1` of ``a``, one outer product with *all* of ``b`` and one matrix product
with the pre-stacked CG columns of every pair :math:`(l_1, l_2)` and output degree, prepared once per
``(L1, L2, maxl, basis, dtype, device)`` — L1 + 1 matrix products, no loop over ``m``, channels or atoms.
(One product per pair does fewer flops but, at Cormorant's sizes, loses to the per-op overhead; one product
for everything wastes 12× the flops on zeros. ``benchmarks/bench_cg.py`` measures against e3nn.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ._clebsch_gordan import clebsch_gordan_numpy
from ._so3vec import SO3Vec
from ._validation import check_degree


@dataclass(frozen=True)
class _RowPlan:
    """Everything one degree l1 of ``a`` contributes, coupled with *all* of ``b`` in one matrix product."""

    l1: int
    degrees: tuple[int, ...]  # output degree of each column block, in (l2, l) order
    matrix: torch.Tensor  # ((2l1+1)·(L2+1)², Σ(2l+1)): CG columns of every pair (l1, l2) and l it reaches


def output_channels(channels: int, max_l1: int, max_l2: int, maxl: int) -> tuple[int, ...]:
    """Channels of each output part of ``cg_product`` for inputs with ``channels`` channels at every degree."""
    counts = [0] * (min(maxl, max_l1 + max_l2) + 1)
    for l1 in range(max_l1 + 1):
        for l2 in range(max_l2 + 1):
            for l in range(abs(l1 - l2), min(l1 + l2, maxl) + 1):
                counts[l] += channels
    return tuple(counts)


@functools.lru_cache(maxsize=128)
def _plan(max_l1: int, max_l2: int, maxl: int, basis: str, dtype: torch.dtype, device: torch.device) -> tuple[_RowPlan, ...]:
    width = (max_l2 + 1) ** 2  # all components of b, concatenated
    plans = []
    for l1 in range(max_l1 + 1):
        columns, degrees = [], []
        for l2 in range(max_l2 + 1):
            for l in range(abs(l1 - l2), min(l1 + l2, maxl) + 1):
                block = torch.zeros(2 * l1 + 1, width, 2 * l + 1, dtype=torch.float64)
                block[:, l2 * l2 : (l2 + 1) ** 2] = torch.from_numpy(clebsch_gordan_numpy(l1, l2, l, basis).copy())
                columns.append(block.reshape(-1, 2 * l + 1))
                degrees.append(l)
        if columns:
            plans.append(_RowPlan(l1, tuple(degrees), torch.cat(columns, dim=1).to(dtype=dtype, device=device)))
    return tuple(plans)


def _check_pair(a: SO3Vec, b: SO3Vec, maxl: int | None, name: str) -> int:
    if a.basis != b.basis:
        raise ValueError(f"{name} needs both SO3Vecs in one basis, got {a.basis!r} and {b.basis!r}")
    channels_a, channels_b = set(a.channels), set(b.channels)
    if len(channels_a) != 1 or len(channels_b) != 1:
        raise ValueError(f"{name} needs the same number of channels at every degree, got {a.channels} and {b.channels}")
    (ca,), (cb,) = channels_a, channels_b
    if cb not in (ca, 1):
        raise ValueError(f"{name} is channel-wise: channels must match (or b must have 1), got {ca} and {cb}")
    if a.dtype != b.dtype:
        raise ValueError(f"{name} needs one dtype, got {a.dtype} and {b.dtype}")
    return a.maxl + b.maxl if maxl is None else check_degree(maxl, "maxl")


def _couple(a: SO3Vec, b: SO3Vec, maxl: int, outer_product) -> SO3Vec:
    """Apply the CG columns of degree l1 to ``outer_product(a_l1, b_all)`` (..., C, (2l1+1)·(L2+1)²), every l1."""
    plans = _plan(a.maxl, b.maxl, maxl, a.basis, a.parts[0].real.dtype, a.device)
    b_all = torch.cat(b.parts, dim=-1)
    out: list[list[torch.Tensor]] = [[] for _ in range(min(maxl, a.maxl + b.maxl) + 1)]
    for plan in plans:
        outer = outer_product(a.parts[plan.l1], b_all)
        coupled = _ConstantMatmul.apply(outer, plan.matrix if not outer.is_complex() else plan.matrix.to(outer.dtype))
        for l, piece in zip(plan.degrees, coupled.split([2 * l + 1 for l in plan.degrees], dim=-1)):
            out[l].append(piece)
    return SO3Vec([torch.cat(pieces, dim=-2) for pieces in out], basis=a.basis)


class _ConstantMatmul(torch.autograd.Function):
    """``x @ matrix`` for a constant ``matrix``: autograd keeps only the matrix, not ``x``.

    ``torch.matmul`` would save the outer product ``x`` (the largest activation of a CG product) for a gradient
    with respect to the matrix that is never needed; this saves about a fifth of a training step's activations.
    The backward is made of differentiable operations, so second derivatives (forces in the loss) still work.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(matrix)
        return x @ matrix

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (matrix,) = ctx.saved_tensors
        return grad @ matrix.transpose(-1, -2).conj(), None


def _outer(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x.unsqueeze(-1) * y.unsqueeze(-2)).flatten(-2)


def _neighbour_summed_outer(g: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    # sum_j g[..., i, j, c, x] f[..., j, c, y]: a batched matrix product over j, never the (i, j, x, y) tensor.
    return torch.einsum("...ijcx,...jcy->...icxy", g, f).flatten(-2)


def cg_product(a: SO3Vec, b: SO3Vec, maxl: int | None = None) -> SO3Vec:
    r"""Channel-wise Clebsch–Gordan product :math:`a \otimes_{cg} b` truncated at ``maxl``.

    Args:
        a: parts ``(*batch, C, 2l1+1)`` for l1 = 0..L1, the same ``C`` at every degree.
        b: parts ``(*batch, C, 2l2+1)`` (or ``C = 1``, broadcast over channels), batch broadcastable with a's.
        maxl: the highest output degree (default ``L1 + L2``).

    Returns:
        SO3Vec with parts ``l = 0..min(maxl, L1+L2)``; channel counts as in :func:`output_channels`.
    """
    maxl = _check_pair(a, b, maxl, "cg_product")
    return _couple(a, b, maxl, _outer)


def cg_aggregate(edges: SO3Vec, atoms: SO3Vec, maxl: int | None = None) -> SO3Vec:
    r"""Neighbour-summed CG product :math:`\sum_j G_{ij} \otimes_{cg} F_j` (paper, eq. 8), channel-wise.

    Args:
        edges: parts ``(*batch, N, N, C, 2l1+1)`` — :math:`G_{ij}` (zero it for absent pairs).
        atoms: parts ``(*batch, N, C, 2l2+1)`` — :math:`F_j`.
        maxl: the highest output degree (default ``L1 + L2``).

    Returns:
        SO3Vec with parts ``(*batch, N, channels_l, 2l+1)``, channels and order as :func:`cg_product`.

    The sum over ``j`` is taken before the CG coupling (it is linear), as one batched matrix product per pair
    ``(l1, l2)``: memory ``O(N·C·d1·d2)`` instead of the ``O(N²·C·d1·d2)`` of forming every product first.
    """
    maxl = _check_pair(edges, atoms, maxl, "cg_aggregate")
    if edges.batch_shape[:-1] != atoms.batch_shape:
        raise ValueError(
            f"cg_aggregate needs edges of batch shape (*batch, N, N) and atoms of (*batch, N); "
            f"got {tuple(edges.batch_shape)} and {tuple(atoms.batch_shape)}"
        )
    return _couple(edges, atoms, maxl, _neighbour_summed_outer)
