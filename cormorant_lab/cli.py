"""The cormorant-lab command line: train, evaluate, demo and fetch.

'cormorant-lab demo' is the README's main job: it trains on the bundled GFN2-xTB ethanol trajectory (no network)
for about two minutes, then prints the test errors with units and the covariance checker's worst error.
Multi-GPU: 'torchrun --nproc_per_node=4 -m cormorant_lab.cli train ...' (DDP, one process per GPU).

How this module is laid out, for whoever adds an option:

* ``build_parser`` declares every option (help texts show their defaults); parsing and ``--help`` import neither
  torch nor the data packages (the names come from ``cormorant_lab._catalog``), so they take milliseconds;
* ``validate_arguments`` is the one place where arguments are checked, all of them, before any data is loaded:
  a bad value ends in one line on stderr and exit status 2, never a traceback;
* ``_train``, ``_evaluate``, ``_demo``, ``_fetch`` do the work (heavy imports happen inside them).

Threads: ``--threads`` (default 1 on the CPU) and ``OMP_WAIT_POLICY=PASSIVE`` set before torch loads; see
``cormorant_lab._threads`` for the policy and ``benchmarks/bench_threads.py`` for the measurements behind it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .train import DistInfo

from ._catalog import BUNDLED_MOLECULES, DATASETS, MD17_SOURCES, QM9_SOURCES, QM9_TARGET_NAMES, molecules_for

MODEL_OPTIONS = ("num_cg_levels", "num_channels", "maxl", "max_sh")
#: The demo's model: the md17 preset, smaller, so that ~2 minutes on 2 CPU cores make visible progress.
DEMO_MODEL = {"num_cg_levels": 2, "num_channels": 8, "maxl": 2, "max_sh": 2}
# Two minutes is ~1,500 steps: the paper's 1e-3 start (meant for 100s of epochs) leaves the model half trained;
# 5e-3 halves the test errors in the same time (measured: energy MAE 1.2 -> 0.5 kcal/mol on bundled ethanol).
DEMO_LR_INIT = 5e-3
QUICK_MODEL = {"num_cg_levels": 1, "num_channels": 2, "maxl": 1, "max_sh": 1}
FETCH_SOURCES = {"md17": ("md17", "rmd17"), "qm9": ("auto", "qm9pack", "archive")}


class CommandError(Exception):
    """A user error: printed without a traceback, exit status 2."""


# --- train --------------------------------------------------------------------------------------------------
def _model_overrides(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in MODEL_OPTIONS if getattr(args, name, None) is not None}


def _user_data(args: argparse.Namespace) -> tuple[str, dict]:
    """``("file", load_task options)`` for ``--data FILE``, else the ``--dataset`` and no options."""
    if args.data is None:
        return args.dataset, {}
    return "file", dict(
        path=args.data,
        energy_unit=args.energy_unit,
        energy_key=args.energy_key,
        forces_key=args.forces_key,
        length_unit=args.length_unit,
        n_fractions=args.split_fractions,
    )


def _train(args: argparse.Namespace) -> int:
    from .train import configure_threads, in_process_group

    configure_threads(args.threads)
    return in_process_group(lambda info: _train_in_group(args, info))  # the trainer released before the group is left


def _train_in_group(args: argparse.Namespace, info: DistInfo) -> int:
    from .nn import Cormorant
    from .train import TrainConfig, Trainer, format_metrics, load_task, seed_everything

    dataset, user_data = _user_data(args)
    task = load_task(
        dataset,
        molecule=args.molecule,
        target=args.target,
        source=args.source,
        n_train=args.n_train,
        n_valid=args.n_valid,
        n_test=args.n_test,
        split_seed=args.split_seed,
        **user_data,
    )
    force_weight = args.force_weight if args.force_weight is not None else (1.0 if task.has_forces else 0.0)
    if force_weight > 0 and not task.has_forces:
        raise CommandError(f"--force-weight {force_weight}: {args.data or args.dataset} has no forces")
    if args.compile and force_weight > 0:
        raise CommandError(
            "--compile trains on energies only (PyTorch cannot compile the force loss's double backward): add --force-weight 0"
        )
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr_init=args.lr_init,
        lr_final=args.lr_final,
        force_weight=force_weight,
        seed=args.seed,
        device=args.device,
        dtype=args.dtype,
        time_budget=args.time_budget,
        progress=not args.no_progress,
        compile=args.compile,
    )
    seed_everything(config.seed)
    model = Cormorant.from_preset(args.preset or ("md17" if dataset == "file" else dataset), **_model_overrides(args))
    trainer = Trainer(
        model,
        task.train,
        task.valid,
        config,
        target=task.target,
        units=task.units,
        output_dir=args.output,
        per_species_reference=task.per_species_reference,
        metadata={"task": task.spec},
    )
    result = trainer.fit(resume=args.resume)
    has_best = trainer.best_path is not None and trainer.best_path.exists()
    if info.is_main:
        best = f"best {trainer.best_path}" if has_best else "no best.pt (no validation set: --n-valid 0)"
        print(
            f"stopped: {result.stop_reason} after {result.epoch} epochs, {result.step} steps; {best}; last {trainer.last_path}"
        )
    if result.stop_reason == "interrupted":
        return 130
    if not len(task.test):
        if info.is_main:
            print("no test set (--n-test 0): nothing to evaluate")
        return 0
    trainer.restore_best()
    metrics = trainer.evaluate(task.test, forces=task.has_forces)
    which = "best-on-validation model" if has_best else "last model"
    if info.is_main:
        print(f"test ({len(task.test)} molecules, {which}): {format_metrics(metrics, task.units)}")
    return 0


# --- evaluate -----------------------------------------------------------------------------------------------
def _evaluate(args: argparse.Namespace) -> int:
    from .train import (
        TargetUnits,
        configure_threads,
        evaluate_model,
        format_metrics,
        load_model,
        load_task,
        resolve_device,
    )

    configure_threads(args.threads)
    model = load_model(args.checkpoint)
    spec = dict(model.metadata.get("task") or {})
    if not spec or not isinstance(model.metadata.get("units"), dict):
        raise CommandError(f"{args.checkpoint} records no task (dataset and splits); it was not written by the trainer")
    if spec.get(f"n_{args.split}") == 0:
        raise CommandError(
            f"the {args.split} split of {args.checkpoint} is empty (n_{args.split} = 0): nothing to evaluate"
        )
    task = load_task(**spec)
    model = model.to(resolve_device(args.device))
    units = TargetUnits(**model.metadata["units"])
    dataset = task.split(args.split)
    metrics = evaluate_model(model, dataset, task.target, units, forces=task.has_forces, batch_size=args.batch_size)
    label = spec.get("molecule") or spec["target"]
    if not all(math.isfinite(v) for v in metrics.values()):
        print(
            f"cormorant-lab evaluate: error: the model's predictions on the {args.split} split are not finite "
            f"({format_metrics(metrics, units)})",
            file=sys.stderr,
        )
        return 1
    print(f"{args.split} ({len(dataset)} molecules, {spec['dataset']} {label}): {format_metrics(metrics, units)}")
    if args.json:
        print(json.dumps(metrics, allow_nan=False))
    return 0


# --- demo ---------------------------------------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> int:
    import torch

    from .checks import check_covariance
    from .data import batch_to, collate_molecules
    from .nn import Cormorant
    from .train import TrainConfig, Trainer, configure_threads, format_metrics, load_task, seed_everything

    started = time.perf_counter()
    configure_threads(args.threads)
    budget = args.time_budget if args.time_budget is not None else (15.0 if args.quick else 120.0)
    sizes = (100, 50, 100) if args.quick else (1000, 200, 500)
    task = load_task("md17", molecule="ethanol", n_train=sizes[0], n_valid=sizes[1], n_test=sizes[2])
    seed_everything(args.seed)
    model = Cormorant.from_preset("md17", **(QUICK_MODEL if args.quick else DEMO_MODEL))
    config = TrainConfig(
        epochs=1000,
        force_weight=1.0,
        seed=args.seed,
        device=args.device,
        time_budget=budget,
        lr_init=DEMO_LR_INIT,
        progress=not args.no_progress,
    )
    print(
        f"training Cormorant (md17 preset, {sum(p.numel() for p in model.parameters())} parameters) on {sizes[0]} frames "
        f"of the bundled GFN2-xTB ethanol trajectory, energies + forces, for {budget:.0f} s on {config.device or 'auto'}..."
    )
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(args.output) if args.output else Path(scratch)
        trainer = Trainer(
            model,
            task.train,
            task.valid,
            config,
            target="energy",
            units=task.units,
            output_dir=output,
            metadata={"task": task.spec},
        )
        result = trainer.fit()
        trainer.restore_best()
        metrics = trainer.evaluate(task.test, forces=True)
    print(f"trained {result.step} steps ({result.stop_reason}); test set of {len(task.test)} frames:")
    print(f"  {format_metrics(metrics, task.units)}")
    print(f"  (energy spread of the test frames: std {task.test.targets('energy').std():.3f} kcal/mol)")
    batch = collate_molecules([task.test[i] for i in range(4)])
    double = model.to(torch.float64)
    report = check_covariance(
        double, batch_to(batch, trainer.device, torch.float64)["positions"], batch["charges"].to(trainer.device)
    )
    print(f"covariance check of the trained model (float64): {report.summary()}")
    print(f"worst covariance error: {report.worst:.2e}")
    print(f"demo finished in {time.perf_counter() - started:.0f} s")
    return 0


# --- fetch --------------------------------------------------------------------------------------------------
def _fetch(args: argparse.Namespace) -> int:
    from .data import load_md17, load_qm9

    if args.dataset == "qm9":  # auto: an existing cache, else qm9pack when installed, else the figshare archive
        dataset, metadata = load_qm9(source=args.source or "auto", download=True)
    else:
        dataset, metadata = load_md17(args.molecule, source=args.source or "md17", download=True, sha256=args.sha256)
    print(f"ready: {dataset} (source {metadata.get('source')})")
    return 0


# --- parser -------------------------------------------------------------------------------------------------
class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or any(action.default is v for v in (None, False, argparse.SUPPRESS))
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


class _Parser(argparse.ArgumentParser):
    """An argument error is one line naming the command, raised as :class:`CommandError` (exit 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise CommandError(f"{message} (see {self.prog} --help)")


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU intra-op threads (default: 1, or OMP_NUM_THREADS if set; this model's small tensors "
        "gain little from more and lose much on a busy machine)",
    )


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train",
        help="train a model (the paper's recipe; Ctrl-C or SIGTERM saves, --resume continues)",
        description="Train a Cormorant model with the paper's recipe. Ctrl-C or SIGTERM saves "
        "OUTPUT/last.pt; --resume continues it exactly (same task, data, split and model).",
    )
    train.add_argument("--dataset", choices=DATASETS, default="md17", help="dataset")
    train.add_argument(
        "--molecule", default="ethanol", help=f"MD-17 molecule (bundled: {', '.join(BUNDLED_MOLECULES)})"
    )
    train.add_argument("--target", default=None, help=f"QM9 target (default U0): {', '.join(QM9_TARGET_NAMES)}")
    train.add_argument(
        "--source", default=None, help="md17: bundled (default), md17, rmd17; qm9: auto (default), qm9pack, archive"
    )
    train.add_argument("--preset", choices=("qm9", "md17"), default=None, help="model preset (default: the dataset's)")
    for name in MODEL_OPTIONS:
        train.add_argument("--" + name.replace("_", "-"), type=int, default=None, help="override the preset")
    train.add_argument("--epochs", type=int, default=256, help="passes over the training set")
    train.add_argument("--n-train", type=int, default=None, help="training molecules (default 1000 MD-17, 100000 QM9)")
    train.add_argument(
        "--n-valid", type=int, default=None, help="validation molecules (default 500 MD-17, 17748 QM9; 0: no best.pt)"
    )
    train.add_argument("--n-test", type=int, default=None, help="test molecules (default 1000 MD-17, 13083 QM9)")
    train.add_argument("--split-seed", type=int, default=0, help="seed of the train/valid/test split")
    train.add_argument("--batch-size", type=int, default=25, help="molecules per minibatch")
    train.add_argument("--lr-init", type=float, default=1e-3, help="initial learning rate of the cosine schedule")
    train.add_argument("--lr-final", type=float, default=1e-5, help="final learning rate")
    train.add_argument(
        "--force-weight",
        type=float,
        default=None,
        help="weight of the force loss, 0 = energy only (default 1 for MD-17)",
    )
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="floating-point type")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when available)")
    train.add_argument("--time-budget", type=float, default=None, help="seconds of training (default: no limit)")
    train.add_argument("--seed", type=int, default=0, help="seed of the initialisation, shuffling and every RNG")
    _add_threads(train)
    train.add_argument("--output", required=True, help="folder for last.pt and best.pt")
    _add_user_data(train)
    train.add_argument("--resume", action="store_true", help="continue from OUTPUT/last.pt exactly")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--compile", action="store_true", help="compile the model (torch.compile; energy-only training)")
    train.set_defaults(func=_train)


