"""Benchmarks of the SO(3) core: CG table preparation, and the CG product against e3nn in the same run.

    python benchmarks/bench_cg.py            # prints a table; ratios against e3nn are the figures that count

Workload (issue 2): the CG square F ⊗cg F of 32 molecules × 18 atoms, maxl = 3, 10 and 32 channels, float32,
forward + backward, 2 threads. e3nn's TensorProduct is given the same channel-wise ("uuu") paths, every
(l1, l2) → l with l <= 3, all irreps of even parity so that no path is dropped.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch


def prepare_cg_tables(max_l: int = 10) -> float:
    from cormorant_lab.so3 import _clebsch_gordan as cg

    for f in (cg._complex_block, cg._real_block, cg._complex_to_real_numpy):
        f.cache_clear()
    start = time.perf_counter()
    for l1 in range(max_l + 1):
        for l2 in range(max_l + 1):
            for l in range(abs(l1 - l2), min(l1 + l2, max_l) + 1):
                cg.clebsch_gordan_numpy(l1, l2, l, "real")
    return time.perf_counter() - start


def time_it(step, repeats: int = 20, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(channels: int, maxl: int = 3, atoms: int = 32 * 18):
    from cormorant_lab.so3 import SO3Vec, cg_product

    parts = [torch.randn(atoms, channels, 2 * l + 1, requires_grad=True) for l in range(maxl + 1)]

    def step():
        out = cg_product(SO3Vec(parts), SO3Vec(parts), maxl)
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
    torch.set_num_threads(2)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"prepare every real CG block up to L = 10 (cold cache): {prepare_cg_tables():.3f} s")
    print("CG square F ⊗cg F, 32 molecules × 18 atoms, maxl = 3, float32, forward + backward (median):")
    for channels in (10, 32):
        t_ours = time_it(ours(channels))
        try:
            t_e3nn = time_it(e3nn_step(channels))
        except ImportError:
            print(f"  {channels:2d} channels: cormorant_lab {1e3 * t_ours:7.2f} ms   (e3nn not installed)")
            continue
        print(f"  {channels:2d} channels: cormorant_lab {1e3 * t_ours:7.2f} ms   e3nn {1e3 * t_e3nn:7.2f} ms   speed-up ×{t_e3nn / t_ours:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
