"""Benchmark: one training step of the QM9 preset (or the MD-17 energy+forces step): CPU time, memory, kernels.

Setting (the issue's): 32 molecules × 18 atoms, float32, one thread (``--threads``), CPU. The reference
implementation (risilab/cormorant), measured in that setting with one thread, takes **15.1 CPU s** per qm9 step
and **45.8 CPU s** per md17 energy+forces step, with peak memory **936 MiB** and **1,793 MiB**; every ratio
printed here is against those figures (``REFERENCE``).

How we measure:

* CPU time — process CPU seconds (``time.process_time``) of each step after warm-up steps; the median and the
  best of ``--steps`` are printed, with the wall time and the load average. CPU seconds, not wall time, are the
  figure that counts on a shared machine (a busy machine stretches wall time, not the work done);
* memory — the process's peak resident set size (``VmHWM``, else ``ru_maxrss``), as the total and as the increase over the
  baseline measured just before the first step (after the imports, the model and the batch), and the floor:
  the peak right after ``import torch`` (python and torch alone, ~220–234 MiB: a quarter of the reference's
  936 MiB before either model exists). Run this script in a fresh process (``ru_maxrss`` is a high-water mark;
  ``--scaling`` starts one process per size for that reason). ``--reference-memory`` also runs one step of the
  reference implementation in a fresh process (``reference_memory_baseline.py --step --steps 2``: ~30 CPU s for
  qm9, ~90 for md17 with forces) and prints its three figures beside ours, so that the ratios of the totals, of
  the steps alone (peak − pre-step baseline) and over the floor come from one run, and its CPU seconds per step
  (the second step), so that the CPU ratio is also like for like on a machine slower or busier than the one the
  15.1 / 45.8 were measured on;
* kernels — the non-view ATen operations of one step, counted with ``torch.profiler``: the operations
  that call no other non-view ATen operation (each is one kernel launch on a GPU), leaving out views,
  allocations and metadata operations (``VIEW_OPS``). ``--compile`` counts the operations that remain outside inductor's
  fused kernels, plus those kernels (as the profiler names them). The count of every non-view ATen operation,
  composite ones included (``matmul`` and the ``bmm`` it calls count twice), is printed too: the rule of the
  issue's baseline (4,735 per qm9 step then; 4,283 when today's script counts that commit's step). Both counts are
  also given for the path an accelerator takes (``accelerator_kernels``: the separable aggregate every degree at
  once, which the CPU path leaves off because on a CPU it is slower; ``bench_fused_forms.py``);
* ``--recompute``: ``model.recompute_in_backward = True``, the levels recompute their brackets and edge inputs in
  the backward pass instead of keeping them (less memory, ~40% more CPU per qm9 step); the default keeps them
  (``--no-recompute``, ``False``, is the same as the default);
* activations kept for backward (qm9 step) — ``cormorant_lab.checks.saved_activation_bytes``: deterministic;
* ``--compile``: the model compiled with ``torch.compile(fullgraph=True)`` (``model.compile``); the compile
  time is reported separately and the eager step is timed in the same run, so the ratio is like for like.
  Training on forces differentiates the backward pass, which inductor's compiled graphs do not support
  (PyTorch: "aot_autograd does not currently support double backward"): with ``--forces --compile`` the
  energy+forces *evaluation* (``create_graph=False``, as in MD) is timed instead, eager and compiled.
* ``--interleaved [SRC]``: our step and the reference implementation's, alternated in this one process
  (``--rounds``, default 3: ``--steps`` of ours, one of the reference's, ``--steps`` of ours), each round's CPU
  ratio printed: on a shared host whose speed drifts from minute to minute (the reference's qm9 step took 15.1
  CPU s when it was first measured, 16–24 on a busier day) the like-for-like ratio, not the constant, is the figure;
* ``--scaling 100 200 400``: the md17 forces step for one molecule of N atoms (float32, one thread), one fresh
  process per N, and the exponent of a power law fitted to the CPU time (and to the peak memory) over the sizes;
  ``--tune-malloc`` runs them with glibc keeping freed memory (``MALLOC_TUNING``): a temporary above glibc's
  32 MiB mmap threshold faults its pages in afresh at every step (system time). The separable aggregate keeps
  its temporaries at most 8 MiB (``cormorant_lab.so3._cg_aggregate.TEMPORARY_BYTES``), so the tuning now gains
  little (~9% at 400 atoms; before, ~30%).

Usage::

    .venv/bin/python benchmarks/bench_model.py [--steps 5] [--batch 32] [--atoms 18] [--preset qm9] [--forces] [--compile] [--json]
    .venv/bin/python benchmarks/bench_model.py [--preset md17 --forces] --reference-memory [/tmp/cormorant_ref/src] [--recompute]
    .venv/bin/python benchmarks/bench_model.py --scaling 100 200 400
    .venv/bin/python -W ignore benchmarks/bench_model.py [--preset md17 --forces] --interleaved [/tmp/cormorant_ref/src] --steps 10
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter

import torch  # noqa: E402  (the floor is measured right after it)
from _peak_rss import peak_rss_mib  # noqa: E402

FLOOR_MIB = peak_rss_mib()  # python + torch alone: what any torch program holds before it does anything

from cormorant_lab.checks import random_molecules, saved_activation_bytes  # noqa: E402
from cormorant_lab.nn import Cormorant  # noqa: E402

# The reference implementation, 32 molecules x 18 atoms, float32, one thread: CPU seconds per step, peak MiB.
REFERENCE = {
    "qm9": {"cpu_s": 15.1, "peak_mib": 936.0},
    "md17_forces": {"cpu_s": 45.8, "peak_mib": 1793.0},
}
# The reference's peak RSS before its first step (benchmarks/reference_memory_baseline.py): its step's own memory
# is the peak minus this; and its floor, python + torch alone (the same interpreter and torch as ours).
# Kernels per step at issue 15's commit, counted by this script (leaf rule, every non-view operation), and the figure
# the issue's text gives (every non-view operation, counted then): 32 molecules x 18 atoms.
ISSUE_15_KERNELS = {"qm9": (2661, 4283, 4735), "md17_forces": (5748, 7984, 7928)}
REFERENCE_BASELINE_MIB = 246.0
REFERENCE_FLOOR_MIB = 220.0
# Operations that make no kernel: views, aliases and metadata.
VIEW_OPS = frozenset(
    "aten::" + name
    for name in (
        "view as_strided reshape _reshape_alias _unsafe_view transpose t permute expand expand_as unsqueeze squeeze "
        "slice select narrow split split_with_sizes chunk unbind unflatten flatten movedim alias detach view_as "
        "lift_fresh numpy_T empty empty_like empty_strided new_empty new_empty_strided resolve_conj resolve_neg "
        "result_type is_nonzero item _local_scalar_dense size stride contiguous to _to_copy_noop"
    ).split()
)


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


def count_kernels(step, counted: dict | None = None) -> tuple[int, Counter]:
    """The leaf non-view ATen operations (and inductor kernels) of one call of ``step``, and a count by name.

    ``counted``, if given, also receives ``"all_nonview"``: every non-view ATen operation, the composite ones
    (``matmul``, ``linear``, ...) together with the operations they call (the other rule in use; issue 15's
    baseline of 4,735 per qm9 step was counted so).
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = prof.events()
    counts: Counter = Counter()
    all_nonview = 0
    for event in events:
        name = event.name
        if name.startswith("aten::"):
            if name in VIEW_OPS:
                continue
            all_nonview += 1
            if any(child.name.startswith("aten::") and child.name not in VIEW_OPS for child in event.cpu_children):
                continue
            counts[name] += 1
        elif name.startswith(("cpp_fused", "triton_", "graph_")) and "kernel" not in name:
            counts["inductor:" + name.split("_")[0]] += 1
    if counted is not None:
        counted["all_nonview"] = all_nonview
    return sum(counts.values()), counts


