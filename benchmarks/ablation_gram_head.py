r"""Ablation: the md17 head reading Gram invariants instead of squared norms (docs/differences.md, fourth round).

The default head reads, per level and degree, the squared norm :math:`F_{i,l,c} \cdot F_{i,l,c}` of each channel
(``cormorant_lab.nn._output.atom_invariants``). This script gives it every inner product of two channels,
:math:`F_{i,l,c} \cdot F_{i,l,c'}` for :math:`c \le c'` (the upper triangle of each degree's Gram matrix: C(C+1)/2
invariants instead of C, 920 for the md17 preset), then runs ``learning_per_epoch.py``'s training. If the head's
reading of the levels were what limits fitting, this richer (still invariant, still quadratic) readout would close
the gap to the reference mode; it patches the model for this process only (the package does not offer it: it did
not help).

Usage::

    python benchmarks/ablation_gram_head.py --models default --seed 0 [--overrides JSON]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import learning_per_epoch  # noqa: E402

import cormorant_lab.nn._cormorant as cormorant_module  # noqa: E402
from cormorant_lab.so3 import SO3Vec  # noqa: E402


def num_gram_invariants(channels: Sequence[Sequence[int]]) -> int:
    """Length of :func:`gram_invariants` for levels with the given channels per degree."""
    return sum(c[0] + sum(k * (k + 1) // 2 for k in c) for c in channels)


def gram_invariants(levels: Sequence[SO3Vec], **_) -> torch.Tensor:
    """Per atom, each level's l = 0 part and the upper triangle of each degree's Gram matrix: ``(B, N, ...)``."""
    pieces = []
    for vec in levels:
        pieces.append(vec.scalars())
        for part in vec.parts:  # (B, N, C, 2l+1)
            rows, cols = torch.triu_indices(part.shape[-2], part.shape[-2], device=part.device)
            pieces.append((part @ part.transpose(-1, -2))[..., rows, cols])
    return torch.cat(pieces, dim=-1)


if __name__ == "__main__":
    cormorant_module.num_invariants = num_gram_invariants
    cormorant_module.atom_invariants = gram_invariants
    learning_per_epoch.main()
