r"""The CG square :math:`a \otimes_{cg} a`: only its distinct pieces (the atom level's one-body nonlinearity).

For the channel-wise product of a vector with itself, the blocks of :func:`~cormorant_lab.so3.cg_product` repeat.
The Clebsch–Gordan symmetry :math:`\langle l_2 m_2; l_1 m_1 | l m\rangle = (-1)^{l_1+l_2-l}
\langle l_1 m_1; l_2 m_2 | l m\rangle` (in the real basis too: its extra phase is symmetric in l1, l2) gives

.. math::

    [a \otimes_{cg} a]^{(l_2, l_1)}_l = (-1)^{l_1+l_2-l}\, [a \otimes_{cg} a]^{(l_1, l_2)}_l ,
    \qquad [a \otimes_{cg} a]^{(l_1, l_1)}_l = 0 \ \text{ for odd } l

(the second because that block is antisymmetric in :math:`m_1, m_2`; for l1 = 1 it is the cross product
:math:`a \times a`). :func:`cg_square` computes the pieces with :math:`l_1 \le l_2`, skipping the vanishing
ones — at Cormorant's l ≤ 3, 76 of the 156 components per channel. :func:`cg_square_expansion` gives the
constant ±1 matrices :math:`E_l` that rebuild the full product, ``cg_product(a, a)[l] == E_l @ cg_square(a)[l]``,
so a channel mixing :math:`W_l` of the full square equals :math:`(W_l E_l)` applied to the distinct pieces: the
same function with about half the work and memory (:class:`~cormorant_lab.nn.AtomLevel` uses exactly this).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import torch

from . import _cg_aggregate, _cg_product
from ._cg_product import (
    all_rows_matrix,
    cached_all_rows_matrix,
    check_pair,
    components_major_matmul,
    coupled_pairs,
    coupler,
    gather_by_degree,
    iter_pieces,
    iter_pieces_of_all_rows,
    outer_product,
    plans_for,
)
from ._so3vec import SO3Vec
from ._validation import check_degree


def cg_square(a: SO3Vec, maxl: int | None = None) -> SO3Vec:
    r"""The distinct pieces of :math:`a \otimes_{cg} a` truncated at ``maxl`` (default ``2 L``).

    Args:
        a: parts ``(*batch, C, 2l+1)`` for l = 0..L, the same ``C`` at every degree.

    Returns:
        SO3Vec with parts ``l = 0..min(maxl, 2L)``: the blocks ``(l1, l2)`` with ``l1 <= l2`` (and even ``l``
        when ``l1 = l2``) of :func:`~cormorant_lab.so3.cg_product`, in its order, ``C`` channels each.
    """
    maxl = check_pair(a, a, maxl, "cg_square")
    return SO3Vec([torch.cat(pieces, dim=-2) for pieces in square_pieces(a.parts, maxl, a.basis)], basis=a.basis)


def square_pieces(parts: list[torch.Tensor], maxl: int, basis: str) -> list[list[torch.Tensor]]:
    """The pieces of :func:`cg_square` per output degree, ``(..., 2l+1)`` each, before concatenation.

    ``parts[l]`` is ``(..., 2l+1)`` with the leading axes in any layout (channels first, for the atom level).
    """
    return gather_by_degree(iter_square_pieces(parts, maxl, basis), min(maxl, 2 * (len(parts) - 1)) + 1)


def iter_square_pieces(
    parts: list[torch.Tensor],
    maxl: int,
    basis: str,
    *,
    plans=None,
    components_major: bool = False,
    stacked: torch.Tensor | None = None,
    all_rows: torch.Tensor | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """:func:`square_pieces` as ``(l, piece)`` pairs, one row of products at a time (see ``iter_pieces``).

    ``plans``: the coupling plans, if the caller holds them (a module's buffers: no cache lookup at run time,
    which ``torch.compile`` could not trace); by default the cached ones. ``components_major``: the pieces are
    views of rows stored with their components outermost (``components_major_matmul``); the same values.
    ``stacked``: ``torch.cat(parts, dim=-1)``, if the caller has it (no copy is made then). ``all_rows``: the
    plans' ``all_rows_matrix(plans, square=True)``, if the caller holds it (with ``plans``).
    """
    a_all = torch.cat(parts, dim=-1) if stacked is None else stacked

    def row_outer(plan) -> torch.Tensor:  # a_l1 with the parts l2 >= l1 only
        return outer_product(parts[plan.l1], a_all[..., plan.first_l2**2 :])

    max_l = len(parts) - 1
    own_plans = plans is not None
    if plans is None:
        plans = plans_for(max_l, max_l, maxl, parts[0], basis, square=True)
    if not (
        ALL_ROWS_AT_ONCE
        and not a_all.is_complex()
        and a_all.numel() * a_all.shape[-1] * a_all.element_size() <= _cg_product.fused_bytes(a_all.device)
        and [plan.l1 for plan in plans] == list(range(max_l + 1))
        and all(plan.padded is not None for plan in plans)
    ):
        return iter_pieces(plans, coupler(row_outer, components_major=components_major))
    if len(plans) > 1 and _cg_aggregate.accelerator_forms(a_all.device):  # every row in one product
        if all_rows is None:
            all_rows = (
                all_rows_matrix(plans, square=True)
                if own_plans
                else cached_all_rows_matrix(max_l, max_l, maxl, a_all, basis, square=True)
            )
        (coupled,) = _SquareCoupledAll.apply(a_all, components_major, all_rows)
        return iter_pieces_of_all_rows(plans, coupled)
    rows = _SquareCoupledAll.apply(a_all, components_major, *(plan.padded for plan in plans))
    return iter_pieces(plans, lambda plan: rows[plan.l1])


# The square's rows all at once (``_SquareCoupledAll``) when the outer product fits ``fused_bytes``; False: one row at
# a time (``benchmarks/bench_fused_forms.py`` compares the two: as fast on a CPU, ~250 fewer operations per md17 step).
# Where the accelerator forms are on (``_cg_aggregate.accelerator_forms``: off a CPU), every row's coupling is one
# product with the block-diagonal ``all_rows_matrix`` (fewer kernels, 4.6 times the arithmetic of that product at
# l <= 3); on a CPU one product per row.
ALL_ROWS_AT_ONCE = True


class _SquareCoupledAll(torch.autograd.Function):
    r"""Every row of the square at once: ``out_r = (a ⊗ a)[rows of block r, :] @ P_r``, real ``a``.

    ``a`` ``(..., K)`` holds every degree (K = (L+1)²); the outer product :math:`a_x a_y` ``(..., K, K)`` is formed
    once, and its rows meet the matrices ``P_r`` in turn, each taking the next ``P_r.shape[0]`` of its K·K
    columns: either one per row l1 (the plan's matrix with zero rows for the parts l2 < l1 that the square skips,
    ``RowPlan.padded``; one output per row) or the block-diagonal matrix of them all (``all_rows_matrix``; one
    output). The backward is one product per matrix, one concatenation and one batched product,
    :math:`\partial a = (\bar G + \bar G^\top) a` with :math:`\bar G` the gradient of the outer product,
    instead of a product, a slice and two reductions per row; it is made of differentiable operations (second
    derivatives: forces). Autograd keeps ``a`` only. Used when the outer product is small (``fused_bytes``);
    tested equal to the row-by-row form.
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor, components_major: bool, *matrices: torch.Tensor):
        ctx.save_for_backward(a, *matrices)
        outer = (a.unsqueeze(-1) * a.unsqueeze(-2)).flatten(-2)  # (..., K·K), x outer
        outs, start = [], 0
        for matrix in matrices:
            block = outer[..., start : start + matrix.shape[0]]  # a view
            outs.append(components_major_matmul(block, matrix) if components_major else block @ matrix)
            start += matrix.shape[0]
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        a, *matrices = ctx.saved_tensors
        width = a.shape[-1]
        grad_blocks = [grad @ matrix.transpose(-1, -2) for grad, matrix in zip(grads, matrices, strict=True)]
        grad_outer = (grad_blocks[0] if len(grad_blocks) == 1 else torch.cat(grad_blocks, dim=-1)).unflatten(
            -1, (width, width)
        )  # (..., K, K)
        if len(matrices) > 1 and not torch.is_grad_enabled():
            # a CPU's path, not recorded: (Ḡ + Ḡᵀ) a as Ḡ a + aᵀ Ḡ, no transposed sum of Ḡ (~4% of a qm9 step there)
            grad_a = (grad_outer @ a.unsqueeze(-1)).squeeze(-1) + (a.unsqueeze(-2) @ grad_outer).squeeze(-2)
        else:  # an accelerator's path, or a recorded backward pass (forces): fewer kernels
            grad_a = ((grad_outer + grad_outer.transpose(-1, -2)) @ a.unsqueeze(-1)).squeeze(-1)
        return grad_a, None, *(None for _ in matrices)


