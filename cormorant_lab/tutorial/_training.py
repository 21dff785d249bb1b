r"""Training inside a notebook: a thread count that holds up on a busy machine, and a clean stop on interrupt.

* :func:`notebook_threads` — one intra-op thread on a CPU. Molecule-sized tensors gain little from more, and on a
  machine whose cores are busy (a laptop running a browser, a CI runner) extra threads wait on each other and a step
  can take many times longer. It applies the package-wide policy, :func:`cormorant_lab.train.configure_threads`.
* :func:`train` — ``trainer.fit()`` that a learner may stop with *Kernel › Interrupt*: the weights learned so far stay
  in the model (the best-on-validation ones when an epoch has been validated), nothing indexes an empty history, and
  the returned :class:`NotebookTraining` says what happened in a sentence. Running the cell again continues where it
  stopped (``resume``), because the trainer keeps its state.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch


def notebook_threads(device: torch.device | str | None = None, threads: int = 1) -> int:
    """The package's thread policy (:func:`cormorant_lab.train.configure_threads`) for a CPU ``device`` (default:
    the CPU): ``threads`` intra-op threads and a passive OpenMP wait policy; returns the count in effect."""
    from ..train import configure_threads

    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cpu":
        return configure_threads(threads)
    return torch.get_num_threads()


@dataclass
class NotebookTraining:
    """What a notebook training run did: the trainer's result (None if interrupted before it returned)."""

    stop_reason: str  # "completed", "time budget" or "interrupted"
    steps: int
    epochs: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    restored_best: bool = False
    result: Any = None

    @property
    def interrupted(self) -> bool:
        return self.stop_reason == "interrupted"

    def train_losses(self) -> tuple[float, float] | None:
        """(first epoch, last epoch) mean training loss, or None when no epoch finished."""
        losses = [h["train_loss"] for h in self.history if "train_loss" in h and math.isfinite(h["train_loss"])]
        return (losses[0], losses[-1]) if losses else None

    def summary(self) -> str:
        text = f"{self.stop_reason}: {self.steps} steps, {self.epochs} epochs in {self.seconds:.0f} s"
        losses = self.train_losses()
        if losses:
            text += f"; training loss {losses[0]:.3g} (first epoch) → {losses[1]:.3g} (last)"
        else:
            text += "; no epoch finished yet"
        if self.interrupted:
            text += (
                ". Stopped by you: the model keeps what it learned"
                + (" (the best weights on the validation set)" if self.restored_best else " (its current weights)")
                + ". Run the cell again to continue training."
            )
        return text


def train(trainer, *, restore_best: bool = True) -> NotebookTraining:
    """Run ``trainer.fit()`` (continuing from where a previous call stopped); never raises on Kernel › Interrupt.

    After the run the model holds the best-on-validation weights when ``restore_best`` and a ``best.pt`` exists, else
    the weights of the last step. Returns a :class:`NotebookTraining`.
    """
    started = time.perf_counter()
    resume = trainer.state.step > 0 and trainer.last_path is not None and trainer.last_path.exists()
    result = None
    try:
        result = trainer.fit(resume=resume)
        reason = result.stop_reason
    except KeyboardInterrupt:  # an interrupt that landed outside the trainer's own handler (e.g. in a callback)
        reason = "interrupted"
    restored = bool(restore_best and trainer.restore_best())
    history = list(result.history) if result is not None else list(trainer.state.history)
    return NotebookTraining(
        reason,
        int(trainer.state.step),
        int(trainer.state.epoch),
        time.perf_counter() - started,
        history,
        restored,
        result,
    )
