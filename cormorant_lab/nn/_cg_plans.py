r"""The CG coupling plans of a layer, held as its buffers: built once at construction, never looked up at run time.

:func:`~cormorant_lab.so3.cg_square` and :func:`~cormorant_lab.so3.cg_aggregate_separable` couple degree pairs
with plans (the stacked Clebsch–Gordan columns :math:`C^{l_1 l_2 l}` of every pair, one matrix per row l1) that
they fetch from a cache keyed by dtype and device. A layer that owns its plans as buffers needs no cache: the
matrices follow the layer's ``.to(device, dtype)``, and ``torch.compile`` traces the forward pass without
entering the cache (whose construction, in numpy, breaks the graph).
"""

from __future__ import annotations

import torch
from torch import nn

from ..so3 import RowPlan, plans_for


class CouplingPlans(nn.Module):
    """The plans of ``max_l1 × max_l2 → maxl`` (``square``: those of ``cg_square``) in ``basis``, as buffers.

    Calling the module returns the tuple of ``RowPlan`` whose matrices are the buffers (in the layer's dtype and
    device), to pass as ``plans=`` to the CG functions.
    """

    def __init__(self, max_l1: int, max_l2: int, maxl: int, *, basis: str = "real", square: bool = False):
        super().__init__()
        plans = plans_for(max_l1, max_l2, maxl, torch.zeros((), dtype=torch.float64), basis, square=square)
        self._rows = tuple((plan.l1, plan.first_l2, plan.degrees) for plan in plans)
        self._exact = tuple(plan.matrix for plan in plans)  # float64, CPU: the source of every conversion
        for k, plan in enumerate(plans):
            self.register_buffer(f"_matrix_{k}", plan.matrix.to(torch.get_default_dtype()), persistent=False)

    def _apply(self, fn, recurse: bool = True):
        # .to(dtype) converts buffers from their current dtype: float32 -> float64 would keep float32's rounding.
        # Convert the exact float64 matrices instead, to whatever dtype and device fn gave the buffers.
        super()._apply(fn, recurse)
        for k, exact in enumerate(self._exact):
            current = getattr(self, f"_matrix_{k}")
            setattr(self, f"_matrix_{k}", exact.to(dtype=current.dtype, device=current.device))
        return self

    def forward(self) -> tuple[RowPlan, ...]:
        return tuple(
            RowPlan(l1, first, degrees, getattr(self, f"_matrix_{k}"))
            for k, (l1, first, degrees) in enumerate(self._rows)
        )
