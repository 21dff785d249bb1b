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
    colorscale=None,
    figure=None,
    row: int | None = None,
    col: int | None = None,
):
    r"""Draw real ``values`` ``(n_theta, n_phi)`` sampled at ``points`` ``(n_theta, n_phi, 3)`` (from :func:`sphere_grid`).

    ``radial=True`` draws the classic lobe picture, the surface :math:`|f(\hat r)|\,\hat r` coloured by the sign
    and size of :math:`f`; ``radial=False`` colours the unit sphere. The colour scale is symmetric about 0 and follows
    the project's sign convention (red > 0, blue < 0: :data:`cormorant_lab.viz.DIVERGING_COLORSCALE`) unless
    ``colorscale`` is given. The x, y, z axes are drawn and labelled, so that e.g. p_x and p_y can be told apart.
    Returns a new ``plotly.graph_objects.Figure`` (``size`` pixels square), or adds the surface to ``figure`` at
    ``row``, ``col`` (a ``make_subplots`` figure with ``"scene"`` cells) and returns it.

    Raises:
        ValueError: if ``values`` is complex (plot its ``.real``, ``.imag`` or ``.abs()``) or shapes disagree.
    """
    import plotly.graph_objects as go  # an optional dependency: pip install 'cormorant_lab[notebooks]'

    from ..viz import DIVERGING_COLORSCALE

    colorscale = DIVERGING_COLORSCALE if colorscale is None else colorscale

    if values.is_complex():
        raise ValueError("values are complex: plot values.real, values.imag or values.abs()")
    if points.shape[-1:] != (3,) or values.shape != points.shape[:-1]:
        raise ValueError(
            f"values must have shape points.shape[:-1]; got {tuple(values.shape)} and {tuple(points.shape)}"
        )
    f = values.detach().to("cpu", torch.float64)
    p = points.detach().to("cpu", torch.float64)
    xyz = p * f.abs().unsqueeze(-1) if radial else p
    bound = float(f.abs().max()) or 1.0
    # float32 is plenty for drawing and halves the size of the figure stored in the notebook
    xyz, f32 = xyz.to(torch.float32).numpy(), f.to(torch.float32).numpy()
    surface = go.Surface(
        x=xyz[..., 0],
        y=xyz[..., 1],
        z=xyz[..., 2],
        surfacecolor=f32,
        colorscale=colorscale,
        cmin=-bound,
        cmax=bound,
        showscale=False,
    )
    axes = {
        f"{name}axis": dict(
            title=dict(text=name),
            showticklabels=False,
            showbackground=False,
            zeroline=True,
            zerolinecolor="#888",
            showgrid=False,
        )
        for name in "xyz"
    }
    if figure is None:
        figure = go.Figure(surface)
        figure.update_layout(
            width=size,
            height=size,
            margin=dict(l=0, r=0, t=50 if title else 0, b=0),
            title=dict(text=title, y=0.97, yanchor="top") if title else None,
            scene=dict(**axes, aspectmode="data"),
        )
        return figure
    figure.add_trace(surface, row=row, col=col)
    figure.update_scenes(**axes, aspectmode="data")
    return figure


#: The Cartesian form of the real harmonics for l ≤ 2 (up to normalisation), in the package's order m = -l … l
REAL_HARMONIC_NAMES = {0: ["1"], 1: ["y", "z", "x"], 2: ["xy", "yz", "3z²−r²", "xz", "x²−y²"]}


def harmonics_figure(max_l: int = 2, n_theta: int = 31, n_phi: int = 61, *, cell: int = 170):
    r"""The real harmonics :math:`Y_{l,m}` for ``l ≤ max_l`` (≤ 2): one row per l, m = −l … l from left to right.

    Each panel is titled with its (l, m) and Cartesian form (``l=1, m=-1: y``), shows labelled x, y, z axes, and uses
    the sign convention (red > 0, blue < 0). Returns a plotly ``Figure``.
    """
    from plotly.subplots import make_subplots

    from ..so3 import spherical_harmonics_all

    if not 0 <= max_l <= 2:
        raise ValueError(f"harmonics_figure draws l ≤ 2 (it names their Cartesian forms); got max_l={max_l}")
    _, _, grid = sphere_grid(n_theta, n_phi)
    width = 2 * max_l + 1
    specs = [[{"type": "scene"} if abs(col - max_l) <= l else None for col in range(width)] for l in range(max_l + 1)]
    titles = [f"l={l}, m={m}: {REAL_HARMONIC_NAMES[l][m + l]}" for l in range(max_l + 1) for m in range(-l, l + 1)]
    figure = make_subplots(
        rows=max_l + 1, cols=width, specs=specs, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.06
    )
    for l, yl in enumerate(spherical_harmonics_all(max_l, grid, basis="real")):
        for m in range(-l, l + 1):
            plot_on_sphere(yl[..., m + l], grid, figure=figure, row=l + 1, col=m + max_l + 1)
    figure.update_layout(
        width=cell * width,
        height=cell * (max_l + 1) + 70,
        margin=dict(l=0, r=0, t=70, b=0),
        title=dict(text="real spherical harmonics Y<sub>l,m</sub>: red > 0, blue < 0", y=0.99, yanchor="top"),
    )
    return figure
