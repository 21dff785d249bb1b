"""Benchmark: test MAE per epoch of the reference mode and the default md17 preset, on identical minibatches.

Setting (issue 11's): the bundled ethanol trajectory (``cormorant_lab/data/bundled/gfn2xtb_ethanol.npz``, GFN2-xTB, kcal/mol), 1,000
training frames and 1,000 test frames drawn at random (seed 0), energies only; the paper's recipe — AMSGrad,
learning rate 1e-3 → 1e-5 on a cosine per minibatch over the planned epochs, batch 25, MSE on standardized
energies. Both models see the same minibatches in the same order (one seeded shuffle per epoch). Printed: test
MAE (kcal/mol) after epochs 1, 2, 5 and 20 and the process CPU seconds spent training each model up to then;
predicting the training mean is the baseline. float32, one thread.

The default md17 preset is ``Cormorant.from_preset("md17")`` as shipped (since 2026-12-08 three levels of 16
channels, ``weight_multiplier=4`` and smoother radial functions; ``--overrides '{"input_gain": 2, "block_gain": [1,
0.2, 1], "normalization_scale": 1.5, "weight_multiplier": 2, "basis_set": [3, 3], "radial_frequency_scale": 1}'``
gives the preset of 2026-12-07, and adding ``"num_cg_levels": 4, "num_channels": 10, "level_gain": 3, "input_gain":
4, "block_gain": [1, 1, 1], "normalization_scale": 1, "weight_multiplier": 1`` the one before). Results, seven
seeds, and the ablations behind the preset: ``docs/differences.md``, "Accuracy per epoch".

Usage (about 1–1.5 CPU minutes per model of ours for 20 epochs on one core)::

    python benchmarks/learning_per_epoch.py [--epochs 20] [--models reference,default] [--seed 0]
    python benchmarks/learning_per_epoch.py --seeds 0,1,2,3,4   # each seed in turn, then the means and, cell by
                                                                # cell, where the default preset is behind

The reference implementation itself (model ``reference_impl``; about 2.9 CPU s per step, 18× the reference mode):
it is imported from a clone outside this repository (``--reference-src``; ``scripts/make_reference_fixture.py``
says how to fetch it) and starts from the reference mode's initial weights for the same seed. ``--save``/``--resume``
checkpoint it so that it can be trained a few epochs per call; with both ``reference`` and ``reference_impl`` in
``--models`` and ``--save``, the two are compared at the end (largest weight and test-prediction differences)::

    python -W ignore benchmarks/learning_per_epoch.py --models reference,reference_impl \
        --reference-src /tmp/cormorant_ref/src --stop 2 --save /tmp/ck   # then --stop 5 --resume /tmp/ck --save /tmp/ck
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from cormorant_lab.data import bundled_path
from cormorant_lab.nn import Cormorant

REPORT = (1, 2, 5, 20)


def data(seed: int, train: int = 1000, test: int = 1000):
    with np.load(bundled_path("ethanol")) as d:
        positions, energies, z = d["R"], d["E"][:, 0], d["z"]
    order = np.random.default_rng(seed).permutation(len(energies))
    pick = lambda idx: (
        torch.tensor(positions[idx], dtype=SETTINGS["dtype"]),
        torch.tensor(energies[idx], dtype=torch.float64),
    )
    charges = torch.tensor(z).unsqueeze(0)
    return pick(order[:train]), pick(order[train : train + test]), charges


OVERRIDES: dict = {}  # --overrides: constructor arguments for the default preset (to compare initializations)
SCALES: dict = {}  # --scale: {name fragment: factor}, the default preset's initial parameters multiplied after construction
SETTINGS: dict = {"dtype": torch.float32, "reference_src": None}  # --dtype, --reference-src


class ReferenceImplementation(torch.nn.Module):
    """The reference implementation's ``CormorantMD17`` (imported from ``--reference-src``), called like ours.

    It starts from the reference mode's initial weights for the same seed (``to_reference_state_dict``), so the
    two train from the same point on the same minibatches; its output is rescaled by the same ``target_std`` and
    ``target_mean`` as ours.
    """

    def __init__(self, seed: int):
        super().__init__()
        from cormorant_lab.nn.reference import (
            reference_implementation_inputs,
            reference_implementation_model,
            to_reference_state_dict,
        )

        if SETTINGS["reference_src"] is None:
            raise SystemExit("model reference_impl needs --reference-src (a clone's src/, e.g. /tmp/cormorant_ref/src)")
        ours = build("reference", seed)
        self.species = list(ours.species)
        self.model = reference_implementation_model(
            "md17", self.species, dtype=SETTINGS["dtype"], reference_src=SETTINGS["reference_src"]
        )
        self.model.load_state_dict(to_reference_state_dict(ours))
        self.inputs = reference_implementation_inputs
        self.register_buffer("target_mean", ours.target_mean.clone())
        self.register_buffer("target_std", ours.target_std.clone())

    def forward(self, positions: torch.Tensor, charges: torch.Tensor) -> torch.Tensor:
        y = self.model(self.inputs(positions, charges, self.species, SETTINGS["dtype"])).reshape(len(positions))
        return y * self.target_std + self.target_mean


def scale_parameters(model: torch.nn.Module, scales: dict[str, float]) -> torch.nn.Module:
    """Multiply every parameter whose name contains a key of ``scales`` by its factor (ablations of the initial scale).

    A key that matches no parameter is an error, so that a misspelt name cannot pass for an ablation.
    """
    names = [name for name, _ in model.named_parameters()]
    unknown = [key for key in scales if not any(key in name for name in names)]
    if unknown:
        raise SystemExit(f"--scale: {unknown} match no parameter name; the names are {names}")
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            for key, factor in scales.items():
                if key in name:
                    parameter.mul_(float(factor))
    return model


def build(name: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    if name == "reference":
        model = Cormorant.from_preset("md17", reference=True)
    elif name == "reference_impl":
        return ReferenceImplementation(seed).to(SETTINGS["dtype"])
    else:
        model = scale_parameters(Cormorant.from_preset("md17", **OVERRIDES), SCALES)
    return model.to(SETTINGS["dtype"])


def test_mae(model, positions, energies, charges, batch: int = 100) -> float:
    model.eval()
    errors = []
    with torch.no_grad():
        for start in range(0, len(energies), batch):
            x = positions[start : start + batch]
            errors.append((model(x, charges.expand(len(x), -1)).double() - energies[start : start + batch]).abs())
    model.train()
    return float(torch.cat(errors).mean())


def train(
    name: str,
    epochs: int,
    seed: int,
    batch: int = 25,
    stop: int | None = None,
    save: str | None = None,
    resume: str | None = None,
) -> list[tuple[int, float, float]]:
    """Train model ``name`` for epochs 1..``stop`` (default ``epochs``) of an ``epochs``-epoch schedule.

    ``save``/``resume``: a checkpoint ``PATH.NAME.pt`` (weights, optimizer, step, CPU seconds) after the last epoch
    run / to continue from, so that a slow model (the reference implementation) can be trained in several calls.
    """
    (x_train, e_train), (x_test, e_test), charges = data(seed)
    model = build(name, seed)
    mean, std = float(e_train.mean()), float(e_train.std())
    with torch.no_grad():
        model.target_mean.fill_(mean)
        model.target_std.fill_(std)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    steps_per_epoch = math.ceil(len(e_train) / batch)
    total = steps_per_epoch * max(epochs, 1)
    shuffle = torch.Generator().manual_seed(seed + 1)  # the same minibatches for every model
    rows, cpu, step, done = [], 0.0, 0, 0
    if resume and os.path.exists(f"{resume}.{name}.pt"):
        state = torch.load(f"{resume}.{name}.pt", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        cpu, step, done = float(state["cpu"]), int(state["step"]), int(state["epoch"])
        for _ in range(done):  # the shuffles of the epochs already run
            torch.randperm(len(e_train), generator=shuffle)
    for epoch in range(done + 1, (stop or epochs) + 1):
        order = torch.randperm(len(e_train), generator=shuffle)
        start_cpu = time.process_time()
        for k in range(steps_per_epoch):
            idx = order[k * batch : (k + 1) * batch]
            for group in optimizer.param_groups:
                group["lr"] = 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * step / total))
            optimizer.zero_grad(set_to_none=True)
            prediction = model(x_train[idx], charges.expand(len(idx), -1))
            loss = (((prediction.double() - e_train[idx]) / std) ** 2).mean()
            loss.backward()
            optimizer.step()
            step += 1
            if name == "reference_impl" and k % 10 == 0:
                print(
                    f"    step {step}  loss {float(loss):.4f}  CPU {cpu + time.process_time() - start_cpu:.1f} s",
                    flush=True,
                )
        cpu += time.process_time() - start_cpu
        if epoch in REPORT or epoch == epochs:
            rows.append((epoch, test_mae(model, x_test, e_test, charges), cpu))
            print(
                f"  {name}: epoch {epoch:3d}  test MAE {rows[-1][1]:.3f} kcal/mol  training CPU {cpu:.1f} s", flush=True
            )
        if save:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "cpu": cpu, "step": step}
            torch.save({**state, "epoch": epoch}, f"{save}.{name}.pt")
    return rows


def compare_with_reference(path: str, seed: int) -> None:
    """How far apart the reference mode and the reference implementation ended: weights and test predictions.

    Reads the checkpoints ``PATH.reference.pt`` and ``PATH.reference_impl.pt`` (same epoch), maps the reference
    mode's weights to the reference's names (``to_reference_state_dict``) and prints the largest difference of any
    weight relative to that tensor's largest entry, and the largest difference of their test predictions.
    """
    from cormorant_lab.nn.reference import to_reference_state_dict

    ours, theirs = build("reference", seed), build("reference_impl", seed)
    ours.load_state_dict(torch.load(f"{path}.reference.pt", weights_only=True)["model"])
    state = torch.load(f"{path}.reference_impl.pt", weights_only=True)
    theirs.load_state_dict(state["model"])
    mapped, reference = to_reference_state_dict(ours), theirs.model.state_dict()
    worst = max(
        float((mapped[k] - reference[k]).abs().max() / reference[k].abs().max().clamp_min(1e-30)) for k in reference
    )
    _, (x_test, _), charges = data(seed)
    with torch.no_grad():
        a, b = ours(x_test[:200], charges.expand(200, -1)), theirs(x_test[:200], charges.expand(200, -1))
    print(
        f"after epoch {state['epoch']}: largest weight difference {worst:.2e} (relative to the tensor's largest entry); "
        f"largest test-prediction difference {float((a - b).abs().max()):.2e} kcal/mol over 200 frames"
    )


LABELS = {"reference": "reference mode", "reference_impl": "risilab/cormorant itself, the reference mode's init"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--models", default="reference,default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds", default=None, help="comma-separated seeds (e.g. 0,1,2,3,4): each run in turn, then a summary"
    )
    parser.add_argument(
        "--stop", type=int, default=None, help="stop after this many epochs (the schedule still plans --epochs)"
    )
    parser.add_argument("--overrides", default="{}", help="JSON constructor arguments for the default preset")
    parser.add_argument(
        "--reference-src", default=None, help="a clone's src/ folder: enables model reference_impl (never vendored)"
    )
    parser.add_argument(
        "--scale",
        default="{}",
        help="JSON {name fragment: factor}: the default preset's initial parameters whose names contain the fragment "
        "are multiplied by the factor, e.g. '{\"head.linear.weight\": 0}'",
    )
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--save", default=None, help="save each model's state_dict after its last epoch (PATH.NAME.pt)")
    parser.add_argument("--resume", default=None, help="start each model from PATH.NAME.pt (weights and optimizer)")
    args = parser.parse_args()
    OVERRIDES.update(json.loads(args.overrides))
    SCALES.update(json.loads(args.scale))
    SETTINGS.update(dtype=getattr(torch, args.dtype), reference_src=args.reference_src)
    torch.set_num_threads(1)
    seeds = [int(seed) for seed in args.seeds.split(",")] if args.seeds else [args.seed]
    results: dict[str, dict[int, list[tuple[int, float, float]]]] = {}
    for seed in seeds:
        (_, e_train), (_, e_test), _ = data(seed)
        print(
            f"seed {seed}: ethanol, 1000 train / 1000 test frames, batch 25, AMSGrad 1e-3 -> 1e-5 cosine over "
            f"{args.epochs} epochs; predicting the training mean: test MAE "
            f"{float((e_test - e_train.mean()).abs().mean()):.3f} kcal/mol"
        )
        for name in args.models.split(","):
            model = build(name, seed)
            label = LABELS.get(name, f"default md17 preset {OVERRIDES or ''} {SCALES or ''}".strip())
            print(f"{name} ({label}, {sum(p.numel() for p in model.parameters())} parameters):")
            rows = train(name, args.epochs, seed, stop=args.stop, save=args.save, resume=args.resume)
            results.setdefault(name, {})[seed] = rows
        if args.save and {"reference", "reference_impl"} <= set(args.models.split(",")):
            compare_with_reference(args.save, seed)
    if len(seeds) > 1 or {"reference", "default"} <= set(results):
        print(summarize(results))


def summarize(results: dict[str, dict[int, list[tuple[int, float, float]]]]) -> str:
    """Each model's mean test MAE per epoch over the seeds and, with ``reference`` and ``default`` both present, the
    issue's criterion cell by cell: in how many (seed, epoch) cells the default preset is at least as accurate.

    ``results[name][seed]``: ``train``'s rows ``(epoch, test MAE, CPU s)``.
    """
    lines = []
    for name, per_seed in results.items():
        by_epoch: dict[int, list[float]] = {}
        for rows in per_seed.values():
            for epoch, mae, _ in rows:
                by_epoch.setdefault(epoch, []).append(mae)
        cells = " / ".join(f"{sum(maes) / len(maes):.3f}" for _, maes in sorted(by_epoch.items()))
        lines.append(f"{name}: mean test MAE after epochs {sorted(by_epoch)} over seeds {sorted(per_seed)}: {cells}")
    if {"reference", "default"} <= set(results):
        behind, total = [], 0
        for seed, rows in sorted(results["default"].items()):
            reference = {row[0]: row[1] for row in results["reference"].get(seed, [])}
            for epoch, mae, _ in rows:
                if epoch in reference:
                    total += 1
                    if mae > reference[epoch]:
                        behind.append(f"seed {seed} epoch {epoch} ({mae:.3f} > {reference[epoch]:.3f})")
        lines.append(
            f"default at least as accurate as the reference mode in {total - len(behind)} of {total} (seed, epoch) "
            f"cells" + (f"; behind: {', '.join(behind)}" if behind else "")
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
