r"""Covariant soft normalization: keeps every level's activations bounded without breaking covariance.

Why: the paper's network has no normalization. Each atom level squares its input through the CG product
:math:`F \otimes_{cg} F` and sums over neighbours, so a scale :math:`s` becomes :math:`\sim s^2` one level later:
the exponent doubles per level. On random molecules the reference implementation's activations reach
:math:`\sim 10^{3}, 10^{7}, 10^{21}` over its four levels in float32 and some outputs become inf/NaN when atoms
come close (where the radial functions :math:`r^{-k}` are large).

What: after the channel mixing of every atom level (and after the input featurization), each degree of each
atom is divided by an invariant of that same degree and atom,

.. math::

    F_{i,l} \;\leftarrow\; \frac{F_{i,l}}{\sqrt{1 + q_{i,l}}}, \qquad
    q_{i,l} = \frac{1}{\tau_l} \sum_{c=1}^{\tau_l} \lVert F_{i,l,c} \rVert^2 .

Properties:

* **exactly covariant** — :math:`q_{i,l}` is invariant (:math:`D^l` is orthogonal) and the division is
  channel-uniform, so :math:`F_{i,l} D^{l\top}` maps to :math:`(\ldots) D^{l\top}`; it is per atom, so it
  commutes with permutations, and it maps zero (padding atoms) to zero;
* **bounded** — afterwards :math:`q_{i,l} < 1`, so every channel has :math:`\lVert F_{i,l,c}\rVert^2 < \tau_l`
  whatever the input, and the next level's CG square is bounded too: growth cannot compound across levels;
* **near the identity for small activations** (:math:`q \ll 1`), smooth everywhere (no division by a norm that
  may vanish, so gradients at zero are finite), and parameter-free (the next mixing matrix sets the scale).

Per degree rather than per atom, so that a large l = 0 part does not squash the l > 0 parts.

Scale and floor (``scale`` κ, ``epsilon`` ε; both 1 by default): :math:`F_{i,l} / \sqrt{\varepsilon + q_{i,l}/\kappa^2}`
caps :math:`q` at :math:`\kappa^2` afterwards and is :math:`F/\sqrt{\varepsilon}` for :math:`q \ll \varepsilon\kappa^2`.
The per-epoch ablations of both (``docs/differences.md``, "Accuracy per epoch") found no better setting than 1, 1:
a loose cap (κ = 3, 10) trains badly (test MAE 3.9 and 30 kcal/mol after 20 epochs, against 0.99), tighter
ones learn the first epochs slower.
``mode="none"`` switches it off (the reference's behaviour), e.g. to show the blow-up in a notebook.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..so3 import SO3Vec

NORMALIZATIONS = ("soft", "none")


def soft_normalize(part: torch.Tensor, scale: float = 1.0, epsilon: float = 1.0) -> torch.Tensor:
    """``part / sqrt(ε + mean_c ||part_c||² / κ²)`` (κ = ``scale``, ε = ``epsilon``) for a part ``(..., channels, 2l+1)``."""
    q = part.pow(2).sum(dim=(-2, -1), keepdim=True) / (part.shape[-2] * scale * scale)
    return part * torch.rsqrt(epsilon + q)


class CovariantNormalization(nn.Module):
    """Apply :func:`soft_normalize` to every degree of an SO3Vec (``mode="soft"``), or nothing (``"none"``)."""

    def __init__(self, mode: str = "soft", scale: float = 1.0, epsilon: float = 1.0):
        super().__init__()
        if mode not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {mode!r}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"normalization_scale must be a positive finite number, got {scale!r}")
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"normalization_epsilon must be a positive finite number, got {epsilon!r}")
        self.mode, self.scale, self.epsilon = mode, float(scale), float(epsilon)

    def forward(self, vec: SO3Vec) -> SO3Vec:
        if self.mode == "none":
            return vec
        return vec.apply(lambda part: soft_normalize(part, self.scale, self.epsilon))

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, scale={self.scale}, epsilon={self.epsilon}"
