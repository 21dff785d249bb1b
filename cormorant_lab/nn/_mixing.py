r"""Covariant channel mixing: one weight matrix per degree l (paper, §5: the weights :math:`W^s_l` of each level).

For an SO(3) vector :math:`F = (F_0, \dots, F_L)` with :math:`F_l \in \mathbb{R}^{\tau_l \times (2l+1)}`,

.. math::

    (F W)_l = W_l\, F_l, \qquad W_l \in \mathbb{R}^{\tau'_l \times \tau_l},

mixes channels and never the :math:`m` index, so it commutes with every :math:`D^l(R)` acting on the right:
:math:`W_l (F_l D^{l\top}) = (W_l F_l) D^{l\top}`. Mixing different degrees, or adding a bias to l > 0,
would break covariance; there is no bias at all, so padding atoms (all zeros) stay zero.

Initialization follows the reference implementation (``weight_init="rand"``): entries uniform in
:math:`(-1, 1)` times ``gain / max(τ_in, τ_out)`` (``"randn"``: standard normal times the same factor).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..so3 import SO3Vec

WEIGHT_INITS = ("rand", "randn")


def mixing_weight(channels_out: int, channels_in: int, *, gain: float = 1.0, init: str = "rand") -> torch.Tensor:
    """A ``(channels_out, channels_in)`` matrix initialised as the reference implementation's mixing weights."""
    if init == "rand":
        weight = 2 * torch.rand(channels_out, channels_in) - 1
    elif init == "randn":
        weight = torch.randn(channels_out, channels_in)
    else:
        raise ValueError(f"weight_init must be one of {WEIGHT_INITS}, got {init!r}")
    return weight * (gain / max(channels_out, channels_in))


class SO3Linear(nn.Module):
    """Per-degree channel mixing ``F_l ↦ W_l F_l`` from channels ``channels_in[l]`` to ``channels_out[l]`` (of concatenated inputs)."""

    def __init__(self, channels_in: Sequence[int], channels_out: int | Sequence[int], *, gain: float = 1.0, init: str = "rand"):
        super().__init__()
        self.channels_in = tuple(int(c) for c in channels_in)
        if isinstance(channels_out, int):
            channels_out = (channels_out,) * len(self.channels_in)
        self.channels_out = tuple(int(c) for c in channels_out)
        if len(self.channels_out) != len(self.channels_in):
            raise ValueError(f"channels_in {self.channels_in} and channels_out {self.channels_out} must list the same degrees")
        self.weights = nn.ParameterList(
            nn.Parameter(mixing_weight(o, i, gain=gain, init=init)) for o, i in zip(self.channels_out, self.channels_in)
        )

    def forward(self, *vecs: SO3Vec) -> SO3Vec:
        """Concatenate ``vecs`` channel-wise degree by degree (as :meth:`SO3Vec.cat`) and mix them.

        The input channels per degree must equal ``channels_in``; the result has parts ``(..., channels_out[l], 2l+1)``.
        """
        vec = SO3Vec.cat(vecs) if len(vecs) > 1 else vecs[0]
        if vec.channels != self.channels_in:
            raise ValueError(f"SO3Linear expects channels {self.channels_in}, got {vec.channels}")
        # W_l @ F_l broadcast over the batch: a batched product that reads F_l in place and writes a contiguous result
        # (measured faster on CPU, forward and backward, than transposing F_l for one large matrix product).
        return SO3Vec([torch.matmul(w, part) for w, part in zip(self.weights, vec.parts)], basis=vec.basis)