def _add_user_data(train) -> None:
    """``--data FILE`` and its options: train on your own extended XYZ, ASE database or MD-17-style npz."""
    group = train.add_argument_group("your own data (instead of --dataset)")
    group.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="extended XYZ (.xyz), ASE database (.db) or MD-17/rMD17-style .npz with energies (and forces)",
    )
    group.add_argument(
        "--energy-unit",
        default=None,
        help="unit of the file's energies, required with --data: eV, meV, kcal/mol or Hartree",
    )
    group.add_argument(
        "--energy-key", default=None, help="where the energies are (default: energy; MACE files: REF_energy)"
    )
    group.add_argument(
        "--forces-key", default=None, help="where the forces are (default: forces; MACE files: REF_forces)"
    )
    group.add_argument("--length-unit", default=None, help="unit of the positions: Å (default), bohr or nm")
    group.add_argument(
        "--split-fractions",
        type=float,
        nargs=3,
        default=None,
        metavar=("TRAIN", "VALID", "TEST"),
        help="fractions of the file (default 0.8 0.1 0.1); --n-train/--n-valid/--n-test give counts instead",
    )


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="errors of a checkpoint on a split, in the paper's units",
        description="MAE and RMSE of a checkpoint on a split of the task it was trained on.",
    )
    evaluate.add_argument("checkpoint", help="a best.pt or last.pt written by 'cormorant-lab train'")
    evaluate.add_argument("--split", choices=("train", "valid", "test"), default="test", help="which split")
    evaluate.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when available)")
    evaluate.add_argument("--batch-size", type=int, default=100, help="molecules per batch")
    _add_threads(evaluate)
    evaluate.add_argument("--json", action="store_true", help="also print the metrics as JSON")
    evaluate.set_defaults(func=_evaluate)


