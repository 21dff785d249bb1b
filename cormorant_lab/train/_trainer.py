"""The training loop: the paper's recipe (see ``_config``) on CPU, one GPU or many (DDP), with exact resume.

One :class:`Trainer` serves the command line and notebooks::

    model = Cormorant.from_preset("md17")
    trainer = Trainer(model, task.train, task.valid, TrainConfig(epochs=10, force_weight=1.0), output_dir="runs/x")
    result = trainer.fit()                  # or fit(resume=True) to continue from runs/x/last.pt
    trainer.evaluate(task.test)             # {"energy_mae": ..., "forces_mae": ...} in the paper's units

Per minibatch: cosine learning rate, loss on standardized targets, AMSGrad step. Per epoch: validation in the
paper's units, ``best.pt`` when the validation loss improves, ``last.pt`` always (atomic writes). A non-finite loss
raises :class:`NonFiniteLossError` and leaves the last good checkpoint; Ctrl-C and SIGTERM save ``last.pt`` and return.
The only host syncs in the step loop happen every ``log_every`` steps (progress, finiteness check).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data import MoleculeDataset, batch_to, collate_molecules
from ._checkpoint import (
    FORMAT,
    CheckpointError,
    read_checkpoint,
    rng_state,
    save_atomic,
    seed_everything,
    set_rng_state,
)
from ._config import TrainConfig, cosine_lr
from ._distributed import DistInfo, all_reduce_sum, barrier, current, epoch_order, shard
from ._metrics import ErrorAccumulator, TargetUnits, format_metrics
from ._signals import terminate_as_interrupt
from ._standardize import Standardization, apply_standardization, fit_standardization
from ._state import TrainState

# Fields a resumed run may change: they do not alter the sequence of updates (or only extend it: epochs).
_RESUMABLE_CHANGES = {
    "epochs",
    "time_budget",
    "device",
    "progress",
    "log_every",
    "num_workers",
    "eval_batch_size",
    "compile",
}


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message names the last good checkpoint."""


@dataclass
class TrainEvent:
    """What a callback receives. ``kind``: ``"step"`` (after every update; ``loss`` is a device tensor, do not sync
    in a hot loop), ``"log"`` (every ``log_every`` steps; ``loss`` a float), ``"epoch"`` (after validation and
    checkpoints; ``metrics`` holds ``train_loss`` and the validation metrics) or ``"end"``."""

    kind: str
    epoch: int
    step: int
    lr: float
    loss: torch.Tensor | float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


Callback = Callable[[TrainEvent], None]


@dataclass
class TrainResult:
    """``stop_reason``: ``"completed"``, ``"time budget"`` or ``"interrupted"``; ``history``: one dict per epoch."""

    stop_reason: str
    epoch: int
    step: int
    best_metric: float
    best_epoch: int
    history: list[dict[str, float]]
    output_dir: Path | None


