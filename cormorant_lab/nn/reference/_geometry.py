r"""Pair geometry of the reference network: distances, its edge harmonics and its radial functions.

For atoms :math:`i, j` with :math:`r_{ij} = r_i - r_j` (every pair, the self pair and padding included, as in the
reference):

* **edge harmonics** — the reference's ``SphericalHarmonicsRel(normalize=False, conj=True, sh_norm="unit")``:
  conjugated *solid* harmonics in Racah normalization,

  .. math:: \Upsilon^l_{ij,m} = \sqrt{\tfrac{4\pi}{2l+1}}\; |r_{ij}|^l\, \overline{Y_l^m(\hat r_{ij})},

  so :math:`\Upsilon^0 = 1` and :math:`\Upsilon^1 = ((x+iy)/\sqrt2,\ z,\ (-x+iy)/\sqrt2)`. They are not unit
  vectors: they grow as :math:`r^l`. Being conjugated, they (and so every activation of the reference network)
  turn with :math:`\overline{D^l(R)}` of this package's convention — the textbook :math:`\mathcal D^l`.
* **radial functions** — ``RadPolyTrig``: on pairs with :math:`r > 0` (0 elsewhere),

  .. math:: \eta_{a,k}(r) = \sin(2\pi\, s_a r + \phi_a)\; r^{-k}, \quad a = 1..2(n+1),\ k = 0..K,

  with learnable frequencies :math:`s` (initially :math:`0..n, 0..n`) and phases :math:`\phi` (initially
  :math:`\pi/2` for :math:`a = 1` and the second half, 0 else). Flattened ``(a, k)`` they are 2(n+1)(K+1) reals.

Unlike the reference, distances and inverse powers are computed so that their gradients are finite at
:math:`r = 0` (the self pair, and coincident padding atoms): the reference's forces are NaN there.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...so3 import spherical_harmonics_all


def pair_distances(positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(r_ij, |r_ij|, |r_ij| > 0)`` for positions ``(B, N, 3)``: ``(B, N, N, 3)``, ``(B, N, N)``, ``(B, N, N)`` bool.

    The distance is exactly 0 where ``r_ij = 0``, with a zero (not NaN) gradient there.
    """
    rel = positions.unsqueeze(-2) - positions.unsqueeze(-3)
    squared = (rel * rel).sum(-1)
    positive = squared > 0
    norms = torch.where(
        positive, torch.where(positive, squared, torch.ones_like(squared)).sqrt(), torch.zeros_like(squared)
    )
    return rel, norms, positive


def edge_harmonics(max_sh: int, rel: torch.Tensor) -> list[torch.Tensor]:
    r""":math:`\Upsilon^l_{ij}` for l = 0..max_sh, complex ``(B, N, N, 2l+1)``: conjugated Racah-normalized solid harmonics."""
    solid = spherical_harmonics_all(max_sh, rel, basis="complex", normalize=False)
    return [y.conj() * math.sqrt(4 * math.pi / (2 * l + 1)) for l, y in enumerate(solid)]


