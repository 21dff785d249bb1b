r"""Figures of the training notebooks whose axes must be right: learning curves on log–log axes.

plotly's ``add_hline`` places its *annotation* on a log axis at :math:`10^{y}` instead of :math:`y` (a 1e-12 line is
labelled at y ≈ 1; a 100 meV line at 1e100 stretches the axis to it and flattens the data). The helpers here draw
reference lines as ordinary traces (data coordinates on every axis type) and set the log range explicitly from the
data, so a figure's axes always frame what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go


def log_range(values: Sequence[float], *, pad: float = 0.15) -> list[float]:
    """The ``[log10 low, log10 high]`` range of a log axis that frames the positive ``values`` with ``pad`` decades."""
    positive = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    if not positive:
        raise ValueError("a log axis needs at least one positive finite value")
    low, high = math.log10(min(positive)), math.log10(max(positive))
    return [low - pad, high + pad]


def reference_line(
    y: float, x_range: Sequence[float], text: str, *, color: str = "gray", dash: str = "dash"
) -> go.Scatter:
    """A horizontal line at ``y`` over ``x_range`` as a trace, labelled ``text`` at its right end (safe on log axes)."""
    x0, x1 = float(x_range[0]), float(x_range[-1])
    return go.Scatter(
        x=[x0, x1],
        y=[float(y), float(y)],
        mode="lines+text",
        text=["", text],
        textposition="top left",
        line=dict(color=color, dash=dash),
        name=text,
        hoverinfo="name+y",
        showlegend=False,
    )


def power_law_slope(n: Sequence[float], mae: Sequence[float]) -> float:
    r"""β of the least-squares fit :math:`\log \mathrm{MAE} = \log a - \beta \log n` (NaN with fewer than two points)."""
    n, mae = np.asarray(n, dtype=float), np.asarray(mae, dtype=float)
    if len(n) < 2:
        return float("nan")
    return float(-np.polyfit(np.log(n), np.log(mae), 1)[0])


def learning_curve_figure(
    n: Sequence[float],
    mae: Sequence[float],
    *,
    unit: str,
    target: str,
    references: dict[str, float] | None = None,
    width: int = 600,
    height: int = 380,
) -> go.Figure:
    """Test MAE against training-set size on log–log axes, with horizontal ``references`` (label → value).

    The y range frames the curve and the references (and nothing else); the title gives the fitted slope β.
    """
    references = dict(references or {})
    slope = power_law_slope(n, mae)
    x_span = [min(n) / 1.3, max(n) * 1.3]
    figure = go.Figure(go.Scatter(x=list(n), y=list(mae), mode="lines+markers", name="cormorant_lab"))
    for text, value in references.items():
        figure.add_trace(reference_line(value, x_span, text))
    figure.update_layout(
        title=f"learning curve of {target}: slope β ≈ {slope:.2f}"
        if math.isfinite(slope)
        else f"learning curve of {target}",
        xaxis=dict(type="log", title="training molecules n", range=[math.log10(x_span[0]), math.log10(x_span[1])]),
        yaxis=dict(type="log", title=f"test MAE ({unit})", range=log_range([*mae, *references.values()])),
        width=width,
        height=height,
        margin=dict(l=70, r=20, t=50, b=50),
        showlegend=False,
    )
    return figure


def covariance_bar_chart(
    results: dict[str, Sequence[float]], *, tolerance: float, floor: float = 1e-17, width: int = 720, height: int = 360
) -> go.Figure:
    """Grouped bars of the relative covariance error of each operation (``results``: name → error per l), log axis,
    with the ``tolerance`` as a labelled reference line; errors below ``floor`` are drawn at ``floor``."""
    names = list(results)
    degrees = max(len(v) for v in results.values())
    figure = go.Figure(
        [
            go.Bar(
                name=f"l = {l}",
                x=names,
                y=[max(errors[l], floor) if l < len(errors) else None for errors in results.values()],
            )
            for l in range(degrees)
        ]
    )
    figure.add_trace(
        go.Scatter(
            x=[names[0], names[-1]],
            y=[tolerance, tolerance],
            mode="lines+text",
            text=["", f"float64 tolerance {tolerance:g}"],
            textposition="top left",
            line=dict(color="black", dash="dot"),
            showlegend=False,
            name="tolerance",
        )
    )
    values = [max(e, floor) for errors in results.values() for e in errors] + [tolerance]
    figure.update_layout(
        barmode="group",
        width=width,
        height=height,
        margin=dict(l=70, r=10, t=30, b=10),
        yaxis=dict(type="log", title="relative covariance error", range=log_range(values, pad=0.5)),
    )
    return figure