def resolve_device(device: str | torch.device | None, info: DistInfo | None = None) -> torch.device:
    """``device`` as given, else CUDA (this process's GPU under torchrun) when available, else the CPU."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda", (info or current()).local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def _compile(model: nn.Module, datasets: dict[str, MoleculeDataset | None]) -> None:
    """Compile ``model``'s forward pass in place (``nn.Module.compile``, ``fullgraph=True``).

    The per-forward charge check needs a host synchronisation, which a compiled graph cannot hold: the charges of
    the datasets are checked once here instead (a ``ValueError`` names the dataset, molecule and charge), and the
    model's check is switched off.
    """
    species = getattr(model, "_species", None)
    if species is not None:
        known = species.cpu()
        for name, dataset in datasets.items():
            for i in range(len(dataset) if dataset is not None else 0):
                charges = torch.as_tensor(dataset[i]["charges"])
                unknown = charges[~torch.isin(charges, known) & (charges != 0)]
                if unknown.numel():
                    raise ValueError(
                        f"{name}: molecule {i} has charge {int(unknown[0])}, which the model's species {known.tolist()} lack"
                    )
        model.validate_inputs = False
    model.compile(fullgraph=True)


class _DeviceBatches:
    """A dataset collated once into padded tensors on ``device`` (floats in ``dtype``); batches are selections there."""

    def __init__(self, dataset: MoleculeDataset, device: torch.device, dtype: torch.dtype):
        collated = collate_molecules([dataset[i] for i in range(len(dataset))])
        self.n_atoms = collated["n_atoms"].numpy()  # on the host: each batch's width without a device sync
        # collate_molecules pads exactly the values of dimension >= 1 (per-atom ones), and adds atom_mask
        self.per_atom = {"atom_mask"} | {
            key for key, value in dataset[0].items() if isinstance(value, torch.Tensor) and value.dim() >= 1
        }
        self.tensors = {
            key: value for key, value in batch_to(collated, device, dtype).items() if isinstance(value, torch.Tensor)
        }
        self.device = device

    def batches(self, order: list[int], size: int, skip: int):
        on_device = torch.as_tensor(order, dtype=torch.int64).to(self.device)
        for start in range(skip * size, len(order), size):
            index = on_device[start : start + size]
            width = int(self.n_atoms[order[start : start + size]].max())
            yield {
                key: value[index, :width] if key in self.per_atom else value[index]
                for key, value in self.tensors.items()
            }


class _Loss(nn.Module):
    r"""``w_E · mean((E - Ê)² / σ_E²) + w_F · mean over real atoms and axes of ((F - F̂)² / σ_F²)`` → (3,) tensor
    (total, energy part, force part). A module so that DDP sees the whole forward, forces included."""

    def __init__(self, model: nn.Module, target: str, config: TrainConfig, stats: Standardization):
        super().__init__()
        self.model, self.target = model, target
        self.energy_weight, self.force_weight = config.energy_weight, config.force_weight
        self.std, self.force_rms = stats.std, stats.force_rms or 1.0

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        positions, charges = batch["positions"], batch["charges"]
        if self.force_weight > 0:
            energy, forces = self.model.energy_and_forces(positions, charges, create_graph=True)
            mask = batch["atom_mask"].unsqueeze(-1).to(forces.dtype)
            force_loss = (((forces - batch["forces"]) * mask) ** 2).sum() / (3 * mask.sum()) / self.force_rms**2
        else:
            energy = self.model(positions, charges)
            force_loss = energy.new_zeros(())
        energy_loss = ((energy - batch[self.target]) ** 2).mean() / self.std**2
        total = self.energy_weight * energy_loss + self.force_weight * force_loss
        return torch.stack([total, energy_loss, force_loss])


class Trainer:
    """Train ``model`` on ``train_set`` for ``target``, validating on ``valid_set``; see the module docstring.

    Args:
        model: a single-target :class:`~cormorant_lab.nn.Cormorant` (moved to the config's device and dtype).
        train_set, valid_set: datasets whose items hold ``target`` (and ``forces`` when training on forces).
        config: the recipe; :class:`TrainConfig` defaults are the paper's.
        target: the dataset key to learn (``"energy"`` for MD-17, ``"U0"``... for QM9).
        units: how to report the target (default: its own unit, forces per Å).
        output_dir: where ``last.pt`` and ``best.pt`` go (None: no checkpoints).
        callbacks: called with every :class:`TrainEvent`.
        standardize: fit the target statistics on ``train_set`` and write them into the model (fresh runs).
        per_species_reference: also fit per-species reference energies (extensive targets over varied molecules).
        metadata: stored in the checkpoints (the task description, for ``evaluate`` and the ASE calculator).
    """

    def __init__(
        self,
        model: nn.Module,
        train_set: MoleculeDataset,
        valid_set: MoleculeDataset | None = None,
        config: TrainConfig | None = None,
        *,
        target: str = "energy",
        units: TargetUnits | None = None,
        output_dir: str | Path | None = None,
        callbacks: Iterable[Callback] = (),
        standardize: bool = True,
        per_species_reference: bool = False,
        metadata: dict[str, Any] | None = None,
    ):
        self.config = config or TrainConfig()
        self.info = current()
        self.device = resolve_device(self.config.device, self.info)
        self.dtype = getattr(torch, self.config.dtype)
        self.model = model.to(device=self.device, dtype=self.dtype)
        self.train_set, self.valid_set, self.target = train_set, valid_set, target
        self._check_dataset(train_set, "train_set")
        self.units = units or TargetUnits(target, "", "", 1.0, force_unit="per Å" if self.config.uses_forces else None)
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.callbacks = list(callbacks)
        if self.config.batch_size % self.info.world_size:
            raise ValueError(
                f"batch_size {self.config.batch_size} must be divisible by the {self.info.world_size} processes"
            )
        self.stats = fit_standardization(
            train_set, target, model.species, per_species=per_species_reference, forces=self.config.uses_forces
        )
        if standardize:
            apply_standardization(self.model, self.stats)
        self.metadata = {
            **(metadata or {}),
            "target": target,
            "units": self.units.to_dict(),
            "standardization": vars(self.stats),
        }
        self.model.metadata = self.metadata  # what a checkpoint restores, so the ASE calculator works on this model too
        if self.config.compile:
            _compile(self.model, {"train_set": train_set, "valid_set": valid_set})
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr_init, amsgrad=self.config.amsgrad)
        loss = _Loss(self.model, target, self.config, self.stats)
        self.loss = (
            DistributedDataParallel(loss, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if self.info.enabled
            else loss
        )
        self.per_process_batch = self.config.batch_size // self.info.world_size
        self.batches_per_epoch = math.ceil(
            len(epoch_order(len(train_set), 0, self.config.seed, self.info)) / self.per_process_batch
        )
        self.state = TrainState(total_steps=self.config.epochs * self.batches_per_epoch)

    # --- public ---------------------------------------------------------------------------------------------
    @property
    def last_path(self) -> Path | None:
        return self.output_dir / "last.pt" if self.output_dir is not None else None

    @property
    def best_path(self) -> Path | None:
        return self.output_dir / "best.pt" if self.output_dir is not None else None

    def fit(self, resume: bool = False) -> TrainResult:
        """Train until the epochs are done or the time budget is spent; ``resume`` continues from ``last.pt``."""
        if resume and self.last_path is not None and self.last_path.exists():
            self.load_state(self.last_path)
        elif self.state.step == 0:
            seed_everything(self.config.seed)
        started = time.perf_counter() - self.state.elapsed
        reason = "completed"
        bar = tqdm(
            total=self.state.total_steps,
            initial=self.state.step,
            desc="training",
            unit="step",
            disable=not (self.config.progress and self.info.is_main),
            leave=False,
        )
        try:
            with terminate_as_interrupt():  # SIGTERM (schedulers, docker stop) saves like Ctrl-C
                reason = self._run(started, bar)
        except KeyboardInterrupt:
            self.state.elapsed = time.perf_counter() - started
            self.save_last()
            reason = "interrupted"
            if self.info.is_main:
                where = (
                    f"; saved {self.last_path}: fit(resume=True) continues from it (command line: --resume)"
                    if self.last_path
                    else ""
                )
                tqdm.write(f"interrupted at epoch {self.state.epoch}, step {self.state.step}{where}")
        finally:
            bar.close()
        self._emit(TrainEvent("end", self.state.epoch, self.state.step, self._lr()))
        return TrainResult(
            reason,
            self.state.epoch,
            self.state.step,
            self.state.best_metric,
            self.state.best_epoch,
            list(self.state.history),
            self.output_dir,
        )

    def restore_best(self) -> bool:
        """Load the best-on-validation weights (``best.pt``) into ``self.model``; False if there is none yet."""
        if self.best_path is None or not self.best_path.exists():
            return False
        self.model.load_state_dict(read_checkpoint(self.best_path, self.device)["model_state"])
        return True

    def evaluate(self, dataset: MoleculeDataset, forces: bool | None = None) -> dict[str, float]:
        """MAE and RMSE of the target (and forces) on ``dataset``, in the reported units; over every process."""
        forces = self.config.uses_forces if forces is None else forces
        return evaluate_model(
            self.model,
            dataset,
            self.target,
            self.units,
            forces=forces,
            batch_size=self.config.eval_batch_size,
            dtype=self.dtype,
            info=self.info,
        )

    # --- the loop -------------------------------------------------------------------------------------------
    def _run(self, started: float, bar) -> str:
        config, state = self.config, self.state
        first_step, run_start = state.step, time.perf_counter()
        while state.epoch < config.epochs:
            if state.step >= state.total_steps:
                return "time budget"  # the horizon was shortened to fit the budget and ended on an epoch boundary
            # the loss sums of a partly done epoch come back from the checkpoint (exact history on resume)
            running = torch.tensor(state.epoch_sums, dtype=torch.float64, device=self.device)
            n_steps = state.epoch_steps
            self._running = running
            for batch in self._loader(state.epoch, state.batch_in_epoch):
                if state.step >= state.total_steps:
                    break
                parts = self._train_step(batch)
                running += parts.detach().to(torch.float64)
                n_steps = state.epoch_steps = n_steps + 1
                self._emit(TrainEvent("step", state.epoch, state.step, self._lr(), parts[0].detach()))
                if state.step % config.log_every == 0:
                    self._log(parts, bar)
                if config.time_budget and state.step - first_step == config.calibration_steps:
                    self._calibrate(started, run_start, first_step, bar)
                if config.time_budget and time.perf_counter() - started > config.time_budget:
                    self._end_epoch(running, n_steps, started, finished=False)
                    return "time budget"
            finished = state.batch_in_epoch >= self.batches_per_epoch
            self._end_epoch(running, n_steps, started, finished=finished)
            if not finished:
                return "time budget"  # the shortened horizon ended inside this epoch
            if config.time_budget:
                self._calibrate(started, run_start, first_step, bar)
        return "completed"

    def _train_step(self, batch: dict[str, Any]) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        self.model.train()
        parts = self.loss(batch_to(batch, self.device, self.dtype))
        self.optimizer.zero_grad(set_to_none=True)
        parts[0].backward()
        self.optimizer.step()
        self.state.step += 1
        self.state.batch_in_epoch += 1
        return parts

    def _end_epoch(self, running: torch.Tensor, n_steps: int, started: float, finished: bool) -> None:
        state = self.state
        sums = all_reduce_sum(running.clone()) / self.info.world_size
        mean = (sums / max(n_steps, 1)).tolist()
        if not all(math.isfinite(v) for v in mean):
            self._non_finite(mean[0])
        metrics = {"epoch": state.epoch + int(finished), "step": state.step, "train_loss": mean[0]}
        if self.valid_set is not None and len(self.valid_set):
            valid = self.evaluate(self.valid_set)
            metrics.update({f"valid_{k}": v for k, v in valid.items()})
            criterion = self._criterion(valid)
            metrics["valid_loss"] = criterion
            if criterion < state.best_metric:
                state.best_metric, state.best_epoch = criterion, metrics["epoch"]
                self._save_best(metrics)
        if finished:
            state.epoch += 1
            state.batch_in_epoch = state.epoch_steps = 0
            state.epoch_sums = [0.0, 0.0, 0.0]
        state.history.append(metrics)
        state.elapsed = time.perf_counter() - started
        self.save_last()
        self._emit(TrainEvent("epoch", metrics["epoch"], state.step, self._lr(), mean[0], metrics))
        if self.info.is_main and self.config.progress:
            tqdm.write(
                f"epoch {metrics['epoch']}: train loss {mean[0]:.4g}"
                + (
                    f"; valid {format_metrics({k[6:]: v for k, v in metrics.items() if k.startswith('valid_')}, self.units)}"
                    if "valid_loss" in metrics
                    else ""
                )
            )

    def _criterion(self, valid: dict[str, float]) -> float:
        """The validation loss in the training loss's standardized units (from the RMSEs)."""
        energy = (valid[f"{self.target}_rmse"] / self.units.scale / self.stats.std) ** 2
        forces = (
            (valid["forces_rmse"] / self.units.scale / (self.stats.force_rms or 1.0)) ** 2
            if "forces_rmse" in valid
            else 0.0
        )
        return self.config.energy_weight * energy + self.config.force_weight * forces

    def _log(self, parts: torch.Tensor, bar) -> None:
        loss = float(parts[0].detach())  # the throttled sync
        if not math.isfinite(loss):
            self._non_finite(loss)
        bar.update(self.state.step - bar.n)
        bar.set_postfix(loss=f"{loss:.4g}", lr=f"{self._lr():.2e}", epoch=self.state.epoch)
        self._emit(TrainEvent("log", self.state.epoch, self.state.step, self._lr(), loss))

    def _calibrate(self, started: float, run_start: float, first_step: int, bar) -> None:
        """Shorten the cosine horizon to the steps that fit in what is left of the time budget, at the rate measured
        so far in this run (validation and checkpoints included), so the learning rate still reaches ``lr_final``."""
        now = time.perf_counter()
        seconds_per_step = (now - run_start) / max(self.state.step - first_step, 1)
        remaining = self.config.time_budget - (now - started)
        fit = self.state.step + int(remaining / max(seconds_per_step, 1e-9))
        configured = self.config.epochs * self.batches_per_epoch
        self.state.total_steps = max(self.state.step + 1, min(configured, fit))
        bar.total = self.state.total_steps
        bar.refresh()

    def _non_finite(self, loss: float) -> None:
        good = (
            f"the last good checkpoint is {self.last_path}"
            if self.last_path and self.last_path.exists()
            else "no checkpoint was written"
        )
        raise NonFiniteLossError(
            f"training loss became {loss} at epoch {self.state.epoch}, step {self.state.step}: training stopped, "
            f"{good}. Try a lower learning rate (lr_init), float64, or check the data for outliers."
        )

    def _lr(self) -> float:
        c = self.config
        return cosine_lr(self.state.step, self.state.total_steps, c.lr_init, c.lr_final)

    def _emit(self, event: TrainEvent) -> None:
        for callback in self.callbacks:
            callback(event)

    def _loader(self, epoch: int, skip: int):
        """This process's batches of ``epoch`` from batch ``skip`` on (the resume position), already on the device.

        The training set is collated once onto the device (:class:`_DeviceBatches`); each batch is then an index
        selection there, trimmed to its largest molecule — the very tensors ``collate_molecules`` would pad — so a
        step transfers nothing from the host (the epoch's order goes over once per epoch).
        """
        order = epoch_order(len(self.train_set), epoch, self.config.seed, self.info)
        if getattr(self, "_device_batches", None) is None:
            self._device_batches = _DeviceBatches(self.train_set, self.device, self.dtype)
        return self._device_batches.batches(order, self.per_process_batch, skip)

    def _check_dataset(self, dataset: MoleculeDataset, name: str) -> None:
        if self.target not in dataset.target_names:
            raise ValueError(f"{name} has no target {self.target!r}; it has {dataset.target_names}")
        if self.config.uses_forces and "forces" not in dataset.atom_property_names:
            raise ValueError(f"force_weight > 0 but {name} has no forces")

    # --- checkpoints ----------------------------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model_config": self.model.config,
            "model_state": self.model.state_dict(),
            "metadata": self.metadata,
        }

    def save_last(self) -> None:
        """Write ``last.pt``: model, optimizer, RNG states, position and history (rank 0; atomic)."""
        if getattr(self, "_running", None) is not None and self.state.epoch_steps:
            self.state.epoch_sums = self._running.tolist()
        if self.last_path is not None and self.info.is_main:
            save_atomic(
                {
                    **self._payload(),
                    "train_config": self.config.to_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "rng": rng_state(),
                    **self.state.to_dict(),
                },
                self.last_path,
            )
        barrier()

    def _save_best(self, metrics: dict[str, float]) -> None:
        if self.best_path is not None and self.info.is_main:
            save_atomic({**self._payload(), "valid_metrics": metrics}, self.best_path)

    def load_state(self, path: str | Path) -> None:
        """Restore everything :meth:`save_last` wrote; the model and recipe must match this trainer's."""
        payload = read_checkpoint(path, map_location=self.device)
        if payload.get("model_config") != self.model.config:
            raise CheckpointError(
                f"{path} holds a model with another configuration:\n  checkpoint: {payload.get('model_config')}\n"
                f"  this run:   {self.model.config}\nuse another output folder, or the checkpoint's options"
            )
        if "optimizer" not in payload:
            raise CheckpointError(f"{path} holds a model only (no training state); resume needs a last.pt")
        saved = payload.get("train_config")
        if not isinstance(saved, dict) or not isinstance(saved.get("epochs"), int):
            raise CheckpointError(f"{path} holds no valid train_config; it was not written by the trainer")
        changed = sorted(
            k for k, v in self.config.to_dict().items() if saved.get(k) != v and k not in _RESUMABLE_CHANGES
        )
        if changed:
            raise CheckpointError(
                f"{path} was trained with other settings of {changed}: "
                + ", ".join(f"{k}={saved.get(k)!r}" for k in changed)
            )
        data_changes = _data_changes(payload.get("metadata"), self.metadata)
        if data_changes:
            raise CheckpointError(
                f"{path} was trained on other data; resume continues the same task, data and split only:\n  "
                + "\n  ".join(data_changes)
                + "\nuse another output folder, or the checkpoint's options"
            )
        try:
            self.model.load_state_dict(payload["model_state"])
            self.optimizer.load_state_dict(payload["optimizer"])
            set_rng_state(payload["rng"])
            self.state = TrainState.from_dict(payload, source=str(path))
        except (KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError) as exc:
            raise CheckpointError(
                f"{path}: the training state cannot be restored ({type(exc).__name__}: {exc})"
            ) from exc
        if saved["epochs"] != self.config.epochs:
            self.state.total_steps = self.config.epochs * self.batches_per_epoch


