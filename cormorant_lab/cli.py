"""The ``cormorant-lab`` command line.

``cormorant-lab demo`` is the README's main job. It needs no network.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import torch


def _covariance_demo(seed: int) -> float:
    """CG products of spherical harmonics of a random molecule's bond vectors, rotated two ways."""
    from cormorant_lab.so3 import SO3Vec, cg_product, random_rotation, spherical_harmonics_all

    generator = torch.Generator().manual_seed(seed)
    positions = 4 * torch.rand(18, 3, generator=generator, dtype=torch.float64)
    rotation = random_rotation(generator=generator)

    def features(points: torch.Tensor) -> SO3Vec:
        bonds = points[:, None, :] - points[None, :, :]
        harmonics = spherical_harmonics_all(3, bonds, basis="real", normalize=False)
        first = SO3Vec([h.sum(1).unsqueeze(-2) for h in harmonics])  # sum_j r_ij^l Y_l(r_ij), one channel
        square = cg_product(first, first, 3)
        return cg_product(SO3Vec([p[:, -1:] for p in square]), first, 3)

    rotated_then_computed = features(positions @ rotation.T)
    computed_then_rotated = features(positions).rotate(rotation)
    worst = 0.0
    print("covariance of (F ⊗cg F) ⊗cg F on a random 18-atom cloud, float64:")
    for l, (a, b) in enumerate(zip(rotated_then_computed, computed_then_rotated)):
        error = float((a - b).norm() / b.norm())
        worst = max(worst, error)
        print(f"  l = {l}: relative error {error:.2e}")
    return worst


def _demo(args: argparse.Namespace) -> int:
    worst = _covariance_demo(args.seed)
    print(f"worst covariance error: {worst:.2e}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cormorant-lab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the main job: runs offline in a few minutes on a CPU")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
