r"""Covariant channel mixing: one weight matrix per degree l (paper, §5: the weights :math:`W^s_l` of each level).

For an SO(3) vector :math:`F = (F_0, \dots, F_L)` with :math:`F_l \in \mathbb{R}^{\tau_l \times (2l+1)}`,

.. math::

    (F W)_l = W_l\, F_l, \qquad W_l \in \mathbb{R}^{\tau'_l \times \tau_l},

mixes channels and never the :math:`m` index, so it commutes with every :math:`D^l(R)` acting on the right:
:math:`W_l (F_l D^{l\top}) = (W_l F_l) D^{l\top}`. Mixing different degrees, or adding a bias to l > 0,
would break covariance; there is no bias at all, so padding atoms (all zeros) stay zero.

Initialization follows the reference implementation (``weight_init="rand"``): entries uniform in
:math:`(-1, 1)` times ``gain / max(τ_in, τ_out)`` (``"randn"``: standard normal times the same factor).
``"fan_in"`` (the presets'): uniform with standard deviation ``gain / sqrt(τ_in)``, so that the output has
``gain²`` times the mean variance of its inputs whatever the channel counts.

``multiplier`` :math:`C` stores each matrix as :math:`V_l = W_l / C` and computes with :math:`W_l = C\, V_l`: the
same function at initialization, but an optimizer whose steps have about the same size for every entry (Adam,
AMSGrad) moves :math:`W_l` :math:`C` times as far per step, relative to its size. Used by the md17 preset
(``cormorant_lab/nn/_presets.py``, the measurement in docs/differences.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from ..so3 import SO3Vec

WEIGHT_INITS = ("rand", "randn", "fan_in")


def mixing_weight(channels_out: int, channels_in: int, *, gain: float = 1.0, init: str = "rand") -> torch.Tensor:
    """A ``(channels_out, channels_in)`` matrix initialised as the reference implementation's mixing weights."""
    if init == "rand":
        weight = 2 * torch.rand(channels_out, channels_in) - 1
    elif init == "randn":
        weight = torch.randn(channels_out, channels_in)
    elif init == "fan_in":
        return (2 * torch.rand(channels_out, channels_in) - 1) * (gain * (3 / channels_in) ** 0.5)
    else:
        raise ValueError(f"weight_init must be one of {WEIGHT_INITS}, got {init!r}")
    return weight * (gain / max(channels_out, channels_in))


def positive_finite(value: float, name: str) -> float:
    """``value`` as a float if it is a positive finite number (a multiplier, a scale); else a ValueError naming ``name``."""
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class SO3Linear(nn.Module):
    """Per-degree channel mixing ``F_l ↦ W_l F_l`` from channels ``channels_in[l]`` to ``channels_out[l]`` (of concatenated inputs)."""

    def __init__(
        self,
        channels_in: Sequence[int],
        channels_out: int | Sequence[int],
        *,
        gain: float = 1.0,
        init: str = "rand",
        multiplier: float = 1.0,
    ):
        super().__init__()
        self.multiplier = positive_finite(multiplier, "multiplier")
        self.channels_in = tuple(int(c) for c in channels_in)
        if isinstance(channels_out, int):
            channels_out = (channels_out,) * len(self.channels_in)
        self.channels_out = tuple(int(c) for c in channels_out)
        if len(self.channels_out) != len(self.channels_in):
            raise ValueError(
                f"channels_in {self.channels_in} and channels_out {self.channels_out} must list the same degrees"
            )
        self.weights = nn.ParameterList(  # V_l = W_l / C
            nn.Parameter(mixing_weight(o, i, gain=gain, init=init) / self.multiplier)
            for o, i in zip(self.channels_out, self.channels_in, strict=False)
        )

    def effective_weight(self, l: int) -> torch.Tensor:
        """``W_l = C·V_l`` ``(channels_out[l], channels_in[l])`` (the parameter itself when ``C = 1``)."""
        weight = self.weights[l]
        return weight if self.multiplier == 1.0 else weight * self.multiplier

    def effective_weights(self) -> list[torch.Tensor]:
        """``W_l = C·V_l`` of every degree l."""
        return [self.effective_weight(l) for l in range(len(self.weights))]

    def forward(self, *vecs: SO3Vec) -> SO3Vec:
        """Concatenate ``vecs`` channel-wise degree by degree (as :meth:`SO3Vec.cat`) and mix them.

        The input channels per degree must equal ``channels_in``; the result has parts ``(..., channels_out[l], 2l+1)``.
        """
        vec = SO3Vec.cat(vecs) if len(vecs) > 1 else vecs[0]
        if vec.channels != self.channels_in:
            raise ValueError(f"SO3Linear expects channels {self.channels_in}, got {vec.channels}")
        return SO3Vec(
            [broadcast_matmul(w, part) for w, part in zip(self.effective_weights(), vec.parts, strict=False)],
            basis=vec.basis,
        )


