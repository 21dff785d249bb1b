"""Training and evaluation: the paper's recipe on CPU, GPU or many GPUs, exact resume, the paper's units, ASE.

Quick start (a notebook or a script; the command line ``cormorant-lab train`` runs the same code)::

    from cormorant_lab.nn import Cormorant
    from cormorant_lab.train import Trainer, TrainConfig, load_task, seed_everything

    task = load_task("md17", molecule="ethanol", n_train=1000)       # bundled data, no network
    seed_everything(0); model = Cormorant.from_preset("md17")
    trainer = Trainer(model, task.train, task.valid, TrainConfig(epochs=20, force_weight=1.0),
                      target=task.target, units=task.units, output_dir="runs/ethanol")
    trainer.fit()                                # Ctrl-C saves; fit(resume=True) continues exactly
    print(trainer.evaluate(task.test))           # MAE/RMSE in kcal/mol and kcal/mol/Å

Modules: ``_config`` (recipe), ``_trainer`` (loop), ``_metrics`` (units), ``_checkpoint`` (atomic files),
``_distributed`` (torchrun/DDP), ``_standardize`` (target statistics), ``_tasks`` (datasets by name),
``_load`` (restoring models), ``_calculator`` (ASE), ``_state`` (the typed training state), ``_signals`` (SIGTERM);
``configure_threads`` is the CPU thread policy (``cormorant_lab._threads``).
"""

from .._threads import configure_threads
from ._calculator import EV_PER_UNIT, CormorantCalculator, predict
from ._checkpoint import CheckpointError, read_checkpoint, save_atomic, seed_everything
from ._config import TrainConfig, cosine_lr
from ._distributed import DistInfo, finish_distributed, in_process_group, init_distributed
from ._load import load_model, save_model
from ._metrics import TargetUnits, format_metrics
from ._standardize import Standardization, fit_standardization
from ._state import TrainState
from ._tasks import Task, TaskError, fetch_command, load_task
from ._trainer import NonFiniteLossError, Trainer, TrainEvent, TrainResult, evaluate_model, resolve_device

__all__ = [
    "EV_PER_UNIT",
    "CheckpointError",
    "CormorantCalculator",
    "DistInfo",
    "NonFiniteLossError",
    "Standardization",
    "TargetUnits",
    "Task",
    "TaskError",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainState",
    "Trainer",
    "configure_threads",
    "cosine_lr",
    "evaluate_model",
    "fetch_command",
    "finish_distributed",
    "fit_standardization",
    "format_metrics",
    "in_process_group",
    "init_distributed",
    "load_model",
    "load_task",
    "predict",
    "read_checkpoint",
    "resolve_device",
    "save_atomic",
    "save_model",
    "seed_everything",
]