def _add_demo(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="the main job: trains on bundled data (~2 min on 2 CPU cores, no network)",
        description="Train a small Cormorant on the bundled ethanol trajectory, then report the test "
        "errors and the covariance check.",
    )
    demo.add_argument("--quick", action="store_true", help="a tiny model for 15 s (a smoke test)")
    demo.add_argument(
        "--time-budget", type=float, default=None, help="seconds of training (default 120, 15 with --quick)"
    )
    demo.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when available)")
    demo.add_argument("--output", default=None, help="keep the checkpoints here (default: a temporary folder)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    _add_threads(demo)
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)


def _add_fetch(commands) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="download a dataset into the cache and verify it",
        description="Download (or convert) a dataset into the cache folder (CORMORANT_LAB_DATA).",
    )
    fetch.add_argument("dataset", choices=DATASETS, help="md17 or qm9")
    fetch.add_argument("--molecule", default="ethanol", help="MD-17 molecule")
    fetch.add_argument(
        "--source",
        default=None,
        help="md17: md17 (default) or rmd17; qm9: auto (default: qm9pack when installed, else the archive), "
        "qm9pack or archive",
    )
    fetch.add_argument("--sha256", default=None, help="pin the file's SHA-256 (MD-17 files have no published checksum)")
    fetch.set_defaults(func=_fetch)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cormorant-lab", description=__doc__.split("\n\nHow this module")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_evaluate(commands)
    _add_demo(commands)
    _add_fetch(commands)
    return parser


