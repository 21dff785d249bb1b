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

The square :math:`a \otimes_{cg} a` has half as many distinct pieces (:mod:`._cg_square`); the neighbour sum
:math:`\sum_j G_{ij} \otimes_{cg} F_j` is contracted before the coupling (:mod:`._cg_aggregate`). Both reuse the
plans and the coupling of this module.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from ._clebsch_gordan import clebsch_gordan_numpy
from ._so3vec import SO3Vec
from ._validation import check_degree


@dataclass(frozen=True)
class _RowPlan:
    """Everything one degree l1 of ``a`` contributes, coupled with the parts of ``b`` in one matrix product."""

    l1: int
    first_l2: int  # b's parts l2 = first_l2..L2 enter, concatenated: width (L2+1)² - first_l2²
    degrees: tuple[int, ...]  # output degree of each column block, in (l2, l) order
    matrix: torch.Tensor  # ((2l1+1)·width, Σ(2l+1)): CG columns of every pair (l1, l2) and l it reaches
    # the square's ``matrix`` with zero rows for b's parts l2 < first_l2: ((2l1+1)·(L2+1)², Σ(2l+1)), acting on all
    # of b (``cg_square`` couples every row at once with it); None for the plans of other products
    padded: torch.Tensor | None = None


RowPlan = _RowPlan  # the public name, for layers that hold their plans as buffers (nn.CouplingPlans)


def output_channels(channels: int, max_l1: int, max_l2: int, maxl: int) -> tuple[int, ...]:
    """Channels of each output part of ``cg_product`` for inputs with ``channels`` channels at every degree."""
    counts = [0] * (min(maxl, max_l1 + max_l2) + 1)
    for _, _, l in coupled_pairs(max_l1, max_l2, maxl):
        counts[l] += channels
    return tuple(counts)


def coupled_pairs(max_l1: int, max_l2: int, maxl: int, *, square: bool = False) -> list[tuple[int, int, int]]:
    """The blocks ``(l1, l2, l)`` of a CG product in output order (l1 outer, l2 inner, then l).

    ``square=True`` lists those of :func:`~cormorant_lab.so3.cg_square`: ``l1 <= l2`` only, and for ``l1 = l2``
    only even ``l`` (the others vanish on ``a ⊗ a``).
    """
    return [
        (l1, l2, l)
        for l1 in range(max_l1 + 1)
        for l2 in range(l1 if square else 0, max_l2 + 1)
        for l in range(abs(l1 - l2), min(l1 + l2, maxl) + 1)
        if not (square and l1 == l2 and l % 2)
    ]


@functools.lru_cache(maxsize=128)
def _plan(
    max_l1: int, max_l2: int, maxl: int, basis: str, dtype: torch.dtype, device: torch.device, square: bool = False
) -> tuple[_RowPlan, ...]:
    plans = []
    for l1 in range(max_l1 + 1):
        first_l2 = l1 if square else 0
        width = (max_l2 + 1) ** 2 - first_l2**2  # the components of b's parts first_l2..L2, concatenated
        columns, degrees = [], []
        for _, l2, l in (pair for pair in coupled_pairs(max_l1, max_l2, maxl, square=square) if pair[0] == l1):
            block = torch.zeros(2 * l1 + 1, width, 2 * l + 1, dtype=torch.float64)
            offset = l2 * l2 - first_l2**2
            block[:, offset : offset + 2 * l2 + 1] = torch.from_numpy(clebsch_gordan_numpy(l1, l2, l, basis).copy())
            columns.append(block.reshape(-1, 2 * l + 1))
            degrees.append(l)
        if columns:
            matrix = torch.cat(columns, dim=1)
            padded = _padded(matrix, 2 * l1 + 1, first_l2**2).to(dtype=dtype, device=device) if square else None
            plans.append(_RowPlan(l1, first_l2, tuple(degrees), matrix.to(dtype=dtype, device=device), padded))
    return tuple(plans)


# The largest temporary that the square and the aggregate form for all rows at once: on a CPU, small enough to stay
# in cache and below glibc's mmap threshold (larger ones are faulted in afresh each step: slower than a kernel
# each); on an accelerator, where each operation is a kernel launch and memory is not the limit at these sizes,
# large enough for the batches a GPU trains on (G of every degree at batch 512 × 18 atoms, 10 channels: ~106 MiB).
FUSED_BYTES = 16 * 2**20
ACCELERATOR_FUSED_BYTES = 512 * 2**20


def fused_bytes(device: torch.device) -> int:
    """The largest temporary of the all-rows-at-once forms on ``device`` (``FUSED_BYTES`` on a CPU)."""
    return FUSED_BYTES if device.type == "cpu" else ACCELERATOR_FUSED_BYTES


