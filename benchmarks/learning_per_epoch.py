"""Benchmark: test MAE per epoch of the reference mode and the default md17 preset, on identical minibatches.

Setting (issue 11's): the bundled ethanol trajectory (``cormorant_lab/data/bundled/gfn2xtb_ethanol.npz``, GFN2-xTB, kcal/mol), 1,000
training frames and 1,000 test frames drawn at random (seed 0), energies only; the paper's recipe — AMSGrad,
learning rate 1e-3 → 1e-5 on a cosine per minibatch over the planned epochs, batch 25, MSE on standardized
energies. Both models see the same minibatches in the same order (one seeded shuffle per epoch). Printed: test
MAE (kcal/mol) after epochs 1, 2, 5 and 20 and the process CPU seconds spent training each model up to then;
predicting the training mean is the baseline. float32, one thread.

The default md17 preset is ``Cormorant.from_preset("md17")`` as shipped (soft cutoff from 2.5 Å; ``--overrides
'{"soft_cut_rad": 1.73}'`` gives the previous preset). Results, two seeds, and the ablations behind the preset:
``docs/differences.md``, "Accuracy per epoch".

Usage (about 3–4 CPU minutes per model for 20 epochs on one core)::

    python benchmarks/learning_per_epoch.py [--epochs 20] [--models reference,default] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
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
        torch.tensor(positions[idx], dtype=torch.float32),
        torch.tensor(energies[idx], dtype=torch.float64),
    )
    charges = torch.tensor(z).unsqueeze(0)
    return pick(order[:train]), pick(order[train : train + test]), charges


OVERRIDES: dict = {}  # --overrides: constructor arguments for the default preset (to compare initializations)


def build(name: str, seed: int) -> Cormorant:
    torch.manual_seed(seed)
    if name == "reference":
        return Cormorant.from_preset("md17", reference=True)
    return Cormorant.from_preset("md17", **OVERRIDES)


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
    name: str, epochs: int, seed: int, batch: int = 25, stop: int | None = None
) -> list[tuple[int, float, float]]:
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
    rows, cpu, step = [], 0.0, 0
    for epoch in range(1, (stop or epochs) + 1):
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
        cpu += time.process_time() - start_cpu
        if epoch in REPORT or epoch == epochs:
            rows.append((epoch, test_mae(model, x_test, e_test, charges), cpu))
            print(
                f"  {name}: epoch {epoch:3d}  test MAE {rows[-1][1]:.3f} kcal/mol  training CPU {cpu:.1f} s", flush=True
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--models", default="reference,default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stop", type=int, default=None, help="stop after this many epochs (the schedule still plans --epochs)"
    )
    parser.add_argument("--overrides", default="{}", help="JSON constructor arguments for the default preset")
    args = parser.parse_args()
    OVERRIDES.update(json.loads(args.overrides))
    torch.set_num_threads(1)
    (_, e_train), (_, e_test), _ = data(args.seed)
    print(
        f"ethanol, 1000 train / 1000 test frames, batch 25, AMSGrad 1e-3 -> 1e-5 cosine over {args.epochs} epochs; "
        f"predicting the training mean: test MAE {float((e_test - e_train.mean()).abs().mean()):.3f} kcal/mol"
    )
    for name in args.models.split(","):
        model = build(name, args.seed)
        label = "reference mode" if name == "reference" else f"default md17 preset {OVERRIDES or ''}".strip()
        print(f"{name} ({label}, {sum(p.numel() for p in model.parameters())} parameters):")
        train(name, args.epochs, args.seed, stop=args.stop)


if __name__ == "__main__":
    main()