def accelerator_kernels(step) -> tuple[int, int]:
    """``count_kernels`` of the path an accelerator takes: the separable aggregate every degree at once.

    On a CPU that form is slower (its temporaries leave the cache; ``bench_fused_forms.py``) and is off; off a CPU
    it is on. The operations are the same on either device, so they are counted here, on the CPU.
    """
    from cormorant_lab.so3 import _cg_aggregate

    with _cg_aggregate.all_degrees_at_once("always"):
        step()  # warm-up of the other path
        counted: dict = {}
        leaf, _ = count_kernels(step, counted)
    return leaf, counted["all_nonview"]


def make_step(
    model: Cormorant, positions: torch.Tensor, charges: torch.Tensor, forces: bool, train_forces: bool = True
):
    def step():
        model.zero_grad(set_to_none=True)
        if (
            forces and train_forces
        ):  # the MD-17 loss: energies and forces, the forces' graph kept and differentiated again
            energy, force = model.energy_and_forces(positions, charges, create_graph=True)
            (energy.square().sum() + force.square().sum()).backward()
        elif forces:  # evaluation (MD): energies and forces, no graph kept
            model.energy_and_forces(positions, charges, create_graph=False)
        else:
            model(positions, charges).square().sum().backward()

    return step


def bench_model(
    preset: str,
    batch: int,
    atoms: int,
    steps: int,
    forces: bool = False,
    compile: bool = False,
    kernels: bool = True,
    warmup: int = 2,
    recompute: bool | None = None,
) -> dict:
    torch.manual_seed(0)
    model = Cormorant.from_preset(preset)
    model.recompute_in_backward = recompute  # None: the model's default (keep the activations)
    positions, charges = random_molecules(
        batch, atoms, species=model.species, dtype=torch.float32, generator=torch.Generator().manual_seed(0)
    )
    result = {
        "preset": preset,
        "forces": forces,
        "batch": batch,
        "atoms": atoms,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "recompute_in_backward": recompute,
    }
    baseline = peak_rss_mib()
    step = make_step(model, positions, charges, forces, train_forces=not compile)
    wall, cpu = time_steps(step, steps, warmup)
    result.update(cpu_s=statistics.median(cpu), cpu_best_s=min(cpu), wall_s=statistics.median(wall))
    result.update(peak_mib=peak_rss_mib(), baseline_mib=baseline, floor_mib=FLOOR_MIB)
    if kernels:
        counted: dict = {}
        result["kernels"], by_name = count_kernels(step, counted)
        result["top_kernels"] = dict(by_name.most_common(8))
        result["kernels_all_nonview"] = counted["all_nonview"]
        result["kernels_accelerator"] = accelerator_kernels(step)
    if compile:
        model.validate_inputs = False  # a host synchronisation per forward; the inputs are checked above
        import torch._inductor.config as inductor_config

        inductor_config.cpp.enable_kernel_profile = True  # the profiler then sees inductor's fused CPU kernels
        model.compile(fullgraph=True)
        start = time.process_time()
        step()
        result["compile_cpu_s"] = time.process_time() - start
        wall, cpu = time_steps(step, steps, warmup=1)
        result.update(compiled_cpu_s=statistics.median(cpu), compiled_wall_s=statistics.median(wall))
        if kernels:
            result["compiled_kernels"], _ = count_kernels(step)
    if not forces:
        saved = saved_activation_bytes(lambda: model(positions, charges).square().sum(), ignore=model.parameters())
        result["saved_mib"] = saved / 2**20
    return result


