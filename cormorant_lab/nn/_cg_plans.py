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

from ..so3 import RowPlan, all_rows_matrix, plans_for
from ._constants import ExactConstant


class CouplingPlans(nn.Module):
    """The plans of ``max_l1 × max_l2 → maxl`` (``square``: those of ``cg_square``) in ``basis``, as buffers.

    Calling the module returns the tuple of ``RowPlan`` whose matrices are the buffers (in the layer's dtype and
    device), to pass as ``plans=`` to the CG functions; ``all_rows()`` their block-diagonal ``all_rows_matrix``,
    to pass as ``all_rows=``.
    """

    def __init__(self, max_l1: int, max_l2: int, maxl: int, *, basis: str = "real", square: bool = False):
        super().__init__()
        plans = plans_for(max_l1, max_l2, maxl, torch.zeros((), dtype=torch.float64), basis, square=square)
        self._rows = tuple((plan.l1, plan.first_l2, plan.degrees) for plan in plans)
        # each matrix converted from its float64 original by .to(dtype): float32 -> float64 keeps no rounding
        self.matrices = nn.ModuleList(ExactConstant(plan.matrix) for plan in plans)
        # the square's rows also zero-padded to every part of b (cg_square couples all rows at once with them)
        self.padded = nn.ModuleList(ExactConstant(plan.padded) for plan in plans if plan.padded is not None)
        # every row's coupling in one block-diagonal matrix (the accelerator forms couple every row in one product)
        self.all_rows = ExactConstant(all_rows_matrix(plans, square=square))

    def forward(self) -> tuple[RowPlan, ...]:
        padded = [matrix() for matrix in self.padded] or [None] * len(self._rows)
        return tuple(
            RowPlan(l1, first, degrees, matrix(), pad)
            for (l1, first, degrees), matrix, pad in zip(self._rows, self.matrices, padded, strict=True)
        )