# --- validation: every argument, before any work ------------------------------------------------------------
def _positive(args, *names: str, zero: bool = False) -> None:
    for name in names:
        value = getattr(args, name, None)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise CommandError(f"--{name.replace('_', '-')} {value}: must be a finite number")
        if value < 0 or (value == 0 and not zero):
            raise CommandError(f"--{name.replace('_', '-')} {value}: must be {'0 or more' if zero else 'positive'}")


def _check_device(device: str | None) -> None:
    if device is None:
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise CommandError(f"--device {device!r}: not a device name ({' '.join(str(exc).split())})") from None
    if parsed.type == "cpu":
        return
    backend = getattr(torch, parsed.type, None)
    available = getattr(backend, "is_available", lambda: False)()
    if not available:
        raise CommandError(f"--device {device}: no {parsed.type} device is available on this machine")
    count = getattr(backend, "device_count", lambda: 1)()
    if parsed.index is not None and parsed.index >= count:
        raise CommandError(f"--device {device}: this machine has {count} {parsed.type} device(s)")


def _check_output(output: str, *, resume: bool | None) -> None:
    if not output or not output.strip():
        raise CommandError("--output is empty: name the folder for the checkpoints")
    folder = Path(output).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"--output {output}: exists and is not a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"--output {output}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise CommandError(f"--output {output}: cannot write in {existing} ({exc.strerror or exc})") from None
    if resume is None:
        return
    last = folder / "last.pt"
    if resume and not last.is_file():
        raise CommandError(f"--resume: no checkpoint {last} to continue from")
    if not resume and last.exists():
        raise CommandError(f"{last} exists: pass --resume to continue it, or choose another --output")