def report(result: dict) -> None:
    forces, compile = result["forces"], "compiled_cpu_s" in result
    what = (
        "energy+forces " + ("evaluation" if compile else "training step")
        if forces
        else "training step (forward+backward)"
    )
    print(
        f"model: {result['preset']} preset, {what}, {result['parameters']} parameters, {result['batch']} molecules x "
        f"{result['atoms']} atoms, float32, {result['threads']} thread(s), load average {os.getloadavg()[0]:.1f}"
        + (
            f", recompute_in_backward={result['recompute_in_backward']}"
            if result.get("recompute_in_backward") is not None
            else ""
        )
    )
    reference = (
        REFERENCE.get("md17_forces" if forces else "qm9") if (result["batch"], result["atoms"]) == (32, 18) else None
    )
    if forces and compile:
        reference = None  # the reference's figure is for the training step
    ratio = (
        f"; reference {reference['cpu_s']} CPU s -> x{reference['cpu_s'] / result['cpu_s']:.0f} less CPU"
        if reference
        else ""
    )
    measured = result.get("reference_memory")
    if measured and "cpu_s" in measured and not compile:  # the reference's step timed in this run: like for like
        ratio += (
            f"; reference measured in this run {measured['cpu_s']:.1f} CPU s -> "
            f"x{measured['cpu_s'] / result['cpu_s']:.0f} less CPU"
        )
    print(
        f"  CPU per step: median {result['cpu_s']:.3f} s, best {result['cpu_best_s']:.3f} s (wall: median {result['wall_s']:.3f} s){ratio}"
    )
    print(memory_report(result, measured if measured and not compile else reference))
    if "kernels" in result:
        print(
            f"  kernels per step on this CPU's path (leaf non-view ATen operations): {result['kernels']} (all non-view "
            f"ATen operations, composite ones too: {result.get('kernels_all_nonview', '-')}); most frequent "
            f"{result['top_kernels']}"
        )
        if "kernels_accelerator" in result:
            leaf, every = result["kernels_accelerator"]
            base = ISSUE_15_KERNELS.get("md17_forces" if forces else "qm9")
            versus = (
                f"; x{base[0] / leaf:.2f} / x{base[1] / every:.2f} fewer than at issue 15's commit "
                f"({base[0]:,} / {base[1]:,}; the issue's text: {base[2]:,}, x{base[2] / every:.2f})"
                if base and (result["batch"], result["atoms"]) == (32, 18) and not compile
                else ""
            )
            print(
                f"  kernels per step on an accelerator's path (the forms a GPU takes; counted here): {leaf} "
                f"({every} all non-view){versus}"
            )
    if "saved_mib" in result:
        print(
            f"  activations kept for backward: {result['saved_mib']:.1f} MiB ({result['saved_mib'] / result['batch']:.2f} MiB per molecule)"
        )
    if compile:
        print(
            f"  compiled (torch.compile fullgraph=True): compile {result['compile_cpu_s']:.0f} CPU s once, then "
            f"{result['compiled_cpu_s']:.3f} CPU s per step (eager / compiled = x{result['cpu_s'] / result['compiled_cpu_s']:.2f}), "
            f"wall {result['compiled_wall_s']:.3f} s"
            + (f", kernels {result['compiled_kernels']}" if "compiled_kernels" in result else "")
        )


