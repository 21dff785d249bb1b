r"""Constant matrices of the layers: a buffer that keeps float64 precision through ``.to(dtype)``, and the 0/1
matrix that sums the components of each degree.

A buffer made in float32 and converted later with ``model.to(torch.float64)`` keeps float32's rounding (about
``1e-8`` relative): enough to break the float64 covariance checks for irrational constants such as the
coefficients of the spherical harmonics. :class:`ExactConstant` keeps the float64 original and converts that.
"""

from __future__ import annotations

import torch
from torch import nn


class ExactConstant(nn.Module):
    """``module()`` returns ``value`` in the module's current dtype and device, always converted from float64."""

    _value: torch.Tensor  # a buffer (see __init__)

    def __init__(self, value: torch.Tensor):
        super().__init__()
        self._exact = value.detach().to(device="cpu", dtype=torch.float64).clone()  # the source of every conversion
        self.register_buffer("_value", self._exact.to(torch.get_default_dtype()), persistent=False)

    def _apply(self, fn, recurse: bool = True):
        # .to(dtype) would convert the buffer from its current dtype; convert the float64 original instead
        super()._apply(fn, recurse)
        self._value = self._exact.to(dtype=self._value.dtype, device=self._value.device)
        return self

    def forward(self) -> torch.Tensor:
        return self._value


def degree_sum_matrix(maxl: int) -> torch.Tensor:
    """The 0/1 matrix ``(Σ_l (2l+1), maxl+1)`` that sums the components m of each degree l (the parts concatenated)."""
    return torch.block_diag(*(torch.ones(2 * l + 1, 1) for l in range(maxl + 1)))