def _check_names(args: argparse.Namespace) -> None:
    if args.command == "fetch":
        sources = FETCH_SOURCES[args.dataset]
    else:
        sources = MD17_SOURCES if args.dataset == "md17" else QM9_SOURCES
    if args.source is not None and args.source not in sources:
        raise CommandError(
            f"--source {args.source!r}: unknown {args.dataset} source; choose one of {', '.join(sources)}"
        )
    if args.dataset == "md17":
        source = args.source or ("md17" if args.command == "fetch" else "bundled")
        if args.molecule not in molecules_for(source):
            raise CommandError(
                f"--molecule {args.molecule!r}: unknown molecule for source {source!r}; "
                f"known: {', '.join(molecules_for(source))}"
            )
        if getattr(args, "target", None) not in (None, "energy"):
            raise CommandError(f"--target {args.target!r}: MD-17 has one target, 'energy' (with forces)")
    elif getattr(args, "target", None) is not None and args.target not in QM9_TARGET_NAMES:
        raise CommandError(f"--target {args.target!r}: unknown QM9 target; known: {', '.join(QM9_TARGET_NAMES)}")


def _check_user_data(args: argparse.Namespace) -> None:
    if getattr(args, "data", None) is None:
        return
    if not Path(args.data).is_file():
        raise CommandError(f"--data {args.data}: no such file")
    if args.energy_unit is None:
        raise CommandError("--data needs --energy-unit (eV, meV, kcal/mol or Hartree): no file format records it")
    fractions = args.split_fractions
    if fractions is not None and (any(not 0.0 <= f <= 1.0 for f in fractions) or sum(fractions) > 1.0 + 1e-9):
        raise CommandError(
            f"--split-fractions {' '.join(map(str, fractions))}: need fractions in [0, 1] adding up to at most 1"
        )


def validate_arguments(args: argparse.Namespace) -> None:
    """Check every argument of ``args`` before any data is loaded; raise :class:`CommandError` (one line) if one is bad."""
    _positive(args, "threads", "batch_size", "time_budget")
    _check_device(getattr(args, "device", None))
    if args.command == "train":
        _positive(args, "epochs", "n_train", "lr_init", "lr_final", *MODEL_OPTIONS[:2])
        _positive(args, "n_valid", "n_test", "force_weight", "maxl", "max_sh", "split_seed", zero=True)
        if args.lr_final > args.lr_init:
            raise CommandError(f"--lr-final {args.lr_final} is above --lr-init {args.lr_init}: the schedule decreases")
        _check_names(args)
        _check_user_data(args)
        trains_on_forces = args.force_weight is not None and args.force_weight > 0
        if args.compile and (
            trains_on_forces or (args.force_weight is None and args.data is None and args.dataset == "md17")
        ):
            raise CommandError(
                "--compile trains on energies only (PyTorch cannot compile the force loss's double "
                "backward): add --force-weight 0"
            )
        _check_output(args.output, resume=args.resume)
    elif args.command == "evaluate":
        if not Path(args.checkpoint).is_file():
            raise CommandError(f"no checkpoint at {args.checkpoint}")
    elif args.command == "demo":
        if args.output is not None:
            _check_output(args.output, resume=None)
    elif args.command == "fetch":
        _check_names(args)
        if args.dataset == "qm9" and args.sha256 is not None:
            raise CommandError("--sha256: QM9 files are verified against their published checksums already")
        if args.sha256 is not None and (
            len(args.sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in args.sha256)
        ):
            raise CommandError(f"--sha256 {args.sha256!r}: must be 64 hexadecimal digits")


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) if len(lines) <= 3 else str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    from ._threads import set_passive_wait_policy

    set_passive_wait_policy()  # before torch is imported: its OpenMP reads the variable once
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        validate_arguments(args)
    except CommandError as exc:
        command = next(
            (a for a in (argv if argv is not None else sys.argv[1:]) if a in ("train", "evaluate", "demo", "fetch")),
            None,
        )
        print(f"cormorant-lab{' ' + command if command else ''}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from .data import ChecksumError, DataFormatError, DownloadError
    from .train import CheckpointError, NonFiniteLossError, TaskError

    try:
        return args.func(args)
    except (
        CommandError,
        TaskError,
        CheckpointError,
        FileNotFoundError,
        DataFormatError,
        ChecksumError,
        DownloadError,
    ) as exc:
        print(f"cormorant-lab {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except NonFiniteLossError as exc:
        print(f"cormorant-lab {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
