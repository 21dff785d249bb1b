"""The reference implementation's memory: the floor, the RSS before its first step, and (``--step``) its peak.

``bench_model.py`` compares peak resident memory with the reference's (936 MiB qm9, 1,793 MiB md17 with forces).
Both totals include what a process holds before any step: the **floor** (python and torch imported, nothing
else: ~234 MiB with torch 2.13 CPU, already a quarter of 936 MiB) and then the package and its model. So three
figures are printed, each a high-water mark of this one process (``VmHWM``, else ``ru_maxrss``), in the order they are reached:

* ``floor_mib`` — right after ``import torch`` (before the reference is imported);
* ``baseline_mib`` — after importing the reference and building its model (``REFERENCE_BASELINE_MIB`` in
  ``bench_model.py``: 246 MiB), before any step;
* ``peak_mib`` (with ``--step``) — after ``--steps`` training steps (default 1) in the benchmark's setting (32 molecules × 18 atoms,
  float32, one thread; ``--forces``: the md17 model, energies and forces in the loss), so the step's own memory
  is ``peak - baseline``; and ``cpu_s``, the process CPU seconds of a step (the best after the first, which
  warms up). One qm9 step takes ~15 CPU s, an md17 energy+forces step ~46 (run it under
  ``flock /tmp/heavy.lock`` on a shared machine).

Needs the reference's source (risilab/cormorant) unpacked; it is imported from there, never copied.
``bench_model.py --reference-memory`` runs this script in a fresh process and reports the figures beside ours.

Usage: ``.venv/bin/python -W ignore benchmarks/reference_memory_baseline.py [--src /path/to/cormorant/src] [--step] [--forces] [--json]``
"""

import torch  # noqa: E402  (the floor is measured right after it)
from _peak_rss import peak_rss_mib

FLOOR_MIB = peak_rss_mib()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402


def reference_model_and_batch(forces: bool, src: str, batch: int, atoms: int) -> tuple:
    """The reference's qm9 (``forces``: md17) model, built from ``src``, and its inputs for the benchmark's batch."""
    sys.path.insert(0, src)
    from cormorant_lab.checks import random_molecules
    from cormorant_lab.nn.reference import reference_implementation_inputs, reference_implementation_model

    preset = "md17" if forces else "qm9"
    species = [1, 6, 7, 8, 9] if preset == "qm9" else [1, 6, 8]
    torch.manual_seed(0)
    model = reference_implementation_model(preset, species, dtype=torch.float32, reference_src=src)
    positions, charges = random_molecules(
        batch, atoms, species=species, dtype=torch.float32, generator=torch.Generator().manual_seed(0)
    )
    data = reference_implementation_inputs(positions, charges, species, torch.float32)
    if forces:
        data["positions"].requires_grad_(True)
    return model, data


def reference_step(model, data: dict, forces: bool) -> None:
    """One training step of the reference: ``E²`` summed (``forces``: plus ``|F|²``, its backward differentiated)."""
    model.zero_grad(set_to_none=True)
    if forces:
        energy = model(data)
        (grad,) = torch.autograd.grad(energy.sum(), data["positions"], create_graph=True)
        (energy.square().sum() + grad.square().sum()).backward()
    else:
        model(data).square().sum().backward()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default=None, help=argparse.SUPPRESS)  # the former positional form
    parser.add_argument("--src", dest="src_option", default="/tmp/cormorant_ref/src", help="the reference's src/")
    parser.add_argument("--step", action="store_true", help="also run one training step and report the peak")
    parser.add_argument("--forces", action="store_true", help="the md17 model, energies and forces in the loss")
    parser.add_argument("--steps", type=int, default=1, help="training steps to run with --step (default 1)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--atoms", type=int, default=18)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    src = args.src or args.src_option
    torch.set_num_threads(1)
    preset = "md17" if args.forces else "qm9"
    model, data = reference_model_and_batch(args.forces, src, args.batch, args.atoms)
    result = {"preset": preset, "forces": args.forces, "floor_mib": FLOOR_MIB, "baseline_mib": peak_rss_mib()}
    if args.step:
        cpu = []
        for _ in range(args.steps):
            start = time.process_time()
            reference_step(model, data, args.forces)
            cpu.append(time.process_time() - start)
        # the CPU seconds of a step: the best after the first (which warms up), or the one step run
        result.update(peak_mib=peak_rss_mib(), steps=args.steps, cpu_s=min(cpu[1:] or cpu))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"reference ({preset}): floor (python + torch) {result['floor_mib']:.0f} MiB; before the first step "
        f"(+ the package and its model) {result['baseline_mib']:.0f} MiB"
        + (
            f"; peak after {args.steps} step(s) {result['peak_mib']:.0f} MiB (the step alone: +"
            f"{result['peak_mib'] - result['baseline_mib']:.0f} MiB); {result['cpu_s']:.1f} CPU s per step"
            if "peak_mib" in result
            else ""
        )
    )


if __name__ == "__main__":
    main()