def memory_report(result: dict, reference: dict | None) -> str:
    """Peak RSS as the total, over the pre-step baseline (the step alone) and over the floor, with the reference's.

    ``reference``: its ``peak_mib``, and its ``baseline_mib`` and ``floor_mib`` when measured in this run
    (``--reference-memory``); else the constants measured with ``reference_memory_baseline.py``.
    """
    peak, baseline, floor = result["peak_mib"], result["baseline_mib"], result.get("floor_mib", FLOOR_MIB)
    text = (
        f"  peak RSS: {peak:.0f} MiB total, +{peak - baseline:.0f} MiB over the pre-step baseline of "
        f"{baseline:.0f} MiB (the step alone), +{peak - floor:.0f} MiB over the floor (python + torch alone: "
        f"{floor:.0f} MiB)"
    )
    if reference:
        ref_peak = reference["peak_mib"]
        ref_baseline = reference.get("baseline_mib", REFERENCE_BASELINE_MIB)
        ref_floor = reference.get("floor_mib", REFERENCE_FLOOR_MIB)
        measured = "measured in this run" if "floor_mib" in reference else "reference_memory_baseline.py"
        text += (
            f"\n  reference ({measured}): {ref_peak:.0f} MiB total, +{ref_peak - ref_baseline:.0f} over its pre-step "
            f"baseline of {ref_baseline:.0f}, +{ref_peak - ref_floor:.0f} over its floor of {ref_floor:.0f} MiB"
            f"\n  ours / reference: total {peak / ref_peak:.3f}, the step alone "
            f"{(peak - baseline) / (ref_peak - ref_baseline):.3f}, over the floor {(peak - floor) / (ref_peak - ref_floor):.3f}"
        )
    return text