def cg_square_expansion(channels: int, max_l: int, maxl: int) -> tuple[torch.Tensor, ...]:
    """Per output degree l, the float64 matrix ``E_l`` with ``cg_product(a, a, maxl)[l] == E_l @ cg_square(a, maxl)[l]``.

    ``E_l`` has shape ``(full channels, distinct channels)`` and entries 0 and ±1 (one nonzero per full
    channel, except the vanishing blocks, whose rows are 0); ``a`` has ``channels`` channels and degrees
    ``0..max_l``. Any basis: the signs are the same in the real and the complex one.
    """
    return _expansion(check_degree(channels, "channels"), check_degree(max_l, "max_l"), check_degree(maxl, "maxl"))


@functools.lru_cache(maxsize=64)
def _expansion(channels: int, max_l: int, maxl: int) -> tuple[torch.Tensor, ...]:
    num_degrees = min(maxl, 2 * max_l) + 1
    position: dict[tuple[int, int, int], int] = {}  # a distinct block -> its place among those of its degree
    width = [0] * num_degrees
    for l1, l2, l in coupled_pairs(max_l, max_l, maxl, square=True):
        position[l1, l2, l] = width[l]
        width[l] += 1
    rows: list[list[torch.Tensor]] = [[] for _ in range(num_degrees)]
    for l1, l2, l in coupled_pairs(max_l, max_l, maxl):
        block = torch.zeros(channels, width[l] * channels, dtype=torch.float64)
        key, sign = ((l1, l2, l), 1.0) if l1 <= l2 else ((l2, l1, l), (-1.0) ** (l1 + l2 - l))
        if key in position:  # else l1 = l2 with odd l: a vanishing block, a zero row
            start = position[key] * channels
            block[:, start : start + channels] = sign * torch.eye(channels, dtype=torch.float64)
        rows[l].append(block)
    return tuple(torch.cat(blocks, dim=0) for blocks in rows)
