"""A live training plot: a plotly ``FigureWidget`` fed by the trainer's callback, throttled so it never slows training.

``plot = TrainingPlot()`` is a plain callable taking either

* a :class:`~cormorant_lab.train.TrainEvent` (pass ``callbacks=[plot]`` to the ``Trainer``): ``"step"`` events give
  the loss curve (the loss tensor is kept as it is and read once per redraw, so no per-step device sync),
  ``"epoch"`` events their numeric ``metrics`` (``train_loss``, ``valid_loss``, validation MAEs...), ``"end"``
  forces a redraw; ``"log"`` events repeat the step losses and are ignored;
* or a mapping ``{"epoch": int, "step": int, "loss": float, **metrics}`` (any other numbers become curves, other
  entries are ignored; ``"final": True`` forces a redraw), for a hand-written loop.

Every event is recorded (:attr:`TrainingPlot.history`, filled at each redraw); the figure is redrawn at most once
every ``min_interval`` seconds (and on :meth:`TrainingPlot.flush`), in one batched update. The first event is drawn
at once, as a marker (a line of one point would be invisible).

Quantities of different units never share an axis when ``panels`` is given: the losses (standardised, no unit) go to
the top panel, and each metric whose name contains a key of ``panels`` to a panel of its own, its y axis titled with the
value, e.g. ``panels={"energy": "energy error (kcal/mol)", "forces": "force error (kcal/mol/Å)"}``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import plotly.graph_objects as go
import torch

RESERVED = ("epoch", "step", "final")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TrainingPlot:
    """``plot = TrainingPlot(); Trainer(..., callbacks=[plot]).fit()`` with ``plot`` displayed — see the module docstring.

    Args:
        min_interval: seconds between redraws (0 redraws at every event).
        x: ``"step"`` or ``"epoch"``, the horizontal axis.
        log_y: logarithmic vertical axis (losses of many orders of magnitude).
        clock: a monotonic clock in seconds (replaceable in tests).
    """

    def __init__(
        self,
        *,
        min_interval: float = 0.5,
        x: str = "step",
        log_y: bool = True,
        title: str = "training",
        clock: Callable[[], float] = time.monotonic,
        panels: Mapping[str, str] | None = None,
    ):
        if x not in ("step", "epoch"):
            raise ValueError(f"x must be 'step' or 'epoch', got {x!r}")
        self.min_interval, self.x, self.clock = float(min_interval), x, clock
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.redraws = 0
        self._pending: list[tuple[str, float, float | torch.Tensor]] = []
        self._last_draw = -math.inf
        self.panels = dict(panels or {})
        axis_type = "log" if log_y else "linear"
        if not self.panels:
            self.figure = go.FigureWidget(
                layout=dict(
                    title=title,
                    width=640,
                    height=360,
                    margin=dict(l=60, r=20, t=40, b=40),
                    xaxis=dict(title=x),
                    yaxis=dict(type=axis_type),
                )
            )
            return
        from plotly.subplots import make_subplots

        rows = 1 + len(self.panels)
        figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08)
        figure.update_layout(
            title=dict(text=title, x=0.12),
            width=680,
            height=220 + 170 * (rows - 1),
            margin=dict(l=95, r=20, t=50, b=40),
        )
        figure.update_yaxes(type=axis_type)
        figure.update_yaxes(title_text="loss (standardised, no unit)", row=1, col=1)
        for row, axis_title in enumerate(self.panels.values(), start=2):
            figure.update_yaxes(title_text=axis_title, row=row, col=1)
        figure.update_xaxes(title_text=x, row=rows, col=1)
        self.figure = go.FigureWidget(figure)

    def _row(self, name: str) -> int | None:
        """The panel of curve ``name``: 1 for losses and unmatched names, else the first panel whose key it contains."""
        if not self.panels or "loss" in name:
            return 1 if self.panels else None
        for row, key in enumerate(self.panels, start=2):
            if key in name:
                return row
        return 1

    def __call__(self, event: Any) -> None:
        """Record one event; redraw if ``min_interval`` has passed since the last redraw, or at the end."""
        final = self._record(event) if not isinstance(event, Mapping) else self._record_mapping(event)
        if final or self.clock() - self._last_draw >= self.min_interval:
            self.flush()

    def _record_mapping(self, event: Mapping) -> bool:
        if "loss" not in event or self.x not in event:
            raise KeyError(f"a training event needs '{self.x}' and 'loss', got keys {sorted(event)}")
        x = float(event[self.x])
        self._pending += [
            (name, x, value) for name, value in event.items() if name not in RESERVED and _is_number(value)
        ]
        return bool(event.get("final"))

    def _record(self, event: Any) -> bool:
        """A :class:`~cormorant_lab.train.TrainEvent` (anything with ``kind``, ``epoch``, ``step``, ``loss``, ``metrics``)."""
        x = float(getattr(event, self.x))
        if event.kind == "step" and event.loss is not None:
            loss = event.loss.detach() if isinstance(event.loss, torch.Tensor) else float(event.loss)
            self._pending.append(("loss", x, loss))
        elif event.kind == "epoch":
            self._pending += [
                (name, x, float(v)) for name, v in event.metrics.items() if name not in RESERVED and _is_number(v)
            ]
        return event.kind == "end"

    def flush(self) -> None:
        """Move the recorded events into :attr:`history` and redraw now (nothing to do if nothing is new)."""
        if not self._pending:
            return
        tensors = [value for _, _, value in self._pending if isinstance(value, torch.Tensor)]
        as_floats = iter(
            torch.stack([t.reshape(()).to("cpu", torch.float64) for t in tensors]).tolist() if tensors else []
        )
        for name, x, value in self._pending:  # one device sync for all pending losses
            self.history.setdefault(name, []).append((x, next(as_floats) if isinstance(value, torch.Tensor) else value))
        self._pending.clear()
        traces = {trace.name: trace for trace in self.figure.data}
        with self.figure.batch_update():
            for name, points in self.history.items():
                if name not in traces:
                    row = self._row(name)
                    where = dict(row=row, col=1) if row is not None else {}
                    self.figure.add_scatter(
                        x=[],
                        y=[],
                        mode="lines+markers",
                        name=name,
                        marker=dict(size=3 if name == "loss" else 6),
                        **where,
                    )
                    traces[name] = self.figure.data[-1]
                traces[name].x, traces[name].y = [p[0] for p in points], [p[1] for p in points]
        self.redraws += 1
        self._last_draw = self.clock()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.figure)