def reference_memory(forces: bool, src: str, batch: int, atoms: int, steps: int = 2) -> dict:
    """``steps`` steps of the reference implementation in a fresh process: floor, pre-step baseline, peak (MiB).

    Its peak grows over the first steps (qm9: 804 MiB after one, 851 after two, measured with this script), as
    ours does over its warm-up steps; two steps take ~30 CPU s (qm9), ~90 (md17 with forces).
    """
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_memory_baseline.py")
    command = [sys.executable, "-W", "ignore", script, "--src", src, "--step", "--steps", str(steps), "--json"]
    command += ["--batch", str(batch), "--atoms", str(atoms)] + (["--forces"] if forces else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])  # the reference prints lines of its own first


def interleaved(
    preset: str, forces: bool, src: str, batch: int, atoms: int, steps: int, rounds: int, recompute: bool | None
) -> list[dict]:
    """Our step and the reference's, alternated in this one process: the CPU ratio least exposed to a noisy host.

    Each round times ``steps`` of our steps, one of the reference's, then ``steps`` of ours again (after one
    warm-up step of each), so that both see the same state of a shared machine; one reference step takes ~15-25
    CPU s (qm9), ~45-70 (md17 with forces). Returns one row per round: our median and best, the reference's step.
    """
    from reference_memory_baseline import reference_model_and_batch, reference_step

    torch.manual_seed(0)
    model = Cormorant.from_preset(preset)
    model.recompute_in_backward = recompute
    positions, charges = random_molecules(
        batch, atoms, species=model.species, dtype=torch.float32, generator=torch.Generator().manual_seed(0)
    )
    ours = make_step(model, positions, charges, forces)
    reference_model, data = reference_model_and_batch(forces, src, batch, atoms)
    theirs = functools.partial(reference_step, reference_model, data, forces)
    ours(), theirs()
    rows = []
    for _ in range(rounds):
        _, before = time_steps(ours, steps, warmup=0)
        _, (reference_cpu,) = time_steps(theirs, 1, warmup=0)
        _, after = time_steps(ours, steps, warmup=0)
        row = {"cpu_s": statistics.median(before + after), "cpu_best_s": min(before + after)}
        rows.append({**row, "reference_cpu_s": reference_cpu})
        print(
            f"  round {len(rows)}: ours median {row['cpu_s']:.3f} best {row['cpu_best_s']:.3f} CPU s; the reference "
            f"{reference_cpu:.1f} CPU s -> x{reference_cpu / row['cpu_s']:.0f} (median), "
            f"x{reference_cpu / row['cpu_best_s']:.0f} (best)",
            flush=True,
        )
    return rows


