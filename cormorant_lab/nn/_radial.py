r"""Learnable radial functions of the pair distance (paper, §5: the :math:`\eta^{s,l}(r_{ij})` of the edge network).

The reference implementation's basis ("PolyTrig"), kept as is:

.. math::

    \eta_{n,k,p}(r) = \sin(2\pi a_{n,p}\, r + \varphi_{n,p})\; r^{-k},
    \qquad n = 0..n_{\max},\ k = 0..k_{\max},\ p \in \{\sin, \cos\},

with learnable frequencies :math:`a` (initialised to :math:`n` per Å, the reference's, or to :math:`n s` with
``frequency_scale`` :math:`s`) and phases :math:`\varphi` (initialised to 0 for the sine family and :math:`\pi/2` for
the cosine family; the constant :math:`\sin(0)` is replaced by :math:`\cos(0) = 1` so that no function starts
identically zero). ``basis_set = (n_max, k_max) = (3, 3)`` gives 2·4·4 = 32 functions, distances in Å.

``frequency_scale`` (ours; 1 is the reference): :math:`s < 1` spreads the same number of functions over lower
frequencies, i.e. smoother radial functions at initialization — with :math:`n_{\max} = 3` and the md17 preset's
:math:`s = 0.8` the highest is 2.4 per Å (a period of 0.42 Å) instead of 3 (0.33 Å) (``_presets``).

Conditioning: :math:`r^{-k}` is singular at r = 0. It is evaluated only on ``neighbour_mask`` (distinct real
atoms); elsewhere the placeholder distance 1 is used and the result is multiplied by 0, so self pairs and
padding pairs give exactly 0 with finite, zero gradients. At close contacts (0.1 Å) the largest function is
:math:`10^3`, which the covariant normalization of the atom levels absorbs (see ``_normalization``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ._geometry import EdgeGeometry
from ._mixing import cat_split_backward, positive_finite


class RadialPolyTrig(nn.Module):
    r"""The 2·(n_max+1)·(k_max+1) functions :math:`\sin(2\pi a r + \varphi)\, r^{-k}` of each pair distance."""

    def __init__(self, basis_set: tuple[int, int] = (3, 3), *, frequency_scale: float = 1.0):
        super().__init__()
        n_max, k_max = (int(v) for v in basis_set)
        if n_max < 0 or k_max < 0:
            raise ValueError(f"basis_set must be two non-negative integers (n_max, k_max), got {basis_set}")
        scale = positive_finite(frequency_scale, "frequency_scale")
        self.k_max = k_max
        frequencies = (torch.arange(n_max + 1, dtype=torch.float64) * scale).repeat(2)
        frequencies = frequencies.to(torch.get_default_dtype())
        phases = torch.cat([torch.zeros(n_max + 1), torch.full((n_max + 1,), math.pi / 2)])
        phases[0] = math.pi / 2  # sin(0 r + 0) = 0 would waste a function
        self.frequencies = nn.Parameter(frequencies)
        self.phases = nn.Parameter(phases.to(frequencies.dtype))

    @property
    def num_functions(self) -> int:
        return self.frequencies.numel() * (self.k_max + 1)

    def forward(self, geometry: EdgeGeometry) -> torch.Tensor:
        """Radial features ``(B, num_functions, N, N)`` (channels first), zero where ``neighbour_mask`` is False."""
        return _poly_trig(self.frequencies, self.phases, self.k_max, geometry)


def _poly_trig(frequencies: torch.Tensor, phases: torch.Tensor, k_max: int, geometry: EdgeGeometry) -> torch.Tensor:
    """``sin(2π a r + φ) r^{-k}`` for frequencies and phases ``(T,)``: ``(B, T·(k_max+1), N, N)``, index t·K + k."""
    r = geometry.safe_distances.unsqueeze(1)  # (B, 1, N, N)
    trig = torch.sin((2 * math.pi) * frequencies.view(-1, 1, 1) * r + phases.view(-1, 1, 1))  # (B, T, N, N)
    inverse = 1 / r
    powers = [geometry.neighbour_mask.unsqueeze(1).to(r.dtype)]  # r^0, zero off the neighbour pairs
    for _ in range(k_max):
        powers.append(powers[-1] * inverse)
    stacked = cat_split_backward(powers, dim=1)  # (B, K, N, N); its gradient one split
    return (trig.unsqueeze(2) * stacked.unsqueeze(1)).flatten(1, 2)  # (B, T*K, N, N)


def radial_functions_all(radials: Sequence[RadialPolyTrig], geometry: EdgeGeometry) -> list[torch.Tensor]:
    """``[radial(geometry) for radial in radials]`` (every level's basis) computed at once.

    The frequencies and phases of every level are concatenated, so the sine, the powers :math:`r^{-k}` (shared)
    and their products are one operation each for all levels rather than one per level: the same numbers, a
    fifth of the kernels at four levels. Levels whose ``k_max`` differ are computed one by one.
    """
    if len({radial.k_max for radial in radials}) != 1:
        return [radial(geometry) for radial in radials]
    frequencies = torch.cat([radial.frequencies for radial in radials])
    phases = torch.cat([radial.phases for radial in radials])
    stacked = _poly_trig(frequencies, phases, radials[0].k_max, geometry)
    return list(stacked.split([radial.num_functions for radial in radials], dim=1))
