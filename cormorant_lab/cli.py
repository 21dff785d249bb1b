"""The ``cormorant-lab`` command line: ``train``, ``evaluate``, ``demo`` and ``fetch``.

``cormorant-lab demo`` is the README's main job: it trains on the bundled GFN2-xTB ethanol trajectory (no network)
for about two minutes, then prints the test errors with units and the covariance checker's worst error.
Multi-GPU: ``torchrun --nproc_per_node=4 -m cormorant_lab.cli train ...`` (DDP, one process per GPU).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import torch

from .data import BUNDLED_MOLECULES, QM9_TARGETS

MODEL_OPTIONS = ("num_cg_levels", "num_channels", "maxl", "max_sh")
#: The demo's model: the md17 preset, smaller, so that ~2 minutes on 2 CPU cores make visible progress.
DEMO_MODEL = {"num_cg_levels": 2, "num_channels": 8, "maxl": 2, "max_sh": 2}
# Two minutes is ~1,500 steps: the paper's 1e-3 start (meant for 100s of epochs) leaves the model half trained;
# 5e-3 halves the test errors in the same time (measured: energy MAE 1.2 -> 0.5 kcal/mol on bundled ethanol).
DEMO_LR_INIT = 5e-3
QUICK_MODEL = {"num_cg_levels": 1, "num_channels": 2, "maxl": 1, "max_sh": 1}


class CommandError(Exception):
    """A user error: printed without a traceback, exit status 2."""


# --- train --------------------------------------------------------------------------------------------------
def _model_overrides(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in MODEL_OPTIONS if getattr(args, name, None) is not None}


def _train(args: argparse.Namespace) -> int:
    from .nn import Cormorant
    from .train import TrainConfig, Trainer, format_metrics, init_distributed, load_task, seed_everything

    info = init_distributed()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    task = load_task(args.dataset, molecule=args.molecule, target=args.target, source=args.source, n_train=args.n_train,
                     n_valid=args.n_valid, n_test=args.n_test, split_seed=args.split_seed)
    force_weight = args.force_weight if args.force_weight is not None else (1.0 if task.has_forces else 0.0)
    if force_weight > 0 and not task.has_forces:
        raise CommandError(f"--force-weight {force_weight}: {args.dataset} has no forces")
    if args.compile and force_weight > 0:
        raise CommandError("--compile trains on energies only (PyTorch cannot compile the force loss's double backward): add --force-weight 0")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr_init=args.lr_init, lr_final=args.lr_final,
                         force_weight=force_weight, seed=args.seed, device=args.device, dtype=args.dtype,
                         time_budget=args.time_budget, progress=not args.no_progress, compile=args.compile)
    seed_everything(config.seed)
    model = Cormorant.from_preset(args.preset or args.dataset, **_model_overrides(args))
    trainer = Trainer(model, task.train, task.valid, config, target=task.target, units=task.units, output_dir=args.output,
                      per_species_reference=task.per_species_reference, metadata={"task": task.spec})
    if args.resume and not (trainer.last_path and trainer.last_path.exists()):
        raise CommandError(f"--resume: no checkpoint {trainer.last_path} to continue from")
    if not args.resume and trainer.last_path.exists():
        raise CommandError(f"{trainer.last_path} exists: pass --resume to continue it, or choose another --output")
    result = trainer.fit(resume=args.resume)
    if info.is_main:
        print(f"stopped: {result.stop_reason} after {result.epoch} epochs, {result.step} steps; best {trainer.best_path}")
    if result.stop_reason == "interrupted":
        return 130
    trainer.restore_best()
    metrics = trainer.evaluate(task.test, forces=task.has_forces)
    if info.is_main:
        print(f"test ({len(task.test)} molecules, best-on-validation model): {format_metrics(metrics, task.units)}")
    return 0


# --- evaluate -----------------------------------------------------------------------------------------------
def _evaluate(args: argparse.Namespace) -> int:
    from .train import evaluate_model, format_metrics, load_model, load_task, resolve_device
    from .train._metrics import TargetUnits

    model = load_model(args.checkpoint)
    spec = dict(model.metadata.get("task") or {})
    if not spec:
        raise CommandError(f"{args.checkpoint} records no task (dataset and splits); it was not written by the trainer")
    task = load_task(**spec)
    model = model.to(resolve_device(args.device))
    units = TargetUnits(**model.metadata["units"])
    metrics = evaluate_model(model, task.split(args.split), task.target, units, forces=task.has_forces, batch_size=args.batch_size)
    label = spec.get("molecule") or spec["target"]
    print(f"{args.split} ({len(task.split(args.split))} molecules, {spec['dataset']} {label}): {format_metrics(metrics, units)}")
    if args.json:
        print(json.dumps(metrics))
    return 0


# --- demo ---------------------------------------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> int:
    from .checks import check_covariance
    from .data import batch_to, collate_molecules
    from .nn import Cormorant
    from .train import TrainConfig, Trainer, format_metrics, load_task, seed_everything

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    budget = args.time_budget if args.time_budget is not None else (15.0 if args.quick else 120.0)
    sizes = (100, 50, 100) if args.quick else (1000, 200, 500)
    task = load_task("md17", molecule="ethanol", n_train=sizes[0], n_valid=sizes[1], n_test=sizes[2])
    seed_everything(args.seed)
    model = Cormorant.from_preset("md17", **(QUICK_MODEL if args.quick else DEMO_MODEL))
    config = TrainConfig(epochs=1000, force_weight=1.0, seed=args.seed, device=args.device, time_budget=budget,
                         lr_init=DEMO_LR_INIT, progress=not args.no_progress)
    print(f"training Cormorant (md17 preset, {sum(p.numel() for p in model.parameters())} parameters) on {sizes[0]} frames "
          f"of the bundled GFN2-xTB ethanol trajectory, energies + forces, for {budget:.0f} s on {config.device or 'auto'}...")
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(args.output) if args.output else Path(scratch)
        trainer = Trainer(model, task.train, task.valid, config, target="energy", units=task.units, output_dir=output,
                          metadata={"task": task.spec})
        result = trainer.fit()
        trainer.restore_best()
        metrics = trainer.evaluate(task.test, forces=True)
    print(f"trained {result.step} steps ({result.stop_reason}); test set of {len(task.test)} frames:")
    print(f"  {format_metrics(metrics, task.units)}")
    print(f"  (energy spread of the test frames: std {task.test.targets('energy').std():.3f} kcal/mol)")
    batch = collate_molecules([task.test[i] for i in range(4)])
    double = model.to(torch.float64)
    report = check_covariance(double, batch_to(batch, trainer.device, torch.float64)["positions"], batch["charges"].to(trainer.device))
    print(f"covariance check of the trained model (float64): {report.summary()}")
    print(f"worst covariance error: {report.worst:.2e}")
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return 0


# --- fetch --------------------------------------------------------------------------------------------------
def _fetch(args: argparse.Namespace) -> int:
    from .data import load_md17, load_qm9

    if args.dataset == "qm9":
        dataset, _ = load_qm9(source=args.source or "archive", download=True)
    else:
        dataset, _ = load_md17(args.molecule, source=args.source or "md17", download=True)
    print(f"ready: {dataset}")
    return 0


# --- parser -------------------------------------------------------------------------------------------------
def _add_train(commands) -> None:
    train = commands.add_parser("train", help="train a model (the paper's recipe; Ctrl-C saves, --resume continues)")
    train.add_argument("--dataset", choices=("md17", "qm9"), default="md17")
    train.add_argument("--molecule", default="ethanol", help=f"MD-17 molecule (bundled: {', '.join(BUNDLED_MOLECULES)})")
    train.add_argument("--target", default=None, help=f"QM9 target (default U0): {', '.join(QM9_TARGETS)}")
    train.add_argument("--source", default=None, help="md17: bundled (default), md17, rmd17; qm9: auto (default), qm9pack, archive")
    train.add_argument("--preset", choices=("qm9", "md17"), default=None, help="model preset (default: the dataset's)")
    for name in MODEL_OPTIONS:
        train.add_argument("--" + name.replace("_", "-"), type=int, default=None, help="override the preset")
    train.add_argument("--epochs", type=int, default=256)
    train.add_argument("--n-train", type=int, default=None, help="training molecules (default 1000 MD-17, 100000 QM9)")
    train.add_argument("--n-valid", type=int, default=None)
    train.add_argument("--n-test", type=int, default=None)
    train.add_argument("--split-seed", type=int, default=0)
    train.add_argument("--batch-size", type=int, default=25)
    train.add_argument("--lr-init", type=float, default=1e-3)
    train.add_argument("--lr-final", type=float, default=1e-5)
    train.add_argument("--force-weight", type=float, default=None, help="0 = energy only (default 1 for MD-17)")
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when available)")
    train.add_argument("--time-budget", type=float, default=None, help="seconds of training")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    train.add_argument("--output", required=True, help="folder for last.pt and best.pt")
    train.add_argument("--resume", action="store_true", help="continue from OUTPUT/last.pt exactly")
    train.add_argument("--no-progress", action="store_true")
    train.add_argument("--compile", action="store_true", help="compile the model (torch.compile; energy-only training)")
    train.set_defaults(func=_train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cormorant-lab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train(commands)
    evaluate = commands.add_parser("evaluate", help="errors of a checkpoint on a split, in the paper's units")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--split", choices=("train", "valid", "test"), default="test")
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--batch-size", type=int, default=100)
    evaluate.add_argument("--json", action="store_true", help="also print the metrics as JSON")
    evaluate.set_defaults(func=_evaluate)
    demo = commands.add_parser("demo", help="the main job: trains on bundled data (~2 min on 2 CPU cores, no network)")
    demo.add_argument("--quick", action="store_true", help="a tiny model for 15 s (a smoke test)")
    demo.add_argument("--time-budget", type=float, default=None, help="seconds of training (default 120, 15 with --quick)")
    demo.add_argument("--device", default=None)
    demo.add_argument("--output", default=None, help="keep the checkpoints here (default: a temporary folder)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--threads", type=int, default=1,
                      help="CPU threads (default 1: this model's small tensors run slower on 2 threads of a busy machine)")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=_demo)
    fetch = commands.add_parser("fetch", help="download a dataset into the cache")
    fetch.add_argument("dataset", choices=("md17", "qm9"))
    fetch.add_argument("--molecule", default="ethanol")
    fetch.add_argument("--source", default=None, help="md17: md17 (default) or rmd17; qm9: archive (default) or qm9pack")
    fetch.set_defaults(func=_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .train import CheckpointError, NonFiniteLossError, TaskError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CommandError, TaskError, CheckpointError, FileNotFoundError) as exc:
        print(f"cormorant-lab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except NonFiniteLossError as exc:
        print(f"cormorant-lab {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
