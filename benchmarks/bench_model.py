"""Benchmark: one training step (forward + backward) of the QM9 preset, and the CG product alone at its shapes.

Setting (the issue's): 32 molecules × 18 atoms, float32, ``torch.set_num_threads(2)``, CPU. The reference
implementation (risilab/cormorant) measures 3.7 molecules/s (8.6 s per step) and ~950 MiB peak memory there.

How we measure:

* time — wall clock of ``loss = model(x).square().sum(); loss.backward()`` after warm-up steps; the median and
  the best of ``--steps`` steps are printed (the best is the least disturbed by other processes), with the
  process CPU time and the load average: on a shared machine two threads can wait for each other (try
  ``--threads 1``);
* memory — the process's peak resident set size (``resource.getrusage(...).ru_maxrss``), printed as the total
  and as the increase over the baseline measured just before the first step (interpreter, torch, model, data);
  run this script in a fresh process, since ``ru_maxrss`` is a high-water mark;
* activations kept for backward — the bytes autograd saves between the forward and the backward pass
  (``cormorant_lab.checks.saved_activation_bytes``): deterministic, unlike peak RSS, which also counts the
  allocator's fragmentation and moves by a few MiB from run to run;
* the CG products alone at the model's shapes (10 channels, l ≤ 3), forward + backward, best of ``--steps``:
  the general ``cg_product(F, F)`` and ``cg_aggregate(G, F)``, and the forms the network uses,
  ``cg_square(F)`` (the distinct half of F ⊗ F) and ``cg_aggregate_separable(g, Y, F)`` (G = g·Y never formed).

``--forces`` times the MD-17 step instead: energies and forces in the loss, so the backward pass is itself
differentiated; the model then keeps its activations rather than recompute them (``Cormorant.recompute_in_backward``).

Usage::

    .venv/bin/python benchmarks/bench_model.py [--steps 10] [--batch 32] [--atoms 18] [--preset qm9] [--forces]

To compare two versions on a noisy machine, alternate them in fresh processes, e.g. with a second checkout in
``../old``: ``for i in 1 2 3; do for d in ../old .; do PYTHONPATH=$d .venv/bin/python $d/benchmarks/bench_model.py; done; done``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import torch

from cormorant_lab.checks import random_molecules, saved_activation_bytes
from cormorant_lab.nn import Cormorant
from cormorant_lab.so3 import SO3Vec, cg_aggregate, cg_aggregate_separable, cg_product, cg_square, spherical_harmonics_all

REFERENCE = {"molecules_per_s": 3.7, "seconds_per_step": 8.6, "peak_mib": 950.0}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def time_steps(step, steps: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of each of ``steps`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def bench_model(preset: str, batch: int, atoms: int, steps: int, forces: bool = False) -> None:
    model = Cormorant.from_preset(preset)
    positions, charges = random_molecules(batch, atoms, species=model.species, dtype=torch.float32,
                                          generator=torch.Generator().manual_seed(0))

    def step():
        model.zero_grad(set_to_none=True)
        if forces:  # the MD-17 loss: energies and forces, the forces' graph kept and differentiated again
            energy, force = model.energy_and_forces(positions, charges, create_graph=True)
            (energy.square().sum() + force.square().sum()).backward()
        else:
            model(positions, charges).square().sum().backward()

    baseline = peak_rss_mib()
    times, cpu = time_steps(step, steps)
    peak = peak_rss_mib()
    best, median = min(times), statistics.median(times)
    print(f"model: {preset} preset{' trained on energies and forces' if forces else ''}, {sum(p.numel() for p in model.parameters())} parameters, "
          f"{batch} molecules x {atoms} atoms, float32, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    print(f"  step (forward+backward): median {1e3 * median:.1f} ms, best {1e3 * best:.1f} ms over {steps} steps "
          f"(process CPU time: median {1e3 * statistics.median(cpu):.1f} ms)")
    compare = not forces and preset == "qm9"  # the reference figures are for this step
    reference = f"; reference {REFERENCE['molecules_per_s']} -> x{batch / median / REFERENCE['molecules_per_s']:.0f} (median)" if compare else ""
    print(f"  throughput: {batch / median:.1f} molecules/s (median), {batch / best:.1f} (best){reference}")
    reference = f"; reference ~{REFERENCE['peak_mib']:.0f} MiB -> {peak / REFERENCE['peak_mib']:.3f} of it" if compare else ""
    print(f"  peak RSS: {peak:.0f} MiB total, +{peak - baseline:.0f} MiB over the pre-step baseline of {baseline:.0f} MiB{reference}")
    if not forces:
        saved = saved_activation_bytes(lambda: model(positions, charges).square().sum(), ignore=model.parameters())
        print(f"  activations kept for backward: {saved / 2**20:.1f} MiB ({saved / batch / 2**20:.2f} MiB per molecule)")


def bench_cg(batch: int, atoms: int, steps: int, channels: int = 10, maxl: int = 3) -> None:
    generator = torch.Generator().manual_seed(0)

    def vec(*shape):
        return SO3Vec([torch.randn(*shape, channels, 2 * l + 1, generator=generator).requires_grad_() for l in range(maxl + 1)])

    atoms_vec, edges_vec = vec(batch, atoms), vec(batch, atoms, atoms)
    scalars = [torch.randn(batch, channels, atoms, atoms, generator=generator).requires_grad_() for _ in range(maxl + 1)]
    harmonics = spherical_harmonics_all(maxl, torch.randn(batch, atoms, atoms, 3, generator=generator))

    def backward(out: SO3Vec):
        sum(part.sum() for part in out.parts).backward()

    timings = {
        "cg_product(F, F)": lambda: backward(cg_product(atoms_vec, atoms_vec, maxl)),
        "cg_square(F)": lambda: backward(cg_square(atoms_vec, maxl)),
        "cg_aggregate(G, F)": lambda: backward(cg_aggregate(edges_vec, atoms_vec, maxl)),
        "cg_aggregate_separable(g, Y, F)": lambda: backward(cg_aggregate_separable(scalars, harmonics, atoms_vec, maxl)),
    }
    print(f"CG alone ({batch}x{atoms} atoms, {channels} channels, l <= {maxl}, forward+backward, best of {steps}):")
    for name, run in timings.items():
        print(f"  {name:<33} {1e3 * min(time_steps(run, steps)[0]):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--atoms", type=int, default=18)
    parser.add_argument("--preset", default="qm9", choices=["qm9", "md17"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--forces", action="store_true", help="time the MD-17 step: energies and forces in the loss")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench_model(args.preset, args.batch, args.atoms, args.steps, args.forces)
    bench_cg(args.batch, args.atoms, args.steps)


if __name__ == "__main__":
    main()
