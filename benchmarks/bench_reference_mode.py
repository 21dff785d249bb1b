"""Benchmark: CPU seconds per QM9 training step of the reference mode, against the reference implementation itself.

Setting (issue 11's): the qm9 model, 32 molecules × 18 atoms (``cormorant_lab.checks.random_molecules``), float32,
one thread, ``loss = model(x).square().sum(); loss.backward()``. Both models run in this process, a few steps
each after one warm-up step; the figure is process CPU time (``time.process_time``) per step and the ratio of
the two measured in the same run. The reference implementation (risilab/cormorant) is run from a copy outside
the repository (``git clone https://github.com/risilab/cormorant /tmp/cormorant_ref``); without it only our
side is measured.

It also measures the choice of number type behind the reference mode: the complex channel mixing and the
complex neighbour-summed CG product of a level with torch complex tensors (what the reference mode uses) and
with explicit real/imaginary pairs (four real products each), forward + backward.

Usage::

    python -W ignore benchmarks/bench_reference_mode.py [--reference /tmp/cormorant_ref/src] [--steps 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from cormorant_lab.checks import random_molecules
from cormorant_lab.nn import Cormorant
from cormorant_lab.nn.reference import reference_implementation_inputs, reference_implementation_model
from cormorant_lab.so3 import SO3Vec, cg_aggregate


def cpu_per_call(fn, steps: int) -> float:
    fn()  # warm-up
    start = time.process_time()
    for _ in range(steps):
        fn()
    return (time.process_time() - start) / steps


def step_ours(model, positions, charges):
    def step():
        model.zero_grad(set_to_none=True)
        model(positions, charges).square().sum().backward()

    return step


def step_reference(reference_src: str, positions, charges):
    species = [1, 6, 7, 8, 9]
    model = reference_implementation_model(
        "qm9", species, dtype=torch.float32, reference_src=reference_src, top="pmlp", input="mpnn"
    )
    data = reference_implementation_inputs(positions, charges, species, torch.float32)

    def step():
        model.zero_grad(set_to_none=True)
        model(data).square().sum().backward()

    return step, sum(p.numel() for p in model.parameters())


def number_types(batch: int, atoms: int, channels: int = 10, steps: int = 5) -> None:
    """Complex tensors against real/imaginary pairs for a level's mixing and aggregate (forward + backward)."""
    g = torch.Generator().manual_seed(0)
    shape = lambda *s: torch.randn(*s, generator=g)
    F = [
        torch.complex(
            shape(batch, atoms, channels, 2 * l + 1), shape(batch, atoms, channels, 2 * l + 1)
        ).requires_grad_()
        for l in range(4)
    ]
    G = [
        torch.complex(
            shape(batch, atoms, atoms, channels, 2 * l + 1), shape(batch, atoms, atoms, channels, 2 * l + 1)
        ).requires_grad_()
        for l in range(4)
    ]
    W = torch.complex(shape(channels, 72), shape(channels, 72)).requires_grad_()
    X = torch.complex(shape(batch, atoms, 72, 7), shape(batch, atoms, 72, 7)).requires_grad_()
    pairs = lambda zs: [
        (z.real.detach().clone().requires_grad_(), z.imag.detach().clone().requires_grad_()) for z in zs
    ]
    Fp, Gp, (Wp,), (Xp,) = pairs(F), pairs(G), pairs([W]), pairs([X])

    def aggregate_complex():
        out = cg_aggregate(SO3Vec(G, basis="complex"), SO3Vec(F, basis="complex"), 3)
        sum(p.abs().square().sum() for p in out.parts).backward()

    def aggregate_pairs():
        vec = lambda k, parts: SO3Vec(
            [p[k] for p in parts], basis="complex"
        )  # real tensors, the complex basis's real CG
        rr, ii = cg_aggregate(vec(0, Gp), vec(0, Fp), 3), cg_aggregate(vec(1, Gp), vec(1, Fp), 3)
        ri, ir = cg_aggregate(vec(0, Gp), vec(1, Fp), 3), cg_aggregate(vec(1, Gp), vec(0, Fp), 3)
        sum(
            (a - b).square().sum() + (c + d).square().sum()
            for a, b, c, d in zip(rr.parts, ii.parts, ri.parts, ir.parts, strict=False)
        ).backward()

    def mix_complex():
        (W @ X).abs().square().sum().backward()

    def mix_pairs():
        (wr, wi), (xr, xi) = Wp, Xp
        ((wr @ xr - wi @ xi).square().sum() + (wr @ xi + wi @ xr).square().sum()).backward()

    for name, complex_fn, pair_fn in (
        ("aggregate sum_j G_ij (x)cg F_j", aggregate_complex, aggregate_pairs),
        ("mixing W F", mix_complex, mix_pairs),
    ):
        a, b = cpu_per_call(complex_fn, steps), cpu_per_call(pair_fn, steps)
        print(
            f"  {name}: complex tensors {1e3 * a:.1f} ms, real/imaginary pairs {1e3 * b:.1f} ms CPU (pairs/complex = {b / a:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default=None, help="the reference's src/ folder, e.g. /tmp/cormorant_ref/src")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--atoms", type=int, default=18)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    positions, charges = random_molecules(
        args.batch, args.atoms, dtype=torch.float32, generator=torch.Generator().manual_seed(0)
    )
    ours = Cormorant.from_preset("qm9", reference=True)
    print(
        f"qm9 step, {args.batch} molecules x {args.atoms} atoms, float32, 1 thread, "
        f"CPU seconds per step (mean of {args.steps} after 1 warm-up):"
    )
    mine = cpu_per_call(step_ours(ours, positions, charges), args.steps)
    print(f"  reference mode ({sum(p.numel() for p in ours.parameters())} parameters): {mine:.3f} s")
    default = cpu_per_call(step_ours(Cormorant.from_preset("qm9"), positions, charges), args.steps)
    print(f"  default qm9 preset: {default:.3f} s")
    if args.reference:
        step, count = step_reference(args.reference, positions, charges)
        theirs = cpu_per_call(step, args.steps)
        print(
            f"  reference implementation ({count} parameters): {theirs:.3f} s -> reference mode is x{theirs / mine:.1f} less CPU"
        )
    print("number types (one level's pieces, 10 channels, l <= 3):")
    number_types(args.batch, args.atoms)


if __name__ == "__main__":
    main()
