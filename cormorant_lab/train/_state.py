"""``TrainState``: where a training run is, in plain types, so that ``last.pt`` loads with ``weights_only=True``.

Everything an exact resume needs besides the model, the optimizer and the random generators: the position in
the data (``epoch``, ``batch_in_epoch``), the step counters of the cosine schedule, the partial sums of the
current epoch's losses, the best validation result and the per-epoch history. Ints, floats, lists and dicts of
floats only: a checkpoint holding them needs no unpickling of Python objects (see ``_checkpoint``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class TrainState:
    """The trainer's position and record.

    Attributes:
        epoch: completed passes over the training set.
        batch_in_epoch: batches of the current epoch already trained on (the resume position in the data).
        step: optimizer updates so far.
        total_steps: horizon of the cosine schedule (``epochs × batches per epoch``, or fewer under a time budget).
        elapsed: seconds of training so far (wall clock, across resumes).
        epoch_sums: running sums of (total, energy, force) losses over the current epoch's steps.
        epoch_steps: steps in those sums.
        best_metric: best validation loss so far (``inf`` before the first validation).
        best_epoch: epoch of ``best_metric`` (-1: none).
        history: one dict of floats per epoch (train loss, validation metrics).
    """

    epoch: int = 0
    batch_in_epoch: int = 0
    step: int = 0
    total_steps: int = 0
    elapsed: float = 0.0
    epoch_sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    epoch_steps: int = 0
    best_metric: float = math.inf
    best_epoch: int = -1
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "checkpoint") -> TrainState:
        """Rebuild from :meth:`to_dict` (or a checkpoint holding its keys); a missing or mistyped entry raises
        ``ValueError`` naming it."""
        out = {}
        for f in fields(cls):
            if f.name not in values:
                raise ValueError(f"{source}: the training state lacks {f.name!r}")
            value = values[f.name]
            if f.name in ("elapsed", "best_metric"):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            elif f.name == "epoch_sums":
                ok = (
                    isinstance(value, (list, tuple))
                    and len(value) == 3
                    and all(isinstance(v, (int, float)) for v in value)
                )
                value = [float(v) for v in value] if ok else value
            elif f.name == "history":
                ok = isinstance(value, list) and all(isinstance(h, dict) for h in value)
                value = [dict(h) for h in value] if ok else value
            else:
                ok = (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and value >= (-1 if f.name == "best_epoch" else 0)
                )
            if not ok:
                raise ValueError(f"{source}: training state {f.name!r} = {value!r} has the wrong type or sign")
            out[f.name] = value
        return cls(**out)
