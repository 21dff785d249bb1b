r"""The neighbour-summed CG product :math:`\sum_j G_{ij} \otimes_{cg} F_j` (paper, eq. 8): Cormorant's two-body message.

The sum over neighbours j is linear, so it is taken *before* the CG coupling:

.. math::

    \sum_j G_{ij} \otimes_{cg} F_j = C \Bigl( \sum_j G_{ij} \otimes F_j \Bigr),

one batched matrix product over j per degree of G, then the coupling of :mod:`._cg_product`. Memory is
``O(N·C·d1·d2)`` instead of the ``O(N²·C·d1·d2)`` of forming every product first (the reference does).

The network's edges are *separable*, :math:`G^l_{ij} = g^l_{ij}\, Y_l(\hat r_{ij})` — an invariant per channel
times a spherical harmonic. :func:`cg_aggregate_separable` takes the two factors and never keeps G: autograd
saves :math:`g` ``(B, C, N, N)`` and :math:`Y` ``(B, N, N, 2l+1)`` and rebuilds :math:`G` (one multiplication)
when it needs it, instead of saving the ``2l+1`` times larger G of every level. Off a CPU, G of every degree is
formed at once (``_SeparableCoupledAll``: one neighbour sum and one gradient of each kind for all degrees, fewer
kernel launches); on a CPU one degree at a time (``_SeparableCoupledSum``: smaller temporaries that stay in cache,
faster there). Both are tested equal, with first and second derivatives.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch

from . import _cg_product
from ._cg_product import (
    all_rows_matrix,
    cached_all_rows_matrix,
    check_pair,
    components_major_matmul,
    coupled_pieces,
    gather_by_degree,
    iter_pieces,
    iter_pieces_of_all_rows,
    plans_for,
)
from ._so3vec import SO3Vec
from ._validation import check_degree


def cg_aggregate(edges: SO3Vec, atoms: SO3Vec, maxl: int | None = None) -> SO3Vec:
    r"""Neighbour-summed CG product :math:`\sum_j G_{ij} \otimes_{cg} F_j` (paper, eq. 8), channel-wise.

    Args:
        edges: parts ``(*batch, N, N, C, 2l1+1)`` — :math:`G_{ij}` (zero it for absent pairs).
        atoms: parts ``(*batch, N, C, 2l2+1)`` — :math:`F_j`.
        maxl: the highest output degree (default ``L1 + L2``).

    Returns:
        SO3Vec with parts ``(*batch, N, channels_l, 2l+1)``, channels and order as :func:`cg_product`.
    """
    maxl = check_pair(edges, atoms, maxl, "cg_aggregate")
    if edges.batch_shape[:-1] != atoms.batch_shape:
        raise ValueError(
            f"cg_aggregate needs edges of batch shape (*batch, N, N) and atoms of (*batch, N); "
            f"got {tuple(edges.batch_shape)} and {tuple(atoms.batch_shape)}"
        )
    f_all = torch.cat(atoms.parts, dim=-1)

    def row_outer(plan) -> torch.Tensor:
        # sum_j G[..., i, j, c, x] F[..., j, c, y]: a batched matrix product over j, never the (i, j, x, y) tensor.
        return torch.einsum("...ijcx,...jcy->...icxy", edges.parts[plan.l1], f_all).flatten(-2)

    plans = plans_for(edges.maxl, atoms.maxl, maxl, f_all, atoms.basis)
    pieces = coupled_pieces(plans, row_outer, min(maxl, edges.maxl + atoms.maxl) + 1)
    return SO3Vec([torch.cat(p, dim=-2) for p in pieces], basis=atoms.basis)


def cg_aggregate_separable(
    scalars: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor], atoms: SO3Vec, maxl: int | None = None
) -> SO3Vec:
    r""":func:`cg_aggregate` for separable edges :math:`G^{l_1}_{ij} = g^{l_1}_{ij}\, Y_{l_1}(\hat r_{ij})`, without keeping G.

    Args:
        scalars: :math:`g^{l_1}`, one ``(*batch, C, N, N)`` tensor per l1 = 0..L1 (channels first, ``[c, i, j]``).
        harmonics: :math:`Y_{l_1}`, one ``(*batch, N, N, 2l1+1)`` tensor per l1, in the basis of ``atoms``
            (fastest when stored with j innermost, as :class:`~cormorant_lab.nn.EdgeGeometry` does).
        atoms: parts ``(*batch, N, C, 2l2+1)``, the same ``C`` at every degree; real dtype.
        maxl: the highest output degree (default ``L1 + L2``).

    Returns:
        Exactly ``cg_aggregate(G, atoms, maxl)`` with ``G`` the SO3Vec of parts
        ``g.movedim(-3, -1).unsqueeze(-1) * Y.unsqueeze(-2)``; first and second derivatives included.
    """
    _check_separable(scalars, harmonics, atoms)
    maxl = check_degree(maxl, "maxl") if maxl is not None else len(scalars) - 1 + atoms.maxl
    f_channels_first = torch.cat(atoms.parts, dim=-1).transpose(-2, -3)  # (*, C, N, Y)
    pieces = separable_aggregate_pieces(scalars, harmonics, f_channels_first, maxl, atoms.basis)
    return SO3Vec([torch.cat(p, dim=-3).transpose(-2, -3) for p in pieces], basis=atoms.basis)


def separable_aggregate_pieces(
    scalars: Sequence[torch.Tensor],
    harmonics: Sequence[torch.Tensor],
    f_channels_first: torch.Tensor,
    maxl: int,
    basis: str,
) -> list[list[torch.Tensor]]:
    """The pieces of :func:`cg_aggregate_separable` per output degree, channels first: ``(*, C, N, 2l+1)`` each.

    ``f_channels_first`` is ``(*, C, N, (L2+1)²)``, every degree of the atoms concatenated on the last axis.
    """
    max_l2 = math.isqrt(f_channels_first.shape[-1]) - 1
    num_degrees = min(maxl, len(scalars) - 1 + max_l2) + 1
    return gather_by_degree(
        iter_separable_aggregate_pieces(scalars, harmonics, f_channels_first, maxl, basis), num_degrees
    )


def iter_separable_aggregate_pieces(
    scalars: Sequence[torch.Tensor],
    harmonics: Sequence[torch.Tensor],
    f_channels_first: torch.Tensor,
    maxl: int,
    basis: str,
    *,
    chunk: int | None = None,
    plans=None,
    components_major: bool = False,
    stacked_harmonics: torch.Tensor | None = None,
    all_rows: torch.Tensor | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """:func:`separable_aggregate_pieces` as ``(l, piece)`` pairs, one row at a time (see ``iter_pieces``).

    ``chunk``: how many harmonic components of G to form at once (``None``: all of a degree; fewest operations,
    and, on an accelerator, every degree l1 at once when G is small: ``_SeparableCoupledAll``). ``plans``: the
    coupling plans, if the caller holds them (default: the cached ones). ``components_major``: the pieces are
    views of rows stored with their components outermost (``components_major_matmul``). ``stacked_harmonics``:
    the harmonics of every degree as one tensor ``(*, N, (L+1)², N)`` (j innermost) of which ``harmonics`` are
    views, if the caller has it (:class:`~cormorant_lab.nn.EdgeGeometry` does): their gradient is then one
    tensor, not one per degree. ``all_rows``: the plans' ``all_rows_matrix(plans)``, if the caller holds it.
    """
    max_l2 = math.isqrt(f_channels_first.shape[-1]) - 1
    own_plans = plans is not None
    if plans is None:
        plans = plans_for(len(scalars) - 1, max_l2, maxl, f_channels_first, basis)
    if chunk is None and _fused_fits(scalars) and [plan.l1 for plan in plans] == list(range(len(scalars))):
        if stacked_harmonics is None:
            stacked_harmonics = torch.cat([y.transpose(-1, -2) for y in harmonics], dim=-2)  # (*, N, K, N)
        components = len(scalars) ** 2  # K = (L1+1)², every degree of the edges
        if stacked_harmonics.shape[-2] != components:
            stacked_harmonics = stacked_harmonics[..., :components, :]
        if all_rows is None:
            all_rows = (
                all_rows_matrix(plans)
                if own_plans
                else cached_all_rows_matrix(len(scalars) - 1, max_l2, maxl, f_channels_first, basis)
            )
        coupled = _SeparableCoupledAll.apply(stacked_harmonics, f_channels_first, components_major, all_rows, *scalars)
        return iter_pieces_of_all_rows(plans, coupled)
    row_coupled = lambda plan: _SeparableCoupledSum.apply(
        scalars[plan.l1], harmonics[plan.l1], f_channels_first, plan.matrix, chunk, components_major
    )
    return iter_pieces(plans, row_coupled)


def _check_separable(scalars: Sequence[torch.Tensor], harmonics: Sequence[torch.Tensor], atoms: SO3Vec) -> None:
    if len(scalars) != len(harmonics) or not scalars:
        raise ValueError(
            "cg_aggregate_separable needs one scalar and one harmonic tensor per degree, "
            f"got {len(scalars)} and {len(harmonics)}"
        )
    if atoms.dtype.is_complex:
        raise ValueError("cg_aggregate_separable needs real tensors; use cg_aggregate for the complex basis")
    channels = set(atoms.channels)
    if len(channels) != 1:
        raise ValueError(
            f"cg_aggregate_separable needs the same number of channels at every degree, got {atoms.channels}"
        )
    (c,) = channels
    batch, n = tuple(atoms.batch_shape[:-1]), atoms.batch_shape[-1]
    for l, (g, y) in enumerate(zip(scalars, harmonics, strict=True)):
        if tuple(g.shape) != (*batch, c, n, n) or tuple(y.shape) != (*batch, n, n, 2 * l + 1):
            raise ValueError(
                f"cg_aggregate_separable at l1={l}: expected scalars {(*batch, c, n, n)} and harmonics "
                f"{(*batch, n, n, 2 * l + 1)}, got {tuple(g.shape)} and {tuple(y.shape)}"
            )
        if g.dtype != atoms.dtype or y.dtype != atoms.dtype:
            raise ValueError(
                f"cg_aggregate_separable needs one dtype, got {g.dtype}, {y.dtype} and {atoms.dtype} at l1={l}"
            )


# When to form G of every degree at once (``_SeparableCoupledAll``, if it fits ``fused_bytes``): "auto", off a CPU
# only; "always"; "never". On a CPU the degree-by-degree form is faster: its temporaries, one degree's G at a time,
# stay in cache, where the every-degree G of a qm9 batch (10.6 MB) streams through memory; the step measured 9–25%
# (qm9) and 16–31% (md17 forces) slower with it (benchmarks/bench_fused_forms.py). On an accelerator, where each
# operation is a kernel launch, the every-degree form launches ~70 (qm9) to ~400 (md17 forces) fewer per step
# (benchmarks/gpu_check.py times both forms there).
ALL_DEGREES_AT_ONCE = "auto"


@contextlib.contextmanager
def all_degrees_at_once(mode: str) -> Iterator[None]:
    """``ALL_DEGREES_AT_ONCE = mode`` ("auto", "always", "never") inside the block, restored after (benchmarks)."""
    global ALL_DEGREES_AT_ONCE
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"mode must be 'auto', 'always' or 'never', got {mode!r}")
    saved, ALL_DEGREES_AT_ONCE = ALL_DEGREES_AT_ONCE, mode
    try:
        yield
    finally:
        ALL_DEGREES_AT_ONCE = saved


def accelerator_forms(device: torch.device) -> bool:
    """Whether the forms with the fewest kernels are on for tensors on ``device`` (``ALL_DEGREES_AT_ONCE``).

    They are this aggregate every degree at once and the CG square's rows in one product
    (:mod:`._cg_square`): by default off a CPU only.
    """
    return ALL_DEGREES_AT_ONCE == "always" or (ALL_DEGREES_AT_ONCE == "auto" and device.type != "cpu")


def _fused_fits(scalars: Sequence[torch.Tensor]) -> bool:
    """Whether to form ``G`` of every degree at once (``ALL_DEGREES_AT_ONCE``, within ``fused_bytes``)."""
    g = scalars[0]
    if not accelerator_forms(g.device):
        return False
    return g.numel() * len(scalars) ** 2 * g.element_size() <= _cg_product.fused_bytes(g.device)


class _SeparableCoupledAll(torch.autograd.Function):
    r"""Every degree l1 of :class:`_SeparableCoupledSum` at once: one G, one neighbour sum, one coupling.

    ``out[..., c, i, :] = Σ_{x, y} M[x·Y + y, :] Σ_j g_{l(x)}[..., c, i, j] Y[..., i, x, j] f[..., c, j, y]``
    with x over the components of every degree l1 = 0..L1 and ``M = diag(M_0, …, M_L1)`` the block-diagonal
    coupling of every row (``all_rows_matrix``): each row's output side by side. The edges of every degree are
    formed together, :math:`G[c, i, x, j] = g_{l(x)}[c, i, j]\, Y[i, x, j]` ``(*, C, N, (L1+1)², N)``, so the
    neighbour sum is one batched product for all l1 (and so are the gradients of f and of G), and the coupling one
    product (3.4 times the arithmetic of one per row at l <= 3, on a small matrix: an accelerator's trade). ``Y``
    comes stacked, ``(*, N, (L1+1)², N)``, and gets one gradient. Autograd keeps g, Y and f (and G when no forces
    need its gradient recorded). The backward is made of differentiable operations (second derivatives: forces).
    Used when G is small (``_cg_product.fused_bytes``) and the device asks for it (``ALL_DEGREES_AT_ONCE``); tested equal to
    the degree-by-degree form (``tests/so3/test_fused_rows.py``).
    """

    @staticmethod
    def forward(ctx, y: torch.Tensor, f: torch.Tensor, components_major: bool, matrix: torch.Tensor, *scalars):
        edges = _scalars_per_component(scalars) * y.unsqueeze(-4)  # (*, C, i, K, j)
        summed = edges.flatten(-3, -2) @ f  # (*, C, i·K, Y)
        # G kept for the gradient of f when no backward pass will differentiate it (Y constant: no forces)
        keep = not y.requires_grad and f.requires_grad
        ctx.save_for_backward(y, f, matrix, *scalars, *((edges,) if keep else ()))
        ctx.count = len(scalars)
        rows = summed.unflatten(-2, (f.shape[-2], -1)).flatten(-2)  # (*, C, i, K·Y), a view
        return components_major_matmul(rows, matrix) if components_major else rows @ matrix

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        count = ctx.count
        y, f, matrix, *rest = ctx.saved_tensors
        scalars, kept = rest[:count], rest[count:]
        if torch.is_grad_enabled():  # the backward pass is recorded (create_graph): G must be formed in the graph
            kept = []
        need_y, need_f = ctx.needs_input_grad[:2]
        need_g = any(ctx.needs_input_grad[4 : 4 + count])
        atoms, width = f.shape[-2], f.shape[-1]
        grad_rows = grad @ matrix.transpose(-1, -2)  # (*, C, i, K·Y)
        grad_summed = grad_rows.unflatten(-1, (-1, width)).flatten(-3, -2)  # (*, C, i·K, Y)
        grad_y = grad_f = None
        grad_g: list[torch.Tensor | None] = [None] * count
        expanded = _scalars_per_component(scalars) if need_y or (need_f and not kept) else None
        if need_g or need_y:
            grad_edges = (grad_summed @ f.transpose(-1, -2)).unflatten(-2, (atoms, -1))  # (*, C, i, K, j)
            if need_g:
                weighted = grad_edges * y.unsqueeze(-4)
                sizes = [2 * l1 + 1 for l1 in range(count)]
                # (*, C, i, j) per l1; degree 0 has one component: a view, not a reduction
                grad_g = [
                    part.squeeze(-2) if part.shape[-2] == 1 else part.sum(-2) for part in weighted.split(sizes, dim=-2)
                ]
            if need_y:
                assert expanded is not None
                grad_y = (grad_edges * expanded).sum(-4)  # (*, i, K, j)
        if need_f:
            if kept:
                edges = kept[0]
            else:
                assert expanded is not None
                edges = expanded * y.unsqueeze(-4)
            grad_f = edges.flatten(-3, -2).transpose(-1, -2) @ grad_summed  # (*, C, j, Y)
        return grad_y, grad_f, None, None, *grad_g


def _scalars_per_component(scalars: Sequence[torch.Tensor]) -> torch.Tensor:
    """``g_{l(x)}[..., c, i, j]`` at every component x of every degree: ``(*, C, N, (L1+1)², N)`` (one copy)."""
    if len(scalars) == 1:
        return scalars[0].unsqueeze(-2)  # broadcast over the one component
    return torch.cat(
        [g.unsqueeze(-2).expand(*g.shape[:-1], 2 * l1 + 1, g.shape[-1]) for l1, g in enumerate(scalars)], dim=-2
    )


class _SeparableCoupledSum(torch.autograd.Function):
    r"""``out[..., c, i, s] = Σ_{x, y} M[x·Y + y, s] Σ_j g[..., c, i, j] Y[..., i, j, x] f[..., c, j, y]``.

    The neighbour sum and the CG coupling ``M`` of one degree l1 of the edges, channels first, ``chunk`` harmonic
    components x at a time (``None``: all 2l1+1): with a small chunk the temporaries stay a few ``(B, C, N, N)``
    tensors instead of :math:`G = gY`. Autograd keeps g, Y and f only. The backward is made of differentiable
    operations, so second derivatives (training on forces) work.

    Rows: each row i of the output needs only row i of g and Y, so large molecules are done a block of rows at a
    time (:func:`_rows_per_block`), every temporary at most ``TEMPORARY_BYTES``: below glibc's largest mmap threshold
    (32 MiB), freed blocks are reused instead of being returned to the kernel and faulted in again at every step,
    which made the step grow faster than N² beyond 200 atoms. Small molecules take one block (no extra operations).
    """

    @staticmethod
    def forward(
        ctx,
        g: torch.Tensor,
        y: torch.Tensor,
        f: torch.Tensor,
        matrix: torch.Tensor,
        size: int | None,
        components_major: bool = False,
    ) -> torch.Tensor:
        ctx.size = size
        outs: list[torch.Tensor] = []
        rows = _rows_per_block(g, y.shape[-1] if size is None else size)
        # G kept for the gradient of f when it is one temporary and no backward pass will differentiate it (Y
        # constant: no forces): the backward pass then skips forming it again
        keep = size is None and rows >= g.shape[-2] and not y.requires_grad and f.requires_grad
        kept: tuple[torch.Tensor, ...] = ()
        for g_rows, y_rows in zip(_split(g, rows, -2), _split(y, rows, -3), strict=True):
            out: torch.Tensor | None = None
            for y_chunk, coupling in _chunks(y_rows, f, matrix, size):
                edges = _edge_chunk(g_rows, y_chunk)  # (*, C, i·k, j)
                kept = (edges,) if keep else ()
                summed = (edges @ f).unflatten(-2, (g_rows.shape[-2], -1)).flatten(-2)  # (*, C, i, k·Y)
                term = (
                    components_major_matmul(summed, coupling) if components_major else summed @ coupling
                )  # (*, C, i, S)
                out = term if out is None else out.add_(term)  # forward runs without autograd: in place is safe
            assert out is not None  # _chunks yields at least one chunk
            outs.append(out)
        ctx.save_for_backward(g, y, f, matrix, *kept)
        return _join(outs, -2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        g, y, f, matrix, *kept = ctx.saved_tensors
        if torch.is_grad_enabled():  # the backward pass is recorded (create_graph): G must be formed in the graph
            kept = []
        need_g, need_y, need_f = ctx.needs_input_grad[:3]
        grad_g_blocks: list[torch.Tensor] = []
        grad_y_blocks: list[torch.Tensor] = []
        grad_f: torch.Tensor | None = None
        # split, not slices: in a differentiated backward (forces) a slice's gradient is a zero-filled full tensor
        rows = _rows_per_block(g, y.shape[-1] if ctx.size is None else ctx.size)
        for g_rows, y_rows, grad_rows in zip(
            _split(g, rows, -2), _split(y, rows, -3), _split(grad, rows, -2), strict=True
        ):
            atoms = g_rows.shape[-2]
            grad_g_rows: torch.Tensor | None = None
            grad_y_rows: list[torch.Tensor] = []
            for y_chunk, coupling in _chunks(y_rows, f, matrix, ctx.size):
                grad_summed = (
                    (grad_rows @ coupling.transpose(-1, -2)).unflatten(-1, (-1, f.shape[-1])).flatten(-3, -2)
                )  # (*, C, i·k, Y)
                if need_g or need_y:
                    grad_edges = (grad_summed @ f.transpose(-1, -2)).unflatten(-2, (atoms, -1))  # (*, C, i, k, j)
                    if need_g:
                        term = (grad_edges * y_chunk.transpose(-1, -2).unsqueeze(-4)).sum(-2)
                        grad_g_rows = term if grad_g_rows is None else grad_g_rows + term
                    if need_y:
                        grad_y_rows.append(
                            (grad_edges * g_rows.unsqueeze(-2)).sum(-4).transpose(-1, -2)
                        )  # (*, i, j, k)
                if need_f:
                    edges = kept[0] if kept else _edge_chunk(g_rows, y_chunk)
                    term = edges.transpose(-1, -2) @ grad_summed  # (*, C, j, Y)
                    grad_f = term if grad_f is None else grad_f + term
            if need_g:
                assert grad_g_rows is not None
                grad_g_blocks.append(grad_g_rows)
            if need_y:
                grad_y_blocks.append(torch.cat(grad_y_rows, dim=-1) if len(grad_y_rows) > 1 else grad_y_rows[0])
        grad_g = _join(grad_g_blocks, -2) if need_g else None
        grad_y = _join(grad_y_blocks, -3) if need_y else None
        return grad_g, grad_y, grad_f, None, None, None


def _join(blocks: list[torch.Tensor], dim: int) -> torch.Tensor:
    """The blocks of rows concatenated along ``dim`` (a single block as it is)."""
    return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=dim)


TEMPORARY_BYTES = 8 * 2**20  # the largest temporary of the aggregate, well below glibc's 32 MiB mmap threshold


def _rows_per_block(g: torch.Tensor, components: int) -> int:
    """Rows i per block such that ``(*, C, rows, components, N)`` temporaries stay within ``TEMPORARY_BYTES``."""
    atoms = g.shape[-2]
    per_row = max(g.numel() // max(atoms, 1) * components * g.element_size(), 1)
    return max(1, min(atoms, TEMPORARY_BYTES // per_row))


def _split(tensor: torch.Tensor, size: int, dim: int) -> tuple[torch.Tensor, ...]:
    """``tensor.split(size, dim)``, or ``(tensor,)`` itself when one block holds it all (no view, no extra node)."""
    return (tensor,) if size >= tensor.shape[dim] else tensor.split(size, dim=dim)


def _chunks(
    y: torch.Tensor, f: torch.Tensor, matrix: torch.Tensor, size: int | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The harmonic components of ``y`` in chunks of ``size`` (all if None), with the matching rows ``(k·Y, S)`` of the coupling matrix."""
    width, components = f.shape[-1], y.shape[-1]
    size = components if size is None else size
    if size >= components:  # no slice: its gradient (in a differentiated backward) would be a zero-filled copy
        yield y, matrix
        return
    for start, y_chunk in zip(range(0, components, size), y.split(size, dim=-1), strict=False):
        yield y_chunk, matrix[start * width : (start + y_chunk.shape[-1]) * width]


def _edge_chunk(g: torch.Tensor, y_chunk: torch.Tensor) -> torch.Tensor:
    """``G[..., c, i·k, j] = g[..., c, i, j] · Y[..., i, j, x]`` for the components x of ``y_chunk``."""
    return (g.unsqueeze(-2) * y_chunk.transpose(-1, -2).unsqueeze(-4)).flatten(-3, -2)
