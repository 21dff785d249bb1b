import math

import pytest
import torch

from cormorant_lab.so3 import spherical_harmonics
from cormorant_lab.tutorial import plot_on_sphere, sphere_grid


def test_sphere_grid_is_on_the_unit_sphere_with_the_package_angles():
    theta, phi, points = sphere_grid(5, 9)
    assert theta.shape == phi.shape == (5, 9) and points.shape == (5, 9, 3)
    assert torch.allclose(points.norm(dim=-1), torch.ones(5, 9, dtype=torch.float64), atol=1e-15)
    assert torch.allclose(points[0, :, 2], torch.ones(9, dtype=torch.float64))  # theta = 0 is +z
    assert torch.allclose(points[2, 0], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-15)  # phi = 0 is +x
    # Y_1^0 = sqrt(3/4pi) cos(theta) on the grid: the grid's theta is the package's polar angle.
    y10 = spherical_harmonics(1, points, basis="complex")[..., 1].real
    assert torch.allclose(y10, math.sqrt(3 / (4 * math.pi)) * theta.cos(), atol=1e-14)


def test_sphere_grid_follows_dtype_and_rejects_tiny_grids():
    assert sphere_grid(3, 3, dtype=torch.float32)[2].dtype == torch.float32
    with pytest.raises(ValueError):
        sphere_grid(1, 4)


def test_plot_on_sphere_returns_a_small_figure():
    pytest.importorskip("plotly")
    _, _, points = sphere_grid(6, 11)
    values = spherical_harmonics(2, points, basis="real")[..., 0]
    figure = plot_on_sphere(values, points, title="Y_2,-2")
    assert len(figure.data) == 1 and figure.layout.width == 320
    radius = (figure.data[0].x ** 2 + figure.data[0].y ** 2 + figure.data[0].z ** 2) ** 0.5
    assert (
        abs(radius.max() - float(values.abs().max())) < 1e-6
    )  # drawn in float32  # radial=True: the lobe radius is |f|


def test_plot_on_sphere_adds_to_subplots_and_rejects_complex_values():
    pytest.importorskip("plotly")
    from plotly.subplots import make_subplots

    _, _, points = sphere_grid(6, 11)
    figure = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "scene"}]])
    for col in (1, 2):
        plot_on_sphere(points[..., 2], points, radial=False, figure=figure, row=1, col=col)
    assert len(figure.data) == 2
    with pytest.raises(ValueError, match="complex"):
        plot_on_sphere(spherical_harmonics(1, points, basis="complex"), points)
    with pytest.raises(ValueError, match="shape"):
        plot_on_sphere(points[..., 0][:, :5], points)


def test_harmonics_figure_labels_every_panel_and_keeps_its_title():
    import pytest

    pytest.importorskip("plotly")
    from cormorant_lab.tutorial import harmonics_figure

    figure = harmonics_figure(2, 7, 13)
    titles = [a.text for a in figure.layout.annotations]
    assert titles[:4] == ["l=0, m=0: 1", "l=1, m=-1: y", "l=1, m=0: z", "l=1, m=1: x"] and len(titles) == 9
    # p_y and p_x are told apart by their axes: each panel labels x, y, z
    scenes = [figure.layout[name] for name in figure.layout if name.startswith("scene")]
    assert len(scenes) == 9 and all(scene.xaxis.title.text == "x" and scene.zaxis.title.text == "z" for scene in scenes)
    assert figure.layout.margin.t >= 50 and "red > 0" in figure.layout.title.text
    # panel (l=1, m=1) really is the harmonic along x: its largest value sits at +x
    surface = figure.data[3]
    values = surface.surfacecolor
    i, j = divmod(int(values.argmax()), values.shape[1])
    assert surface.x[i][j] > 0.9 * abs(surface.x).max()
    with pytest.raises(ValueError, match="l ≤ 2"):
        harmonics_figure(3)
