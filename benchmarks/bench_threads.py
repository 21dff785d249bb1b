"""Benchmark: CPU thread settings for a training step, on an idle machine and beside a competing CPU load.

Why: Cormorant's tensors are small (a few channels × 2l+1 per atom), so an intra-op thread team spends much of
each step waiting for its other threads. On a machine whose cores are busy with something else (other users, a
data job, a second training run), OpenMP threads that spin-wait for a descheduled partner burn their time slice:
with torch's default of one thread per core a step took 3–16× longer here. The policy that
:func:`cormorant_lab.train.configure_threads` applies is measured here against the alternatives.

Each setting runs in a fresh process (``OMP_WAIT_POLICY`` is read when torch's OpenMP starts), trains the
chosen preset for ``--seconds`` after two warm-up steps, and reports steps/s and CPU seconds per step. "loaded"
runs the same beside ``--burners`` processes that spin on the CPU. The settings are run ``--repeats`` times,
interleaved, and the best and median rates reported; ratios are against the best of the first setting (1 thread,
idle) measured in the same run, so that they mean something on a noisy machine.

Usage::

    .venv/bin/python benchmarks/bench_threads.py [--seconds 8] [--repeats 2] [--preset qm9] [--forces] [--burners 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SETTINGS = [  # (label, threads, OMP_WAIT_POLICY or None for the library default)
    ("1 thread", 1, None),
    ("2 threads, default wait policy", 2, None),
    ("2 threads, OMP_WAIT_POLICY=ACTIVE", 2, "ACTIVE"),
    ("2 threads, OMP_WAIT_POLICY=PASSIVE", 2, "PASSIVE"),
]

_WORKER = r"""
import json, sys, time, resource
import torch
from cormorant_lab.checks import random_molecules
from cormorant_lab.nn import Cormorant
threads, preset, forces = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
seconds, batch, atoms = float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = Cormorant.from_preset(preset)
positions, charges = random_molecules(batch, atoms, species=model.species, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.Adam(model.parameters(), amsgrad=True)
def step():
    optimizer.zero_grad(set_to_none=True)
    if forces:
        energy, force = model.energy_and_forces(positions, charges, create_graph=True)
        loss = energy.square().mean() + force.square().mean()
    else:
        loss = model(positions, charges).square().mean()
    loss.backward()
    optimizer.step()
for _ in range(2):
    step()
steps, start, cpu = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - start < seconds or steps < 3:
    step(); steps += 1
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"steps": steps, "wall": wall, "cpu": cpu, "threads": torch.get_num_threads()}))
"""

_BURNER = "while True: pass"


def run_setting(threads: int, policy: str | None, args, loaded: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    burners = [subprocess.Popen([sys.executable, "-c", _BURNER]) for _ in range(args.burners if loaded else 0)]
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(threads),
                args.preset,
                "1" if args.forces else "0",
                str(args.seconds),
                str(args.batch),
                str(args.atoms),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=args.seconds * 20 + 120,
        )
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured training time per setting")
    parser.add_argument("--preset", default="qm9")
    parser.add_argument("--forces", action="store_true", help="train on energies and forces (the MD-17 step)")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--atoms", type=int, default=18)
    parser.add_argument("--burners", type=int, default=1, help="CPU-burning processes in the loaded runs")
    parser.add_argument("--repeats", type=int, default=2, help="rounds over all settings (best and median reported)")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs; {args.preset} preset, batch {args.batch} x {args.atoms} atoms"
        f"{', energies + forces' if args.forces else ''}; {args.seconds:.0f} s per setting; "
        f"load: {args.burners} CPU-burning process(es)"
    )
    started = time.process_time()
    runs: dict[tuple[bool, str], list[dict]] = {}
    for round_ in range(args.repeats):  # interleaved, so that a burst of outside load hits every setting alike
        for loaded in (False, True):
            for label, threads, policy in SETTINGS:
                load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
                result = run_setting(threads, policy, args, loaded)
                result["load"] = load
                runs.setdefault((loaded, label), []).append(result)
                print(
                    f"  round {round_ + 1}: {'loaded' if loaded else 'idle':6s}  {label:36s}  "
                    f"{result['steps'] / result['wall']:7.2f} steps/s  {result['cpu'] / result['steps']:6.3f} CPU s/step  "
                    f"(load average before: {load:.1f})",
                    flush=True,
                )
    baseline = None
    print(
        f"{'':6s}  {'setting':36s}  {'steps/s (best, median)':>24s}  {'CPU s/step (min)':>16s}  {'best vs 1 thread idle':>21s}"
        f"  load avg before"
    )
    for (loaded, label), results in runs.items():
        rates = sorted(r["steps"] / r["wall"] for r in results)
        best, median = rates[-1], statistics.median(rates)
        cpu = min(r["cpu"] / r["steps"] for r in results)
        baseline = baseline or best
        loads = ", ".join(f"{r['load']:.1f}" for r in results)
        print(
            f"  {'loaded' if loaded else 'idle':6s}  {label:36s}  {best:10.2f}, {median:10.2f}  {cpu:16.3f}  "
            f"{'x' + format(best / baseline, '.2f'):>21s}  {loads}",
            flush=True,
        )
    print(
        f"(this script's own CPU time: {time.process_time() - started:.1f} s; the workers' is in the table. "
        f"'idle' means no burner of ours: on a shared machine the load average says what else ran)"
    )


if __name__ == "__main__":
    main()
