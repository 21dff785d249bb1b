r"""Functions on the unit sphere, sampled on a (θ, φ) grid and drawn with plotly.

Angles follow :mod:`cormorant_lab.so3`: :math:`\theta \in [0, \pi]` the polar angle from +z,
:math:`\varphi \in [0, 2\pi]` the azimuth from +x, so a grid point is
:math:`(\sin\theta\cos\varphi, \sin\theta\sin\varphi, \cos\theta)`. The φ grid includes both 0 and 2π so that a
surface drawn from it closes.
"""

from __future__ import annotations

import math

import torch


def sphere_grid(
    n_theta: int = 41, n_phi: int = 81, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""A regular (θ, φ) grid on the unit sphere: ``theta (n_theta, n_phi)``, ``phi (n_theta, n_phi)``, ``points (n_theta, n_phi, 3)``.

    θ runs over ``[0, π]`` and φ over ``[0, 2π]``, endpoints included (the poles and the seam appear twice:
    harmless for plotting, wrong for integrating — use it to draw, not to integrate).
    """
    if n_theta < 2 or n_phi < 2:
        raise ValueError(f"need n_theta >= 2 and n_phi >= 2, got {n_theta} and {n_phi}")
    theta_1d = torch.linspace(0, math.pi, n_theta, dtype=dtype, device=device)
    phi_1d = torch.linspace(0, 2 * math.pi, n_phi, dtype=dtype, device=device)
    theta, phi = torch.meshgrid(theta_1d, phi_1d, indexing="ij")
    points = torch.stack([theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos()], dim=-1)
    return theta, phi, points


def plot_on_sphere(
    values: torch.Tensor,
    points: torch.Tensor,
    *,
    radial: bool = True,
    title: str | None = None,
    size: int = 320,
    colorscale: str = "RdBu",
    figure=None,
    row: int | None = None,
    col: int | None = None,
):
    r"""Draw real ``values`` ``(n_theta, n_phi)`` sampled at ``points`` ``(n_theta, n_phi, 3)`` (from :func:`sphere_grid`).

    ``radial=True`` draws the classic lobe picture, the surface :math:`|f(\hat r)|\,\hat r` coloured by the sign
    and size of :math:`f`; ``radial=False`` colours the unit sphere. The colour scale is symmetric about 0.
    Returns a new ``plotly.graph_objects.Figure`` (``size`` pixels square), or adds the surface to ``figure`` at
    ``row``, ``col`` (a ``make_subplots`` figure with ``"scene"`` cells) and returns it.

    Raises:
        ValueError: if ``values`` is complex (plot its ``.real``, ``.imag`` or ``.abs()``) or shapes disagree.
    """
    import plotly.graph_objects as go  # an optional dependency: pip install 'cormorant_lab[notebooks]'

    if values.is_complex():
        raise ValueError("values are complex: plot values.real, values.imag or values.abs()")
    if points.shape[-1:] != (3,) or values.shape != points.shape[:-1]:
        raise ValueError(f"values must have shape points.shape[:-1]; got {tuple(values.shape)} and {tuple(points.shape)}")
    f = values.detach().to("cpu", torch.float64)
    p = points.detach().to("cpu", torch.float64)
    xyz = p * f.abs().unsqueeze(-1) if radial else p
    bound = float(f.abs().max()) or 1.0
    # float32 is plenty for drawing and halves the size of the figure stored in the notebook
    xyz, f32 = xyz.to(torch.float32).numpy(), f.to(torch.float32).numpy()
    surface = go.Surface(
        x=xyz[..., 0], y=xyz[..., 1], z=xyz[..., 2], surfacecolor=f32,
        colorscale=colorscale, cmin=-bound, cmax=bound, showscale=False,
    )
    axis = dict(visible=False)
    if figure is None:
        figure = go.Figure(surface)
        figure.update_layout(
            width=size, height=size, margin=dict(l=0, r=0, t=30 if title else 0, b=0), title=title,
            scene=dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="data"),
        )
        return figure
    figure.add_trace(surface, row=row, col=col)
    figure.update_scenes(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="data")
    return figure