def broadcast_matmul(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``weight @ x`` for ``weight`` ``(o, c)`` and ``x`` ``(..., c, m)``: one batched product reading ``x`` in place.

    (``torch.matmul`` would copy ``x`` transposed into one large matrix, and autograd would keep that copy.)
    """
    return torch.matmul(weight.expand(*x.shape[:-2], *weight.shape), x)


def matmuls_recomputing(
    weights: Sequence[torch.Tensor],
    xs: Sequence[torch.Tensor],
    recompute: Callable[..., Iterable[tuple[int, torch.Tensor]]],
    *inputs: torch.Tensor,
) -> tuple[torch.Tensor, ...]:
    """``W_k @ x_k`` for every k (weights ``(o, c)`` broadcast over the batch of ``x_k`` ``(..., c, m)``), keeping
    ``inputs`` instead of the ``x_k``.

    The gradient of ``W_k`` needs ``x_k``; autograd would keep it until the backward pass. When the ``x_k`` are
    large and cheap to make from small ``inputs``, this keeps the ``inputs``, and the backward pass calls
    ``recompute(*inputs)``: an iterable of ``(k, block)``, the column blocks ``(..., c_j, m)`` of each ``x_k`` in
    order (``x_k`` is their concatenation along ``-2``); the backward pass concatenates them and takes one
    product per k (the recomputed ``x_k`` are in memory only during the backward pass of their own level).
    Gradients flow into the ``x_k`` (and on to what made them) as usual; with ``create_graph=True`` the
    recomputation is recorded, so second derivatives (training on forces) are exact too.
    """
    return _RecomputedMatmuls.apply(len(weights), recompute, *weights, *xs, *inputs)


class _RecomputedMatmuls(torch.autograd.Function):
    @staticmethod
    def forward(ctx, count: int, recompute, *tensors: torch.Tensor):
        weights, xs, inputs = tensors[:count], tensors[count : 2 * count], tensors[2 * count :]
        ctx.count, ctx.recompute = count, recompute
        ctx.save_for_backward(*weights, *inputs)
        return tuple(broadcast_matmul(w, x) for w, x in zip(weights, xs, strict=False))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        saved = ctx.saved_tensors
        weights, inputs = saved[: ctx.count], saved[ctx.count :]
        grad_xs = [broadcast_matmul(w.transpose(-1, -2), grad) for w, grad in zip(weights, grads, strict=False)]
        grad_weights: list[torch.Tensor | None] = [None] * ctx.count
        if any(ctx.needs_input_grad[2 : 2 + ctx.count]):
            # dL/dW = Σ over the batch of grad (o, m) @ x^T (m, c): x_k is put together from its blocks, then one
            # product per k (a product per block cost two kernels each, ~370 per qm9 step, for a few MiB less).
            columns: list[list[torch.Tensor]] = [[] for _ in range(ctx.count)]
            for k, block in ctx.recompute(*inputs):  # recorded only under create_graph=True (grad mode is on then)
                columns[k].append(block)
            grad_weights = []
            for k, blocks in enumerate(columns):
                x = torch.cat(blocks, dim=-2) if len(blocks) > 1 else blocks[0]
                grad_weights.append(torch.matmul(grads[k], x.transpose(-1, -2)).sum_to_size(weights[k].shape))
        return (None, None, *grad_weights, *grad_xs, *(None for _ in inputs))


def cat_split_backward(tensors: Sequence[torch.Tensor], dim: int) -> torch.Tensor:
    """``torch.cat(tensors, dim)`` whose gradient is one ``split`` of the incoming gradient (equal values, gradients).

    PyTorch differentiates a concatenation into one slice per piece. When that backward pass is differentiated
    again (training on forces), the gradient of each slice is a zero-filled tensor as large as the whole
    concatenation, into which the piece is copied, and the pieces are then added up: three full-size kernels per
    piece (~550 per md17 energy+forces step, most of them the atom levels' brackets). The gradient of a ``split`` is a
    single concatenation.
    """
    if len(tensors) == 1:
        return tensors[0]
    if not torch.is_grad_enabled():  # nothing is recorded: a plain concatenation (torch.compile cannot trace the
        return torch.cat(list(tensors), dim=dim)  # Function's forward under no_grad)
    return _CatSplitBackward.apply(dim, *tensors)


class _CatSplitBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, dim: int, *tensors: torch.Tensor) -> torch.Tensor:
        ctx.dim, ctx.sizes = dim, [tensor.shape[dim] for tensor in tensors]
        return torch.cat(tensors, dim=dim)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return (None, *grad.split(ctx.sizes, dim=ctx.dim))