def _padded(matrix: torch.Tensor, components: int, skipped: int) -> torch.Tensor:
    """``matrix`` ``(components·width, S)`` with ``skipped`` zero rows before each component's ``width`` rows."""
    blocks = matrix.reshape(components, -1, matrix.shape[-1])
    zeros = blocks.new_zeros(components, skipped, matrix.shape[-1])
    return torch.cat([zeros, blocks], dim=1).reshape(-1, matrix.shape[-1])


def check_pair(a: SO3Vec, b: SO3Vec, maxl: int | None, name: str) -> int:
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


def coupled_pieces(plans: tuple[_RowPlan, ...], row_outer, num_degrees: int) -> list[list[torch.Tensor]]:
    """Apply each plan's CG columns to ``row_outer(plan)``, the outer products of a_l1 with b's parts, every l1.

    ``row_outer(plan)`` has shape ``(..., (2l1+1)·width)``: the leading axes (batch, channels, atoms) in any
    order. Returns, per output degree l, the pieces ``(..., 2l+1)`` in plan order; the caller concatenates them
    along its channel axis.
    """
    return pieces_by_degree(plans, coupler(row_outer), num_degrees)


def coupler(row_outer, *, components_major: bool = False):
    """``plan -> row_outer(plan) @ plan.matrix``, the coupling of one row (keeping only the matrix for autograd).

    ``components_major``: the result's last axis outermost in memory (:func:`components_major_matmul`).
    """

    def couple(plan: _RowPlan) -> torch.Tensor:
        outer = row_outer(plan)
        matrix = plan.matrix if not outer.is_complex() else plan.matrix.to(outer.dtype)
        return _ConstantMatmul.apply(outer, matrix, components_major)

    return couple