class PolyTrig(nn.Module):
    r"""The reference's ``RadPolyTrig`` basis :math:`\eta_{a,k}(r)` (module docstring), optionally mixed.

    Args:
        basis_set: ``(n, K)``: ``2(n+1)`` trigonometric functions times ``K+1`` inverse powers.
        mix: ``None`` (return the ``2(n+1)(K+1)`` basis functions) or a number of output channels: then a real
            linear map (with bias) of the basis functions — the reference's ``mix='real'``, used by the QM9 input.

    Parameters ``scales`` and ``phases`` have the reference's shape ``(1, 1, 1, 2(n+1))``.
    """

    def __init__(self, basis_set: tuple[int, int], mix: int | None = None):
        super().__init__()
        trig, rpow = (int(v) for v in basis_set)
        if trig < 0 or rpow < 0:
            raise ValueError(f"basis_set must be two non-negative integers, got {basis_set}")
        self.rpow = rpow
        self.num_basis = 2 * (trig + 1) * (rpow + 1)
        scales = torch.cat([torch.arange(trig + 1.0), torch.arange(trig + 1.0)]).view(1, 1, 1, -1)
        phases = torch.cat([torch.zeros(trig + 1), torch.full((trig + 1,), math.pi / 2)]).view(1, 1, 1, -1)
        phases[0, 0, 0, 0] = math.pi / 2  # sin(0·r + 0) = 0 would waste a function
        self.scales, self.phases = nn.Parameter(scales), nn.Parameter(phases)
        self.linear = nn.Linear(self.num_basis, int(mix)) if mix is not None else None

    def forward(self, norms: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Basis (or mixed) functions of ``norms`` ``(B, N, N)`` on pairs ``mask & (norms > 0)``: ``(B, N, N, F)`` real.

        Masked pairs get 0 basis functions (the mixed output is then the linear map's bias, as in the reference).
        """
        active = (mask & (norms > 0)).unsqueeze(-1)
        r = torch.where(active, norms.unsqueeze(-1), torch.ones_like(norms.unsqueeze(-1)))  # finite r^-k and gradients
        powers = torch.stack([r.pow(-k) for k in range(self.rpow + 1)], dim=-1)  # (B, N, N, 1, K+1)
        trig = torch.sin((2 * math.pi * self.scales) * r + self.phases).unsqueeze(-1)  # (B, N, N, 2(n+1), 1)
        basis = torch.where(active.unsqueeze(-1), powers * trig, torch.zeros((), dtype=r.dtype, device=r.device))
        basis = basis.flatten(-2)
        return self.linear(basis) if self.linear is not None else basis


class ChannelCutoff(nn.Module):
    r"""The reference's ``MaskLevel``: the edge mask of ``channels`` channels,

    .. math::

        \mu_c(r) = [\text{pair}]\,[r < r_{\text{hard}}]\;
            \sigma\!\left(\frac{\max(\epsilon, |\rho_c|) - r}{\max(\epsilon, |w_c|)}\right),

    with the hard factor if ``"hard"`` is in ``cutoff_type``, the sigmoid if ``"soft"``, ``"learn"``,
    ``"learn_rad"`` or ``"learn_width"`` is, learnable radii :math:`\rho` / widths :math:`w` for ``"learn"``
    (both), ``"learn_rad"``, ``"learn_width"``; :math:`\epsilon = 10^{-3}` (the reference's). Learnable values
    are parameters ``(1, 1, 1, channels)``, fixed ones plain numbers.
    """

    TYPES = ("hard", "soft", "learn", "learn_rad", "learn_width")

    def __init__(
        self,
        channels: int,
        cutoff_type,
        hard_cut_rad: float,
        soft_cut_rad: float,
        soft_cut_width: float,
        eps: float = 1e-3,
    ):
        super().__init__()
        cutoff_type = tuple(cutoff_type)
        unknown = [t for t in cutoff_type if t not in self.TYPES]
        if unknown:
            raise ValueError(f"unknown cutoff_type {unknown}; choose from {self.TYPES}")
        self.hard_cut_rad = float(hard_cut_rad) if "hard" in cutoff_type else None
        self.eps = float(eps)
        self.soft = any(t in cutoff_type for t in ("soft", "learn", "learn_rad", "learn_width"))
        if self.soft:
            radius = torch.full((1, 1, 1, channels), float(soft_cut_rad))
            width = torch.full((1, 1, 1, channels), float(soft_cut_width))
            learn_rad = "learn" in cutoff_type or "learn_rad" in cutoff_type
            learn_width = "learn" in cutoff_type or "learn_width" in cutoff_type
            # fixed values stay Python numbers, exact in either dtype (a float32 buffer cast to float64 would not be)
            # and, as in the reference, outside the state_dict
            self.radius = nn.Parameter(radius) if learn_rad else float(soft_cut_rad)
            self.width = nn.Parameter(width) if learn_width else float(soft_cut_width)

    def forward(self, pair_mask: torch.Tensor, norms: torch.Tensor) -> torch.Tensor:
        """The mask ``(B, N, N, channels)`` (or ``(B, N, N, 1)`` without a soft part) for pairs ``pair_mask`` ``(B, N, N)``."""
        if self.hard_cut_rad is not None:
            pair_mask = pair_mask & (norms < self.hard_cut_rad)
        mask = pair_mask.to(norms.dtype).unsqueeze(-1)
        if self.soft:
            width = (
                torch.clamp(self.width.abs(), min=self.eps)
                if isinstance(self.width, torch.Tensor)
                else max(self.eps, abs(self.width))
            )
            radius = (
                torch.clamp(self.radius.abs(), min=self.eps)
                if isinstance(self.radius, torch.Tensor)
                else max(self.eps, abs(self.radius))
            )
            mask = mask * torch.sigmoid((radius - norms.unsqueeze(-1)) / width)
        return mask
