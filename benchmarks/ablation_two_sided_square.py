"""Ablation: the default md17 preset with a two-sided CG square ``F ⊗ (M F)`` (docs/differences.md, second round).

A complex channel ``F = P + iQ`` squares to ``(P⊗P − Q⊗Q) + i(P⊗Q + Q⊗P)``: it couples two real channels, which
the default network's channel-wise square ``F_c ⊗ F_c`` does not. This script gives every atom level a learnable
per-degree channel mixing ``M_l`` (identity at initialization, plus ``N(0, 1/C)`` with ``--noise 1``) and replaces
the square by the full product ``F ⊗ (M F)`` (same columns of the level's mixing as the full square), then runs
``learning_per_epoch.py``'s training on the default preset. It patches the atom level for this process only; the
package does not offer the option (it did not help). The recomputing backward pass is off (it would not reach M).

Usage::

    python benchmarks/ablation_two_sided_square.py --models default --seed 0 [--noise 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import learning_per_epoch  # noqa: E402

from cormorant_lab.nn._atom_level import AtomLevel  # noqa: E402
from cormorant_lab.nn._mixing import cat_split_backward  # noqa: E402
from cormorant_lab.so3 import SO3Vec, cg_product, iter_separable_aggregate_pieces  # noqa: E402

_plain_blocks, _plain_weights = AtomLevel._bracket_blocks, AtomLevel.folded_weights


def two_sided_blocks(self, atoms, edges, *, lean):
    """``[F ⊕ F⊗(MF) ⊕ Σ G⊗F]`` per degree, channels first (a level without ``partner`` as before)."""
    if not hasattr(self, "partner"):
        yield from _plain_blocks(self, atoms, edges, lean=lean)
        return
    channels_first = [part.transpose(-2, -3).contiguous() for part in atoms.parts]
    yield from enumerate(channels_first[: self.maxl + 1])
    mixed = SO3Vec(
        [torch.einsum("dc,bncm->bndm", m, part) for m, part in zip(self.partner, atoms.parts, strict=True)],
        basis=atoms.basis,
    )
    yield from enumerate(part.transpose(-2, -3) for part in cg_product(atoms, mixed, maxl=self.maxl).parts)
    f_all = cat_split_backward(channels_first, dim=-1)
    yield from iter_separable_aggregate_pieces(
        edges.scalars, edges.harmonics, f_all, self.maxl, atoms.basis, chunk=None, plans=self.aggregate_plans()
    )


def unfolded_weights(self):
    """The full product has the full square's columns: the mixing's weights ``C·V`` as they are, nothing folded."""
    return self.mix.effective_weights() if hasattr(self, "partner") else _plain_weights(self)


def build(name: str, seed: int, noise: float) -> torch.nn.Module:
    model = _build(name, seed)
    if name == "default":
        generator = torch.Generator().manual_seed(seed + 100)
        for level in model.modules():
            if isinstance(level, AtomLevel):
                c, dtype = level.atom_channels[0], level.mix.weights[0].dtype
                level.partner = torch.nn.ParameterList(
                    torch.nn.Parameter(
                        (torch.eye(c) + noise * torch.randn(c, c, generator=generator) / c**0.5).to(dtype)
                    )
                    for _ in level.atom_channels
                )
        model.recompute_in_backward = False
    return model


_build = learning_per_epoch.build

if __name__ == "__main__":
    noise = 0.0
    if "--noise" in sys.argv:
        at = sys.argv.index("--noise")
        noise = float(sys.argv[at + 1])
        del sys.argv[at : at + 2]
    AtomLevel._bracket_blocks, AtomLevel.folded_weights = two_sided_blocks, unfolded_weights
    learning_per_epoch.build = lambda name, seed: build(name, seed, noise)
    learning_per_epoch.main()
