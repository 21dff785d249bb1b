"""Learning curve on the bundled GFN2-xTB ethanol trajectory at a fixed CPU time budget per run.

Test energy and force MAE (kcal/mol, kcal/mol/Å) at 100 / 500 / 1,000 / 2,000 training frames, energy-only
(the paper's loss) vs energy + forces. Same validation (200) and test (1,000) frames for every run.
Writes ``results/learning_curve_md17.{json,csv,png}``.

    python benchmarks/learning_curve_md17.py --budget 120          # seconds of training per run
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import torch

from cormorant_lab.nn import Cormorant
from cormorant_lab.train import TrainConfig, Trainer, load_task, seed_everything

RESULTS = Path(__file__).parent / "results"
MODEL = {"num_cg_levels": 2, "num_channels": 8, "maxl": 2, "max_sh": 2}  # the demo's model


def run(n_train: int, force_weight: float, budget: float, n_test: int, lr_init: float) -> dict:
    with tempfile.TemporaryDirectory() as scratch:  # checkpoints are not results
        task = load_task("md17", molecule="ethanol", n_train=n_train, n_valid=200, n_test=n_test)
        seed_everything(0)
        model = Cormorant.from_preset("md17", **MODEL)
        config = TrainConfig(
            epochs=10_000, force_weight=force_weight, time_budget=budget, device="cpu", progress=False, lr_init=lr_init
        )
        trainer = Trainer(model, task.train, task.valid, config, units=task.units, output_dir=scratch)
        started = time.perf_counter()
        result = trainer.fit()
        trainer.restore_best()
        metrics = trainer.evaluate(task.test, forces=True)
        return {
            "n_train": n_train,
            "loss": "energy+forces" if force_weight else "energy",
            "steps": result.step,
            "seconds": round(time.perf_counter() - started, 1),
            **metrics,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of training per run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000, 2000])
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument(
        "--lr-init",
        type=float,
        default=1e-3,
        help="start of the cosine schedule (paper: 1e-3; 5e-3 suits short budgets)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [run(n, w, args.budget, args.n_test, args.lr_init) for n in args.sizes for w in (0.0, 1.0)]
    for row in rows:
        print(row)
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "budget_seconds": args.budget,
        "model": MODEL,
        "data": "bundled GFN2-xTB ethanol",
        "threads": 1,
        "lr_init": args.lr_init,
        "rows": rows,
    }
    (RESULTS / "learning_curve_md17.json").write_text(json.dumps(meta, indent=2))
    with open(RESULTS / "learning_curve_md17.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, args.budget)


def plot(rows: list[dict], budget: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for loss, marker in (("energy", "o"), ("energy+forces", "s")):
        sel = [r for r in rows if r["loss"] == loss]
        axes[0].loglog([r["n_train"] for r in sel], [r["energy_mae"] for r in sel], marker=marker, label=loss)
        axes[1].loglog([r["n_train"] for r in sel], [r["forces_mae"] for r in sel], marker=marker, label=loss)
    axes[0].set(xlabel="training frames", ylabel="test energy MAE (kcal/mol)")
    axes[1].set(xlabel="training frames", ylabel="test force MAE (kcal/mol/Å)")
    axes[0].legend(title="loss")
    fig.suptitle(f"Cormorant on bundled GFN2-xTB ethanol, {budget:.0f} s of CPU training per point")
    fig.tight_layout()
    fig.savefig(RESULTS / "learning_curve_md17.png", dpi=120)


if __name__ == "__main__":
    main()
