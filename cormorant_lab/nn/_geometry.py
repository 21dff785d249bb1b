r"""Edge geometry, computed once per forward pass and shared by every level: masks, distances, harmonics.

For atoms at :math:`r_i` the network sees, for every pair, the relative position
:math:`r_{ij} = r_i - r_j`, its length :math:`|r_{ij}|` (the argument of the radial functions and the soft
cutoff) and its spherical harmonics :math:`Y_l(\hat r_{ij})` (paper, §5: the edge activations
:math:`G_{ij}^{s,l} = g_{ij}^{s,l}\, Y_l(\hat r_{ij})`). Rotating the molecule rotates :math:`r_{ij}`, so the
harmonics turn with :math:`D^l(R)` and the distances do not change; translating it changes nothing.

Masks (padding atoms have charge 0):

* ``pair_mask`` — both atoms real. It includes the self pair ``i = j``, as the reference implementation does:
  there :math:`Y_0 = 1/\sqrt{4\pi}` and :math:`Y_{l>0} = 0`, so the self pair contributes an invariant term.
* ``neighbour_mask`` — both atoms real and :math:`|r_{ij}| > 0`: where the radial functions, which may be
  singular at r = 0, are evaluated. Elsewhere ``distances`` holds 0 and a safe placeholder is used, so
  values *and gradients* stay finite for self pairs and padding pairs (the reference took
  :math:`r^{-k}` at :math:`r_{ii} = 0` and got NaN forces).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..so3 import stacked_harmonics


@dataclass(frozen=True)
class EdgeGeometry:
    """Pairwise geometry of a batch of molecules (batch B, atoms N)."""

    pair_mask: torch.Tensor  # (B, N, N) bool: both atoms real (self pairs included)
    neighbour_mask: torch.Tensor  # (B, N, N) bool: both real and |r_ij| > 0
    distances: torch.Tensor  # (B, N, N) |r_ij| where neighbour_mask, else 0
    safe_distances: torch.Tensor  # (B, N, N) |r_ij| where neighbour_mask, else 1 (for r^-k without NaN)
    # Y_l(r_ij_hat) on neighbour pairs (only Y_0 elsewhere), l = 0..max_sh, each (B, N, N, 2l+1), stored (B, N, 2l+1, N)
    harmonics: tuple[torch.Tensor, ...]
    stacked_harmonics: torch.Tensor | None = None  # (B, N, (max_sh+1)², N): every degree; harmonics are its views

    @property
    def max_sh(self) -> int:
        return len(self.harmonics) - 1


def edge_geometry(
    positions: torch.Tensor, atom_mask: torch.Tensor, max_sh: int, *, coefficients: torch.Tensor | None = None
) -> EdgeGeometry:
    """Compute :class:`EdgeGeometry` for positions ``(B, N, 3)`` and a boolean ``atom_mask`` ``(B, N)``.

    ``coefficients``: :func:`~cormorant_lab.so3.harmonics_coefficients` ``(max_sh)`` in the positions' dtype and
    device, held by the caller as a buffer (the model does; by default it is looked up in a cache).
    """
    relative = positions.unsqueeze(-2) - positions.unsqueeze(-3)  # r_ij = r_i - r_j, (B, N, N, 3)
    squared = (relative * relative).sum(-1)
    pair_mask = atom_mask.unsqueeze(-1) & atom_mask.unsqueeze(-2)
    neighbour_mask = pair_mask & (squared > 0)
    # sqrt only where it is differentiable: elsewhere sqrt(1) = 1, and torch.where routes no gradient there.
    safe = torch.where(neighbour_mask, squared, torch.ones_like(squared)).sqrt()
    distances = torch.where(neighbour_mask, safe, torch.zeros_like(safe))
    # Stored with j innermost, so that the edge activations g_ij Y_ij come out in the layout (B, C, i, m, j) in which
    # the neighbour sum of the CG aggregate is a batched matrix product without copies (see _edge_level).
    # the directions from the distances just computed (not normalized again inside the harmonics): 0 off the
    # neighbour pairs, where Y_0 stays and every l > 0 vanishes; where() passes those pairs no gradient
    directions = torch.where(neighbour_mask.unsqueeze(-1), relative / safe.unsqueeze(-1), 0.0)
    # r^l Y_l of a unit vector is Y_l: (B, N, N, (L+1)²), every degree
    stacked = stacked_harmonics(max_sh, directions, normalize=False, coefficients=coefficients)
    stored = stacked.transpose(-1, -2).contiguous()  # (B, N, (L+1)², N): one copy for every degree
    parts = stored.split([2 * l + 1 for l in range(max_sh + 1)], dim=-2)
    harmonics = tuple(part.transpose(-1, -2) for part in parts)
    return EdgeGeometry(pair_mask, neighbour_mask, distances, safe, harmonics, stored)
