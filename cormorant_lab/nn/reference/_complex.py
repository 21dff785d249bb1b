r"""Complex numbers stored as real pairs: the reference's parameter layout, and its complex channel mixing.

The reference implementation (risilab/cormorant) keeps every complex tensor as a real tensor whose last axis
holds (real, imaginary). Parameters are stored the same way here — so a parameter count, a ``state_dict`` and an
initialization distribution are the reference's, number for number — and viewed as torch complex tensors
(:func:`torch.view_as_complex`, no copy) where they are used.

:class:`ComplexMixing` is the paper's channel mixing of an SO(3) vector (§4, "mixing"):

.. math::

    F'_l = F_l\, W_l^{\top}, \qquad W_l \in \mathbb{C}^{\tau'_l \times \tau_l},

for parts in our row layout ``(..., τ_l, 2l+1)``; a complex :math:`W_l` commutes with :math:`D^l(R)`, so mixing is
covariant whatever the basis. Measured choice: torch complex arithmetic against explicit real/imaginary pairs
(four real products) — see ``benchmarks/bench_reference_mode.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def as_complex(pair: torch.Tensor) -> torch.Tensor:
    """A real tensor ``(..., 2)`` (real, imaginary) as a complex tensor ``(...)`` sharing its memory (differentiable)."""
    return torch.view_as_complex(pair if pair.stride(-1) == 1 else pair.contiguous())


def complex_dtype(real: torch.dtype) -> torch.dtype:
    """complex128 for float64, complex64 for float32."""
    return torch.complex128 if real == torch.float64 else torch.complex64


def interleave(z: torch.Tensor) -> torch.Tensor:
    """Complex ``(..., C)`` → real ``(..., 2C)`` as ``(Re z_1, Im z_1, Re z_2, …)``, the reference's flattening."""
    return torch.view_as_real(z).flatten(-2)


def deinterleave(x: torch.Tensor) -> torch.Tensor:
    """Real ``(..., 2C)`` read as ``(Re z_1, Im z_1, …)`` → complex ``(..., C)``: the reference's ``view(..., C, 2)``."""
    return as_complex(x.unflatten(-1, (-1, 2)))


class ComplexMixing(nn.Module):
    r"""Per-degree complex channel mixing :math:`F'_l = W_l F_l` (paper's notation; ``part @ W_l.T`` here).

    Args:
        channels_in: :math:`\tau_l` for l = 0..L.
        channels_out: :math:`\tau'_l` (an int: the same at every degree).
        init: ``"randn"`` (standard normal real and imaginary parts) or ``"rand"`` (uniform on [-1, 1)).
        gain: the weights are scaled by ``gain / max(τ'_l, τ_l, 2)`` — the reference's ``MixReps`` (the 2 is the
            size of its complex axis, which its ``max(shape)`` also sees).

    ``weights[l]`` is a real parameter ``(τ'_l, τ_l, 2)``: the reference's ``SO3Weight`` layout.
    """

    def __init__(
        self, channels_in: Sequence[int], channels_out: int | Sequence[int], *, init: str = "randn", gain: float = 1.0
    ):
        super().__init__()
        channels_in = [int(c) for c in channels_in]
        if isinstance(channels_out, int):
            channels_out = [channels_out] * len(channels_in)
        if len(channels_out) != len(channels_in):
            raise ValueError(
                f"channels_out {list(channels_out)} must give one count per degree of channels_in {channels_in}"
            )
        if init not in ("randn", "rand"):
            raise ValueError(f"init must be 'randn' or 'rand', got {init!r}")
        weights = []
        for c_in, c_out in zip(channels_in, channels_out, strict=False):
            shape = (int(c_out), c_in, 2)
            w = torch.randn(shape) if init == "randn" else 2 * torch.rand(shape) - 1
            weights.append(nn.Parameter(w * (gain / max(shape))))
        self.weights = nn.ParameterList(weights)
        self.channels_in, self.channels_out = tuple(channels_in), tuple(int(c) for c in channels_out)

    def forward(self, parts: Sequence[torch.Tensor], *, channel_axis: int = -2) -> list[torch.Tensor]:
        """Mix complex ``parts[l]`` along ``channel_axis`` (``-2`` for SO(3) vectors ``(..., τ, 2l+1)``, ``-1`` for scalars)."""
        if len(parts) != len(self.weights):
            raise ValueError(f"ComplexMixing expects {len(self.weights)} parts, got {len(parts)}")
        out = []
        for l, (part, weight) in enumerate(zip(parts, self.weights, strict=False)):
            if part.shape[channel_axis] != weight.shape[1]:
                raise ValueError(
                    f"ComplexMixing: part l={l} has {part.shape[channel_axis]} channels, expected {weight.shape[1]}"
                )
            w = as_complex(weight).to(part.dtype)
            out.append(w @ part if channel_axis == -2 else part @ w.transpose(0, 1))
        return out
