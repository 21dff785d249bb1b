"""The all-rows-at-once forms of the CG square and of the separable aggregate against their row-by-row forms.

Cormorant's step is thousands of small operations. Two of its largest groups can each be done as one batched
computation for every row l1 instead of one per row: the CG square (``cormorant_lab.so3._cg_square``,
``ALL_ROWS_AT_ONCE``) and the neighbour-summed aggregate of the separable edges (``cormorant_lab.so3._cg_aggregate``,
``ALL_DEGREES_AT_ONCE``). Fewer operations are fewer kernel launches on a GPU; on a CPU the larger temporaries can
leave the cache. This script measures both effects for the four combinations, in one process, the combinations
alternated step by step (a shared machine's drift hits each alike):

* CPU seconds per step (``time.process_time``, one thread), median and best, and the ratio of the medians to the
  row-by-row forms measured in the same rounds;
* operations per step (the leaf non-view ATen operations of ``bench_model.count_kernels``, each one kernel launch
  on a GPU, and every non-view operation, composite ones too).

What the package does by default: the square all at once everywhere (as fast on a CPU, fewer operations); the
aggregate every degree at once on accelerators only (on a CPU it costs 16–25% per step).

Usage::

    .venv/bin/python benchmarks/bench_fused_forms.py [--preset qm9|md17] [--steps 10]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import count_kernels, make_step  # noqa: E402

from cormorant_lab.checks import random_molecules  # noqa: E402
from cormorant_lab.nn import Cormorant  # noqa: E402
from cormorant_lab.so3 import _cg_aggregate, _cg_square  # noqa: E402

COMBINATIONS = {  # name: (square all rows at once, aggregate every degree at once)
    "row by row": (False, False),
    "square at once": (True, False),
    "aggregate at once": (False, True),
    "both at once": (True, True),
}


@contextlib.contextmanager
def use(square: bool, aggregate: bool) -> Iterator[None]:
    """The square all rows at once or not, the aggregate every degree at once or not, inside the block."""
    saved = _cg_square.ALL_ROWS_AT_ONCE
    _cg_square.ALL_ROWS_AT_ONCE = square
    try:
        with _cg_aggregate.all_degrees_at_once("always" if aggregate else "never"):
            yield
    finally:
        _cg_square.ALL_ROWS_AT_ONCE = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="qm9", choices=["qm9", "md17"])
    parser.add_argument("--steps", type=int, default=10, help="timed steps of each combination")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--atoms", type=int, default=18)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Cormorant.from_preset(args.preset)
    positions, charges = random_molecules(
        args.batch, args.atoms, species=model.species, dtype=torch.float32, generator=torch.Generator().manual_seed(0)
    )
    forces = args.preset == "md17"
    step = make_step(model, positions, charges, forces)
    kernels = {}
    for name, combination in COMBINATIONS.items():
        with use(*combination):
            step()
            step()  # warm-up
            counted: dict = {}
            kernels[name] = (count_kernels(step, counted)[0], counted["all_nonview"])
    seconds: dict[str, list[float]] = {name: [] for name in COMBINATIONS}
    for _ in range(args.steps):
        for name, combination in COMBINATIONS.items():
            with use(*combination):
                start = time.process_time()
                step()
                seconds[name].append(time.process_time() - start)
    what = "energy+forces training step" if forces else "training step"
    print(
        f"{args.preset} {what}, {args.batch} molecules x {args.atoms} atoms, float32, 1 thread, {args.steps} steps each"
    )
    baseline = statistics.median(seconds["row by row"])
    for name in COMBINATIONS:
        median = statistics.median(seconds[name])
        leaf, every = kernels[name]
        print(
            f"  {name:18s} CPU s per step: median {median:.3f}, best {min(seconds[name]):.3f}, "
            f"x{median / baseline:.2f} of row by row; operations per step {leaf} (leaf), {every} (all non-view)"
        )


if __name__ == "__main__":
    main()
