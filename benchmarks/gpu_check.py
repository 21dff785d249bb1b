"""The GPU check's measurements (``benchmarks/gpu_check.sh`` runs the test suite on CUDA, then this): JSON out.

* steps/s of a training step at batch 32, 128 and 512 (18 atoms, float32) for both presets — qm9 the energy
  step, md17 the energy+forces step — eager and compiled (``torch.compile(fullgraph=True)``; md17 compiled:
  the energy+forces *evaluation*, since compiled graphs cannot be differentiated twice), with the peak device
  memory of each (``torch.cuda.max_memory_allocated``);
* one QM9 epoch at the paper's settings: the qm9 preset, AMSGrad, batch 25, 100,000 training molecules of 9 to
  29 atoms (QM9's sizes; random geometries of the same sizes, since this machine may have no network), the
  whole epoch's data on the device (batches are index selections on the device: no host transfer per step);
  ``--epoch-steps`` caps the steps timed and the epoch's time is extrapolated from them (stated in the JSON).

* the kernels one eager training step launches at batch 32, both presets (``kernels_per_step``): on CUDA the
  device kernels the profiler records (memory copies and sets apart), the count issue 15 is about; on a CPU the
  leaf non-view ATen operations that ``bench_model.py`` reports;
* the two forms of the separable aggregate at batch 32, eager (``aggregate_forms``): every degree l1 at once
  (the default off a CPU: fewer kernel launches) and degree by degree (the CPU's default), steps/s of each, so
  that a GPU run confirms or corrects the choice (``cormorant_lab.so3._cg_aggregate.ALL_DEGREES_AT_ONCE``).

``--small`` shrinks everything (a tiny model, batches of 2 and 4, a few steps, ``aot_eager`` compilation) so the
CPU path runs in CI in seconds (``tests/test_gpu_check.py``) and cannot rot.

Usage: ``python benchmarks/gpu_check.py --device cuda --output gpu_check.json [--small]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import count_kernels, make_step  # noqa: E402

from cormorant_lab.checks import random_molecules  # noqa: E402
from cormorant_lab.nn import Cormorant  # noqa: E402

TINY = dict(num_cg_levels=1, maxl=1, max_sh=1, num_channels=2, mlp_width=8, num_mixed=4)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_mib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def build(preset: str, device: torch.device, small: bool) -> Cormorant:
    torch.manual_seed(0)
    model = Cormorant.from_preset(preset, device=device, **(TINY if small else {}))
    model.validate_inputs = False  # a host synchronisation per forward; the data here is valid by construction
    return model


def steps_per_second(model: Cormorant, positions, charges, forces: bool, train_forces: bool, steps: int) -> float:
    step = make_step(model, positions, charges, forces, train_forces)  # bench_model's step: the same losses
    for _ in range(2):  # warm-up (and compilation)
        step()
    synchronize(positions.device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(positions.device)
    return steps / (time.perf_counter() - start)


def throughput(
    device: torch.device,
    batches: list[int],
    steps: int,
    small: bool,
    backend: str,
    deadline: float,
    rows: list[dict],
    save,
) -> list[dict]:
    """Eager figures first, then compiled ones (each compilation takes minutes): those that would start after
    ``deadline`` (a ``time.perf_counter`` value) are recorded as skipped, so the check keeps to its time.
    Appends to ``rows`` and calls ``save()`` after each, so a check stopped by its timeout keeps what it measured."""
    for is_compiled in (False, True):
        for preset in ("qm9", "md17"):
            forces = preset == "md17"
            model = build(preset, device, small)
            if is_compiled:
                model.compile(fullgraph=True, backend=backend)  # one model per preset: recompiled for new shapes only
            for batch in batches:
                if time.perf_counter() > deadline:
                    rows.append({"preset": preset, "batch": batch, "compiled": is_compiled, "skipped": "time budget"})
                    print(
                        f"  {preset:5} batch {batch:4} {'compiled' if is_compiled else 'eager   '} skipped (time budget)",
                        flush=True,
                    )
                    save()
                    continue
                positions, charges = random_molecules(
                    batch,
                    18,
                    species=model.species,
                    dtype=torch.float32,
                    device=device,
                    generator=torch.Generator().manual_seed(batch),
                )
                reset_peak(device)
                rate = steps_per_second(model, positions, charges, forces, train_forces=not is_compiled, steps=steps)
                what = (
                    ("energy+forces evaluation" if is_compiled else "energy+forces training step")
                    if forces
                    else "energy training step"
                )
                rows.append(
                    {
                        "preset": preset,
                        "batch": batch,
                        "compiled": is_compiled,
                        "what": what,
                        "steps_per_s": rate,
                        "molecules_per_s": rate * batch,
                        "peak_mib": peak_mib(device),
                    }
                )
                print(
                    f"  {preset:5} batch {batch:4} {'compiled' if is_compiled else 'eager   '} {what:28} {rate:8.2f} steps/s"
                    + (f", peak {rows[-1]['peak_mib']:.0f} MiB" if rows[-1]["peak_mib"] is not None else ""),
                    flush=True,
                )
                save()
    return rows


def both_presets(device: torch.device, batch: int, small: bool):
    """``(preset, model, positions, charges)`` for qm9 and md17: a batch of ``batch`` molecules of 18 atoms."""
    for preset in ("qm9", "md17"):
        model = build(preset, device, small)
        positions, charges = random_molecules(
            batch, 18, species=model.species, dtype=torch.float32, device=device,
            generator=torch.Generator().manual_seed(batch),
        )  # fmt: skip
        yield preset, model, positions, charges


def aggregate_forms(device: torch.device, batch: int, steps: int, small: bool) -> list[dict]:
    """Steps/s (eager) with the separable aggregate every degree at once and degree by degree, both presets."""
    from cormorant_lab.so3 import _cg_aggregate

    rows = []
    for preset, model, positions, charges in both_presets(device, batch, small):
        for all_degrees in (True, False):
            with _cg_aggregate.all_degrees_at_once("always" if all_degrees else "never"):
                rate = steps_per_second(model, positions, charges, preset == "md17", True, steps)
            rows.append({"preset": preset, "batch": batch, "all_degrees_at_once": all_degrees, "steps_per_s": rate})
            form = "every degree at once" if all_degrees else "degree by degree"
            print(f"  {preset:5} batch {batch:4} aggregate {form:21} {rate:8.2f} steps/s", flush=True)
    return rows


def qm9_epoch(device: torch.device, molecules: int, max_steps: int, small: bool, seconds: float = 90.0) -> dict:
    """One epoch of the paper's QM9 recipe on device-resident data of QM9's sizes; timed over ``max_steps`` steps
    or ``seconds``, whichever comes first (then extrapolated to the epoch)."""
    batch_size, generator = 25, torch.Generator().manual_seed(0)
    model = build("qm9", device, small)
    positions, charges = random_molecules(
        molecules, 29, min_atoms=9, species=model.species, dtype=torch.float32, device=device, generator=generator
    )
    targets = torch.randn(molecules, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    order = torch.randperm(molecules, device=device)  # on the device: batches are index selections there
    steps_in_epoch = -(-molecules // batch_size)
    steps = min(steps_in_epoch, max_steps)
    sizes = (charges != 0).sum(-1)

    def step(k: int) -> None:
        index = order[k * batch_size : (k + 1) * batch_size]
        width = 29  # pad to the largest molecule (no host sync to find the batch's largest)
        loss = (model(positions[index, :width], charges[index, :width]) - targets[index]).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(0)
    synchronize(device)
    start = time.perf_counter()
    done = 0
    while done < steps:
        for _ in range(min(25, steps - done)):  # a sync every 25 steps only, to check the clock
            done += 1
            step(done % steps_in_epoch)
        synchronize(device)
        if time.perf_counter() - start > seconds:
            break
    per_step = (time.perf_counter() - start) / done
    steps = done
    return {
        "molecules": molecules,
        "batch_size": batch_size,
        "mean_atoms": float(sizes.float().mean()),
        "steps_timed": steps,
        "steps_per_epoch": steps_in_epoch,
        "seconds_per_step": per_step,
        "epoch_seconds": per_step * steps_in_epoch,
        "extrapolated": steps < steps_in_epoch,
    }


def kernels_per_step(device: torch.device, batch: int, small: bool) -> list[dict]:
    """What one eager training step launches, both presets (qm9 energies; md17 energies and forces).

    On CUDA: the device kernels that ``torch.profiler`` records (its CUDA activity), memory copies and sets
    counted apart. Elsewhere: the leaf non-view ATen operations (``bench_model.count_kernels``, the count the
    README gives, made on a CPU). A failure is written into the row, not raised: the rest of the check still runs.
    """
    rows = []
    for preset, model, positions, charges in both_presets(device, batch, small):
        step = make_step(model, positions, charges, preset == "md17", train_forces=True)
        row: dict = {"preset": preset, "batch": batch}
        try:
            row.update(_count_launches(step, device))
        except Exception as error:  # noqa: BLE001 - recorded for the person reading the JSON
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
        print(f"  {preset:5} batch {batch:4} kernels per step: {row.get('kernels', row.get('error'))}", flush=True)
    return rows


def _count_launches(step, device: torch.device) -> dict:
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    for _ in range(2):  # warm-up: lazy initialisation is not a step's work
        step()
    synchronize(device)
    if device.type != "cuda":
        return {"counted": "leaf non-view ATen operations", "kernels": count_kernels(step)[0]}
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        step()
        synchronize(device)
    kernels = memory = 0
    for event in prof.events():
        if event.device_type == DeviceType.CUDA:
            if "memcpy" in event.name.lower() or "memset" in event.name.lower():
                memory += 1
            else:
                kernels += 1
    return {"counted": "CUDA kernels (torch.profiler)", "kernels": kernels, "memory_operations": memory}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--output", default="gpu_check.json")
    parser.add_argument("--small", action="store_true", help="tiny sizes: the CPU path in CI")
    parser.add_argument(
        "--epoch-steps",
        type=int,
        default=None,
        help="steps of the QM9 epoch to time (default: all 4000, at most ~90 s)",
    )
    parser.add_argument(
        "--budget", type=float, default=330.0, help="seconds for everything; later measurements are skipped"
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False  # the figures are for the float32 the tests check
    batches, steps = ([2, 4], 2) if args.small else ([32, 128, 512], 10)
    backend = "aot_eager" if args.small else "inductor"
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "small": args.small,
        "compile_backend": backend,
    }
    print(f"gpu_check on {result['device']} (torch {torch.__version__}){' [small]' if args.small else ''}", flush=True)
    started = time.perf_counter()
    # the QM9 epoch (eager, at most ~90 s) is measured first; then the throughput table, within --budget seconds
    molecules = 100 if args.small else 100_000
    result["qm9_epoch"] = qm9_epoch(device, molecules, args.epoch_steps or (3 if args.small else 4000), args.small)
    epoch = result["qm9_epoch"]
    print(
        f"  QM9 epoch (batch 25, {molecules} molecules): {epoch['epoch_seconds']:.1f} s"
        + (f" (extrapolated from {epoch['steps_timed']} steps)" if epoch["extrapolated"] else ""),
        flush=True,
    )
    result["throughput"] = []

    def save() -> None:
        with open(args.output, "w") as handle:
            json.dump(result, handle, indent=2)

    save()
    result["kernels_per_step"] = kernels_per_step(device, 32 if not args.small else batches[0], args.small)
    save()
    result["aggregate_forms"] = aggregate_forms(device, batches[0], steps, args.small)
    save()
    throughput(device, batches, steps, args.small, backend, started + args.budget, result["throughput"], save)
    return result


if __name__ == "__main__":
    main()
