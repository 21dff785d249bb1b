"""Benchmarks of the SO(3) core: CG table preparation, and the CG product against e3nn in the same run.

    python benchmarks/bench_cg.py [--threads 2] [--repeats 30]   # ratios against e3nn are the figures that count

Workload (issue 2): the CG square F ⊗cg F of 32 molecules × 18 atoms, maxl = 3, 10 and 32 channels, float32,
forward + backward, 2 threads. e3nn's TensorProduct is given the same channel-wise ("uuu") paths, every
(l1, l2) → l with l <= 3, all irreps of even parity so that no path is dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch


def prepare_cg_tables(max_l: int = 10) -> tuple[float, float]:
    """Wall and process-CPU seconds to compute every real-basis block (l1, l2, l <= max_l) from a cold cache."""
    from cormorant_lab.so3 import _clebsch_gordan as cg

    for f in (cg._complex_block, cg._real_block, cg._complex_to_real_numpy):
        f.cache_clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for l1 in range(max_l + 1):
        for l2 in range(max_l + 1):
            for l in range(abs(l1 - l2), min(l1 + l2, max_l) + 1):
                cg.clebsch_gordan_numpy(l1, l2, l, "real")
    return time.perf_counter() - wall, time.process_time() - cpu


def time_interleaved(steps: dict, repeats: int = 30, warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each step, the steps alternating so that a change of load hits all alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def ours(channels: int, maxl: int = 3, atoms: int = 32 * 18, *, distinct: bool = False):
    """``cg_product(F, F)`` (every block, as e3nn computes it) or ``cg_square(F)`` (the distinct half the network uses)."""
    from cormorant_lab.so3 import SO3Vec, cg_product, cg_square

    parts = [torch.randn(atoms, channels, 2 * l + 1, requires_grad=True) for l in range(maxl + 1)]

    def step():
        out = cg_square(SO3Vec(parts), maxl) if distinct else cg_product(SO3Vec(parts), SO3Vec(parts), maxl)
        torch.autograd.backward(list(out.parts), [torch.ones_like(p) for p in out.parts])

    return step


def e3nn_step(channels: int, maxl: int = 3, atoms: int = 32 * 18):
    from e3nn import o3

    irreps_in = o3.Irreps([(channels, (l, 1)) for l in range(maxl + 1)])
    irreps_out, instructions = [], []
    for i1 in range(maxl + 1):
        for i2 in range(maxl + 1):
            for l in range(abs(i1 - i2), min(i1 + i2, maxl) + 1):
                instructions.append((i1, i2, len(irreps_out), "uuu", False))
                irreps_out.append((channels, (l, 1)))
    tp = o3.TensorProduct(irreps_in, irreps_in, o3.Irreps(irreps_out), instructions)
    x = irreps_in.randn(atoms, -1, requires_grad=True)

    def step():
        out = tp(x, x)
        out.backward(torch.ones_like(out))

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    wall, cpu = prepare_cg_tables()
    print(f"prepare every real CG block up to L = 10 (cold cache): {wall:.3f} s wall, {cpu:.3f} s CPU")
    print("CG square F ⊗cg F, 32 molecules × 18 atoms, maxl = 3, float32, forward + backward (median, interleaved):")
    for channels in (10, 32):
        steps = {"ours": ours(channels), "distinct": ours(channels, distinct=True), "e3nn": e3nn_step(channels)}
        times = time_interleaved(steps, repeats=args.repeats)
        print(
            f"  {channels:2d} channels: cormorant_lab {1e3 * times['ours']:7.2f} ms   e3nn {1e3 * times['e3nn']:7.2f} ms"
            f"   speed-up ×{times['e3nn'] / times['ours']:.2f};   cg_square (distinct blocks only) {1e3 * times['distinct']:7.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
