"""``TrainConfig``: the paper's training recipe as defaults (Anderson, Hy & Kondor 2019, §6 and the reference code).

* optimizer: AMSGrad (Adam with the AMSGrad correction), no weight decay;
* learning rate: 1e-3 → 1e-5 on a cosine schedule stepped every minibatch (closed form, see :func:`cosine_lr`);
* batch size 25; loss: mean squared error on standardized targets (see ``_standardize``);
* energy-only training as in the paper (``force_weight=0``), or energy + forces (``force_weight > 0``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass
class TrainConfig:
    """How to train. Every field is JSON-serializable and saved in the checkpoints.

    Attributes:
        epochs: passes over the training set (the cosine schedule spans ``epochs × batches per epoch`` steps).
        batch_size: global minibatch (split evenly over processes under torch.distributed).
        lr_init, lr_final: ends of the cosine learning-rate schedule.
        amsgrad: AMSGrad (the paper) or plain Adam.
        energy_weight, force_weight: loss = w_E · MSE(E / σ_E) + w_F · MSE(F / σ_F); ``force_weight=0`` trains on
            energies only (no second derivatives, about 2× faster).
        seed: seeds the model initialisation (when the trainer builds it), the shuffling and every RNG; the same
            seed on a CPU gives the same run bit for bit.
        device: ``"cuda"``, ``"cpu"``, ``"cuda:1"``...; None picks CUDA when available.
        dtype: ``"float32"`` or ``"float64"``.
        time_budget: seconds of training (None: no limit). The schedule's horizon is shortened to the steps that
            fit, measured on the first ``calibration_steps`` steps, so the learning rate still reaches ``lr_final``.
        log_every: steps between progress updates, finiteness checks and ``"log"`` callbacks (each costs a sync).
        eval_batch_size: batch size for validation and test.
        progress: show a tqdm.auto progress bar (terminals and notebooks).
        num_workers: DataLoader worker processes.
        compile: run the model's forward pass compiled (``torch.compile(fullgraph=True)``, see
            :meth:`~cormorant_lab.train.Trainer`); energy-only training and evaluation. Training on forces
            differentiates the backward pass, which PyTorch's compiled graphs do not support: an error.
    """

    epochs: int = 256
    batch_size: int = 25
    lr_init: float = 1e-3
    lr_final: float = 1e-5
    amsgrad: bool = True
    energy_weight: float = 1.0
    force_weight: float = 0.0
    seed: int = 0
    device: str | None = None
    dtype: str = "float32"
    time_budget: float | None = None
    calibration_steps: int = 5
    log_every: int = 10
    eval_batch_size: int = 100
    progress: bool = True
    num_workers: int = 0
    compile: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("epochs, batch_size and eval_batch_size must be at least 1")
        if not 0 < self.lr_final <= self.lr_init:
            raise ValueError(f"need 0 < lr_final <= lr_init, got {self.lr_final} and {self.lr_init}")
        if self.energy_weight < 0 or self.force_weight < 0 or self.energy_weight + self.force_weight == 0:
            raise ValueError("energy_weight and force_weight must be non-negative and not both 0")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ValueError(f"time_budget must be positive seconds, got {self.time_budget}")
        if self.compile and self.force_weight > 0:
            raise ValueError(
                "compile=True cannot train on forces (force_weight > 0): the force loss differentiates the backward "
                "pass, and PyTorch's compiled graphs do not support double backward; train eagerly, or on energies only"
            )
        if self.log_every < 1 or self.calibration_steps < 1:
            raise ValueError("log_every and calibration_steps must be at least 1")

    @property
    def uses_forces(self) -> bool:
        return self.force_weight > 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Rebuild from :meth:`to_dict`; unknown keys raise (a checkpoint from another version says so)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}")
        return cls(**values)


def cosine_lr(step: int, total_steps: int, lr_init: float, lr_final: float) -> float:
    r"""The learning rate at minibatch ``step`` of ``total_steps``:
    :math:`\eta_t = \eta_f + \tfrac12(\eta_0 - \eta_f)(1 + \cos(\pi t / T))`, held at :math:`\eta_f` after T."""
    progress = min(step / max(total_steps, 1), 1.0)
    return lr_final + 0.5 * (lr_init - lr_final) * (1.0 + math.cos(math.pi * progress))