def _data_changes(saved: Any, current: dict[str, Any]) -> list[str]:
    """What differs between a checkpoint's task and this run's: the task (dataset, molecule or target, source, split
    sizes and seed) and the target; without a recorded task, the statistics of the training targets (other training
    data change them)."""
    saved = saved if isinstance(saved, dict) else {}
    changes = []
    saved_task, task = saved.get("task") or {}, current.get("task") or {}
    if isinstance(saved_task, dict) and (saved_task or task):
        for key in sorted(set(saved_task) | set(task)):
            if saved_task.get(key) != task.get(key):
                changes.append(f"{key}: checkpoint {saved_task.get(key)!r}, this run {task.get(key)!r}")
    if saved.get("target") != current.get("target"):
        changes.append(f"target: checkpoint {saved.get('target')!r}, this run {current.get('target')!r}")
    no_task = not saved_task and not task  # e.g. a notebook's Trainer: the fitted statistics stand for the data
    if no_task and not changes and saved.get("standardization") != current.get("standardization"):
        changes.append(
            f"training-target statistics: checkpoint {saved.get('standardization')}, this run {current.get('standardization')}"
        )
    return changes


def evaluate_model(
    model: nn.Module,
    dataset: MoleculeDataset,
    target: str,
    units: TargetUnits,
    *,
    forces: bool = False,
    batch_size: int = 100,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
    info: DistInfo | None = None,
) -> dict[str, float]:
    """``{target}_mae``, ``{target}_rmse`` (and ``forces_mae``, ``forces_rmse``) of ``model`` on ``dataset``, in
    ``units.reported_unit`` (forces in ``units.force_unit``); each process evaluates its shard."""
    info = info or current()
    reference = next(model.parameters())
    device, dtype = device or reference.device, dtype or reference.dtype
    indices = shard(len(dataset), info)
    batches = [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    energy_errors, force_errors = ErrorAccumulator(device), ErrorAccumulator(device)
    was_training = model.training
    model.eval()
    try:
        for batch in DataLoader(dataset, batch_sampler=batches, collate_fn=collate_molecules):
            target_values = batch[target].to(
                device=device, dtype=torch.float64
            )  # kept in float64: MD-17 totals are ~1e4
            batch = batch_to(batch, device, dtype)
            if forces:
                energy, predicted = model.energy_and_forces(batch["positions"], batch["charges"], create_graph=False)
                force_errors.add((predicted.detach() - batch["forces"])[batch["atom_mask"]])
            else:
                with torch.no_grad():
                    energy = model(batch["positions"], batch["charges"])
            energy_errors.add(energy.detach().to(torch.float64) - target_values)
    finally:
        model.train(was_training)
    mae, rmse = energy_errors.result(units.scale)
    metrics = {f"{target}_mae": mae, f"{target}_rmse": rmse}
    if forces:
        metrics["forces_mae"], metrics["forces_rmse"] = force_errors.result(units.scale)
    return metrics
