r"""Soft (optionally learnable) and hard distance cutoffs: the mask :math:`\mu^s(r_{ij})` of the edge network (paper, §5).

Per channel :math:`c`,

.. math::

    \mu_c(r) = [\text{both atoms real}]\;[r < r_{\text{hard}}]\;
               \sigma\!\left(\frac{|\rho_c| - r}{\max(|w_c|, \epsilon)}\right),

a sigmoid step at radius :math:`\rho_c` of width :math:`w_c` (the reference's defaults: 1.73 Å and 0.2 Å).
``cutoff_type`` follows the reference: it is a collection of the words ``"soft"`` (fixed soft cutoff),
``"learn"`` (learnable radius and width), ``"learn_rad"``, ``"learn_width"``, and ``"hard"`` (multiply by the
step :math:`[r < r_{\text{hard}}]`). The self pair (r = 0) is kept, with weight :math:`\sigma(\rho/w) \approx 1`.
A function of distances only, the mask is invariant.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import torch
from torch import nn

from ._geometry import EdgeGeometry

CUTOFF_WORDS = frozenset({"soft", "learn", "learn_rad", "learn_width", "hard"})


class SoftCutoff(nn.Module):
    """The edge mask μ(r) of ``channels`` channels; see the module docstring."""

    radius: torch.Tensor  # a parameter or a buffer (_register)
    width: torch.Tensor

    def __init__(
        self,
        channels: int,
        *,
        cutoff_type: Collection[str] = ("learn",),
        soft_cut_rad: float = 1.73,
        soft_cut_width: float = 0.2,
        hard_cut_rad: float = 1.73,
        eps: float = 1e-8,
    ):
        super().__init__()
        words = set(cutoff_type)
        if not words <= CUTOFF_WORDS:
            raise ValueError(f"cutoff_type may only contain {sorted(CUTOFF_WORDS)}, got {sorted(words - CUTOFF_WORDS)}")
        self.hard_cut_rad = float(hard_cut_rad) if "hard" in words else None
        self.soft = bool(words & {"soft", "learn", "learn_rad", "learn_width"})
        self.eps = eps
        radius = torch.full((channels,), float(soft_cut_rad))
        width = torch.full((channels,), float(soft_cut_width))
        learn_radius = bool(words & {"learn", "learn_rad"})
        learn_width = bool(words & {"learn", "learn_width"})
        _register(self, "radius", radius, learn_radius)
        _register(self, "width", width, learn_width)

    def forward(self, geometry: EdgeGeometry) -> torch.Tensor:
        """Mask values ``(B, channels, N, N)`` (channels first): 0 for pairs involving padding atoms."""
        mask = geometry.pair_mask
        if self.hard_cut_rad is not None:
            mask = mask & (geometry.distances < self.hard_cut_rad)
        mask = mask.unsqueeze(1).to(self.radius.dtype)  # (B, 1, N, N)
        if not self.soft:
            return mask.expand(-1, self.radius.numel(), -1, -1)
        return _soft_step(geometry, self.radius, self.width, self.eps, mask)


def _soft_step(
    geometry: EdgeGeometry, radius: torch.Tensor, width: torch.Tensor, eps: float, mask: torch.Tensor
) -> torch.Tensor:
    """``mask · σ((|ρ| - r) / max(|w|, eps))`` for radii and widths ``(C,)`` and a mask ``(B, 1, N, N)``: ``(B, C, N, N)``."""
    width = width.abs().clamp_min(eps).view(-1, 1, 1)
    return _SigmoidStep.apply(geometry.distances.unsqueeze(1), radius.abs().view(-1, 1, 1), width, mask)


def soft_cutoffs_all(cutoffs: Sequence[SoftCutoff], geometry: EdgeGeometry) -> list[torch.Tensor]:
    """``[cutoff(geometry) for cutoff in cutoffs]`` (every level's mask) computed at once.

    When every cutoff is soft, without a hard radius, with one ``eps``, the radii and widths of every level are
    concatenated and the sigmoid step is one operation (and one backward) for all levels' channels instead of one
    per level: the same numbers, fewer kernels. Otherwise the cutoffs are evaluated one by one.
    """
    if not all(c.soft and c.hard_cut_rad is None for c in cutoffs) or len({c.eps for c in cutoffs}) != 1:
        return [cutoff(geometry) for cutoff in cutoffs]
    radius = torch.cat([c.radius for c in cutoffs])
    width = torch.cat([c.width for c in cutoffs])
    mask = geometry.pair_mask.unsqueeze(1).to(radius.dtype)  # (B, 1, N, N)
    steps = _soft_step(geometry, radius, width, cutoffs[0].eps, mask)
    return list(steps.split([c.radius.numel() for c in cutoffs], dim=1))


class _SigmoidStep(torch.autograd.Function):
    r"""``y = mask · σ((r_c - ρ) / w)`` for a 0/1 ``mask``, keeping its inputs and ``y`` for the backward pass.

    Autograd would keep ``(r_c - ρ) / w`` and σ, two ``(B, C, N, N)`` tensors per level; ``y`` is the output,
    kept by whatever uses it anyway. With a 0/1 mask, :math:`\mathrm{mask}\,σ(1 - σ) = y (1 - y)`, so the
    backward pass needs no sigmoid: with :math:`u = \bar y\, y (y - 1) / w` (:math:`= -\partial L/\partial z / w`),
    :math:`\partial_ρ = \sum_c u`, :math:`\partial_{r_c} = -\sum u` and :math:`\partial_w = \sum u z`. Made of
    differentiable operations, so second derivatives (training on forces) work.
    """

    @staticmethod
    def forward(ctx, r: torch.Tensor, radius: torch.Tensor, width: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        step = mask * torch.sigmoid((radius - r) / width)
        ctx.save_for_backward(r, radius, width, step)
        return step

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        r, radius, width, step = ctx.saved_tensors
        scaled = grad * step * (step - 1) / width  # -dL/dz / w
        grad_r = scaled.sum(-3, keepdim=True) if ctx.needs_input_grad[0] else None
        grad_radius = scaled.sum_to_size(radius.shape).neg() if ctx.needs_input_grad[1] else None
        grad_width = (scaled * ((radius - r) / width)).sum_to_size(width.shape) if ctx.needs_input_grad[2] else None
        return grad_r, grad_radius, grad_width, None


def _register(module: nn.Module, name: str, value: torch.Tensor, learnable: bool) -> None:
    if learnable:
        module.register_parameter(name, nn.Parameter(value))
    else:
        module.register_buffer(name, value)