def fit_exponent(sizes: list[float], values: list[float]) -> float:
    """Least-squares slope of log(value) against log(size)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(v) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False)) / sum((x - mx) ** 2 for x in xs)


# glibc returns every freed block above its mmap threshold (at most 32 MiB by default) to the kernel, and faults
# the pages in again on the next allocation: at 400 atoms that is half the CPU time of a step (system time). These
# settings keep freed memory in the heap (``--tune-malloc``; any program can set them in its environment).
MALLOC_TUNING = {
    "MALLOC_MMAP_THRESHOLD_": str(2**32),
    "MALLOC_TRIM_THRESHOLD_": str(2**36),
    "MALLOC_TOP_PAD_": str(2**30),
}


def scaling(sizes: list[int], steps: int, threads: int, warmup: int = 1, tune_malloc: bool = False) -> list[dict]:
    """The md17 forces step for one molecule of each size, each in a fresh process; prints the table."""
    rows = []
    env = {**os.environ, **(MALLOC_TUNING if tune_malloc else {})}
    for n in sizes:
        command = [
            sys.executable,
            __file__,
            "--preset",
            "md17",
            "--forces",
            "--batch",
            "1",
            "--atoms",
            str(n),
            "--steps",
            str(steps),
            "--warmup",
            str(warmup),
            "--threads",
            str(threads),
            "--json",
            "--no-kernels",
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
    print(
        f"md17 energy+forces training step, 1 molecule, float32, {threads} thread(s), median of {steps} steps"
        f"{' (glibc malloc tuned: ' + ' '.join(f'{k}={v}' for k, v in MALLOC_TUNING.items()) + ')' if tune_malloc else ''}:"
    )
    print(f"  {'N':>5} {'CPU s':>8} {'peak MiB':>9} {'+MiB':>7}")
    for row in rows:
        print(
            f"  {row['atoms']:>5} {row['cpu_s']:>8.3f} {row['peak_mib']:>9.0f} {row['peak_mib'] - row['baseline_mib']:>7.0f}"
        )
    if len(rows) > 1:
        cpu_exponent = fit_exponent(sizes, [r["cpu_s"] for r in rows])
        mem_exponent = fit_exponent(sizes, [max(r["peak_mib"] - r["baseline_mib"], 1.0) for r in rows])
        print(f"  fitted exponent: CPU time ~ N^{cpu_exponent:.2f}, peak memory over baseline ~ N^{mem_exponent:.2f}")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--atoms", type=int, default=18)
    parser.add_argument("--preset", default="qm9", choices=["qm9", "md17"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 2; 1 with --scaling)")
    parser.add_argument("--forces", action="store_true", help="the MD-17 step: energies and forces in the loss")
    parser.add_argument(
        "--compile", action="store_true", help="also time the step compiled with torch.compile(fullgraph=True)"
    )
    parser.add_argument("--no-kernels", dest="kernels", action="store_false", help="skip the profiler's kernel count")
    parser.add_argument(
        "--no-recompute",
        dest="recompute",
        action="store_const",
        const=False,
        default=None,
        help="model.recompute_in_backward = False: keep the levels' largest activations (the default)",
    )
    parser.add_argument(
        "--recompute",
        dest="recompute",
        action="store_const",
        const=True,
        help="model.recompute_in_backward = True: recompute the levels' largest activations (slower, less memory)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument(
        "--scaling", type=int, nargs="+", metavar="N", help="md17 forces step at batch 1 for these atom counts"
    )
    parser.add_argument(
        "--tune-malloc", action="store_true", help="--scaling with glibc keeping freed memory (MALLOC_TUNING)"
    )
    parser.add_argument(
        "--reference-memory",
        nargs="?",
        const="/tmp/cormorant_ref/src",
        metavar="SRC",
        help="also measure the reference's memory in a fresh process (its src/; default /tmp/cormorant_ref/src)",
    )
    parser.add_argument(
        "--interleaved",
        nargs="?",
        const="/tmp/cormorant_ref/src",
        metavar="SRC",
        help="time our step and the reference's alternately in this process (--rounds rounds; its src/)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --interleaved (default 3)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.interleaved:
        what = "md17 energy+forces" if args.forces else f"{args.preset}"
        print(f"{what} step, {args.batch} x {args.atoms} atoms, float32, {args.threads} thread(s), interleaved:")
        preset = "md17" if args.forces else args.preset
        interleaved(
            preset, args.forces, args.interleaved, args.batch, args.atoms, args.steps, args.rounds, args.recompute
        )
        return
    if args.scaling:
        scaling(args.scaling, args.steps, args.threads, 1 if args.warmup is None else args.warmup, args.tune_malloc)
        return
    result = bench_model(
        args.preset,
        args.batch,
        args.atoms,
        args.steps,
        args.forces,
        args.compile,
        args.kernels,
        2 if args.warmup is None else args.warmup,
        args.recompute,
    )
    if args.reference_memory:
        result["reference_memory"] = reference_memory(args.forces, args.reference_memory, args.batch, args.atoms)
    if args.json:
        print(json.dumps(result))
    else:
        report(result)


if __name__ == "__main__":
    main()