def components_major_matmul(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """``x @ matrix`` (``x`` ``(..., K)``, ``matrix`` ``(K, S)``) stored with its last axis outermost: ``(S, ...)`` in memory.

    The same values as ``x @ matrix`` (one matrix product, ``matrixᵀ xᵀ``); a piece ``[..., a:b]`` of the result is
    then a contiguous block per component, which a layer that gathers pieces component by component (the atom
    level's bracket) copies in long runs instead of runs of ``2l+1`` numbers.
    """
    rows = x.reshape(-1, x.shape[-1])
    return (matrix.transpose(0, 1) @ rows.transpose(0, 1)).transpose(0, 1).reshape(*x.shape[:-1], matrix.shape[-1])


def pieces_by_degree(plans: tuple[_RowPlan, ...], row_coupled, num_degrees: int) -> list[list[torch.Tensor]]:
    """Split each ``row_coupled(plan)`` ``(..., Σ(2l+1))`` into its pieces ``(..., 2l+1)``, gathered per output degree."""
    return gather_by_degree(iter_pieces(plans, row_coupled), num_degrees)


def gather_by_degree(pieces: Iterable[tuple[int, torch.Tensor]], num_degrees: int) -> list[list[torch.Tensor]]:
    """``(l, piece)`` pairs as one list of pieces per output degree l, in the order they come."""
    out: list[list[torch.Tensor]] = [[] for _ in range(num_degrees)]
    for l, piece in pieces:
        out[l].append(piece)
    return out


def iter_pieces(plans: tuple[_RowPlan, ...], row_coupled) -> Iterator[tuple[int, torch.Tensor]]:
    """``(l, piece)`` for every piece of every row, in plan order, computing one row at a time (for low memory).

    The pieces of each degree come in the order in which :func:`pieces_by_degree` lists them.
    """
    for plan in plans:
        coupled = row_coupled(plan)
        yield from zip(plan.degrees, _split_components(coupled, [2 * l + 1 for l in plan.degrees]), strict=True)
        del coupled


def iter_pieces_of_all_rows(plans: tuple[_RowPlan, ...], coupled: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    """:func:`iter_pieces` for every row coupled at once: ``coupled`` ``(..., Σ_rows Σ(2l+1))``, rows in plan order.

    (The product with :func:`all_rows_matrix`.) One split for every piece of every row; for a components-major
    ``coupled``, its gradient is one concatenation, not one per row.
    """
    degrees = [l for plan in plans for l in plan.degrees]
    return zip(degrees, _split_components(coupled, [2 * l + 1 for l in degrees]), strict=True)


def all_rows_matrix(plans: tuple[_RowPlan, ...], *, square: bool = False) -> torch.Tensor:
    r"""The coupling matrices of every row as one block-diagonal matrix: ``diag(M_0, …, M_L1)``.

    Row ``l1``'s block is its plan's ``matrix`` (``square``: its ``padded`` one), so
    ``rows @ all_rows_matrix(plans)`` with the outer products of every row concatenated, ``(..., Σ rows)``, is
    every row's coupling side by side: one matrix product instead of one per row, at 3–5 times the arithmetic
    (the zero blocks), which an accelerator, where each product is a kernel launch, does not notice. Made at each
    call; :func:`cached_all_rows_matrix` and :class:`~cormorant_lab.nn.CouplingPlans` keep it.
    """
    return torch.block_diag(*(plan.padded if square else plan.matrix for plan in plans))


def cached_all_rows_matrix(
    max_l1: int, max_l2: int, maxl: int, like: torch.Tensor, basis: str, *, square: bool = False
) -> torch.Tensor:
    """:func:`all_rows_matrix` of the cached plans (``plans_for``), itself cached."""
    return _all_rows(max_l1, max_l2, maxl, basis, like.real.dtype, like.device, square)


@functools.lru_cache(maxsize=128)
def _all_rows(
    max_l1: int, max_l2: int, maxl: int, basis: str, dtype: torch.dtype, device: torch.device, square: bool
) -> torch.Tensor:
    return all_rows_matrix(_plan(max_l1, max_l2, maxl, basis, dtype, device, square), square=square)


def _split_components(coupled: torch.Tensor, sizes: list[int]) -> tuple[torch.Tensor, ...]:
    """``coupled.split(sizes, dim=-1)``; for a components-major ``coupled``, a split whose gradient is one too.

    (Autograd's gradient of a split is a concatenation in the standard layout, which for gradients laid out
    component by component is a copy in runs of ``2l+1`` numbers; :class:`_ComponentsMajorSplit` concatenates
    them components-major, in long runs, as :func:`components_major_matmul` made the tensor.)
    """
    if coupled.dim() < 2 or coupled.stride(-1) == 1 or len(sizes) == 1 or not torch.is_grad_enabled():
        return coupled.split(sizes, dim=-1)
    return _ComponentsMajorSplit.apply(coupled, sizes)


class _ComponentsMajorSplit(torch.autograd.Function):
    @staticmethod
    def forward(ctx, coupled: torch.Tensor, sizes: list[int]):
        return coupled.split(sizes, dim=-1)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        return torch.cat([grad.movedim(-1, 0) for grad in grads], dim=0).movedim(0, -1), None


def plans_for(
    max_l1: int, max_l2: int, maxl: int, like: torch.Tensor, basis: str, *, square: bool = False
) -> tuple[_RowPlan, ...]:
    """The cached coupling plans for degrees ``max_l1`` × ``max_l2`` → ``maxl``, in the real dtype and device of ``like``."""
    return _plan(max_l1, max_l2, maxl, basis, like.real.dtype, like.device, square)


class _ConstantMatmul(torch.autograd.Function):
    """``x @ matrix`` for a constant ``matrix``: autograd keeps only the matrix, not ``x``.

    ``torch.matmul`` would save the outer product ``x`` (the largest activation of a CG product) for a gradient
    with respect to the matrix that is never needed; this saves about a fifth of a training step's activations.
    The backward is made of differentiable operations, so second derivatives (forces in the loss) still work.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, matrix: torch.Tensor, components_major: bool = False) -> torch.Tensor:
        ctx.save_for_backward(matrix)
        return components_major_matmul(x, matrix) if components_major else x @ matrix

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (matrix,) = ctx.saved_tensors
        return grad @ matrix.transpose(-1, -2).conj(), None, None


def outer_product(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x.unsqueeze(-1) * y.unsqueeze(-2)).flatten(-2)


def cg_product(a: SO3Vec, b: SO3Vec, maxl: int | None = None) -> SO3Vec:
    r"""Channel-wise Clebsch–Gordan product :math:`a \otimes_{cg} b` truncated at ``maxl``.

    Args:
        a: parts ``(*batch, C, 2l1+1)`` for l1 = 0..L1, the same ``C`` at every degree.
        b: parts ``(*batch, C, 2l2+1)`` (or ``C = 1``, broadcast over channels), batch broadcastable with a's.
        maxl: the highest output degree (default ``L1 + L2``).

    Returns:
        SO3Vec with parts ``l = 0..min(maxl, L1+L2)``; channel counts as in :func:`output_channels`.
    """
    maxl = check_pair(a, b, maxl, "cg_product")
    b_all = torch.cat(b.parts, dim=-1)
    plans = plans_for(a.maxl, b.maxl, maxl, a.parts[0], a.basis)
    pieces = coupled_pieces(plans, lambda plan: outer_product(a.parts[plan.l1], b_all), min(maxl, a.maxl + b.maxl) + 1)
    return SO3Vec([torch.cat(p, dim=-2) for p in pieces], basis=a.basis)
