r"""Heat maps with the project's conventions: signed matrices in red/blue, rows read top to bottom.

* :func:`signed_heatmap` draws a real matrix :math:`A_{ij}` (a Clebsch–Gordan block, a Wigner matrix
  :math:`D^l(R)`) with :data:`~cormorant_lab.viz.DIVERGING_COLORSCALE` (red > 0, blue < 0) on a range symmetric about 0,
  row ``i = 0`` at the **top**, as the matrix is written on paper.
* :func:`covariance_heatmap` draws a checker's report, :math:`\log_{10}\varepsilon^s_l` per level ``s`` (rows, in
  forward-pass order from the top: ``input``, ``edge_1``, ``atom_1``, …) and degree ``l`` (columns). The
  rotation explorer and notebook 04 both use it, so the two pictures read the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ._colors import DIVERGING_COLORSCALE

#: errors below this are drawn as this (exact zeros have no logarithm)
ERROR_FLOOR = 1e-17


def signed_heatmap(
    matrix: Any,
    *,
    x: list[str] | None = None,
    y: list[str] | None = None,
    bound: float | None = None,
    showscale: bool = True,
) -> go.Heatmap:
    """A heat-map trace of the real ``matrix`` (rows, cols); colour range ±``bound`` (default: the largest |entry|).

    Put it in a figure whose y axis has ``autorange="reversed"`` (as :func:`signed_heatmap_figure` does) so row 0 is on top.
    """
    if np.iscomplexobj(matrix) or getattr(matrix, "is_complex", lambda: False)():
        raise ValueError("signed_heatmap draws real matrices; pass .real, .imag or .abs()")
    z = np.asarray(matrix, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"signed_heatmap needs a matrix (rows, cols), got shape {z.shape}")
    bound = float(bound) if bound is not None else (float(np.abs(z).max()) or 1.0)
    return go.Heatmap(
        z=z, x=x, y=y, colorscale=DIVERGING_COLORSCALE, zmin=-bound, zmax=bound, zmid=0.0, showscale=showscale
    )


def signed_heatmap_figure(
    matrix: Any,
    *,
    x: list[str] | None = None,
    y: list[str] | None = None,
    bound: float | None = None,
    title: str | None = None,
    width: int = 420,
    height: int = 400,
) -> go.Figure:
    """A figure of :func:`signed_heatmap` with row 0 at the top and square cells."""
    figure = go.Figure(signed_heatmap(matrix, x=x, y=y, bound=bound))
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(title=title, width=width, height=height, margin=dict(l=60, r=20, t=50 if title else 20, b=40))
    return figure


def _log_table(report) -> tuple[list[str], list[list[float | None]], int]:
    errors = report.covariance_errors  # name -> list of errors per l, in forward-pass order
    width = max((len(v) for v in errors.values()), default=0)
    z = [[math.log10(max(float(e), ERROR_FLOOR)) for e in v] + [None] * (width - len(v)) for v in errors.values()]
    return list(errors), z, width


def covariance_heatmap_trace(report, *, showscale: bool = True, colorbar: dict | None = None) -> go.Heatmap:
    """The heat-map trace of :func:`covariance_heatmap` (rows: levels in forward-pass order; columns: l)."""
    names, z, width = _log_table(report)
    return go.Heatmap(
        z=z,
        x=[f"l={l}" for l in range(width)],
        y=names,
        zmin=-17,
        zmax=0,
        colorscale="Viridis",
        texttemplate="%{z:.0f}",
        showscale=showscale,
        name="log10 error",
        colorbar=colorbar if colorbar is not None else dict(title="log₁₀ ε"),
    )


def covariance_heatmap(
    report,
    title: str | None = "covariance error per level × l (log₁₀)",
    *,
    figure: go.Figure | None = None,
    row: int | None = None,
    col: int | None = None,
    showscale: bool = True,
) -> go.Figure:
    r"""``log10`` of the checker's :math:`\varepsilon^s_l`, levels top to bottom in forward-pass order.

    ``report`` is a :class:`~cormorant_lab.checks.CovarianceReport`. With ``figure`` (a ``make_subplots`` figure) the
    trace goes to cell ``row``, ``col``; the y axis of that cell is reversed so the first level is on top.
    """
    trace = covariance_heatmap_trace(report, showscale=showscale)
    if figure is None:
        figure = go.Figure(trace)
        figure.update_layout(
            title=title, width=460, height=140 + 28 * len(trace.y), margin=dict(l=10, r=10, t=50 if title else 20, b=10)
        )
        figure.update_yaxes(autorange="reversed")
        return figure
    figure.add_trace(trace, row=row, col=col)
    figure.update_yaxes(autorange="reversed", row=row, col=col)
    return figure
