"""The pictures' conventions: one sign colour convention, heat-map rows top to bottom, l = 1 arrows that can be seen."""

import json
import re
from pathlib import Path

import pytest
import torch

from cormorant_lab import viz
from cormorant_lab.checks import check_covariance
from cormorant_lab.data import load_md17
from cormorant_lab.nn import Cormorant
from cormorant_lab.so3 import spherical_harmonics
from cormorant_lab.tutorial import plot_on_sphere, sphere_grid

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css))


def test_one_sign_convention_red_positive():
    scale = viz.DIVERGING_COLORSCALE
    low, mid, high = (_rgb(colour) for _, colour in scale)
    assert high[0] > high[2] and low[2] > low[0] and mid == (255, 255, 255)  # red top, blue bottom, white middle
    assert viz.diverging_color(1.0) == "#{:02x}{:02x}{:02x}".format(*high)  # the 3D spheres use the same ends
    assert viz.diverging_color(-1.0) == "#{:02x}{:02x}{:02x}".format(*low)
    assert "red > 0" in viz.SIGN_CONVENTION


def test_sphere_plots_use_the_convention():
    _, _, grid = sphere_grid(5, 9)
    figure = plot_on_sphere(spherical_harmonics(0, grid, basis="real")[..., 0], grid)
    surface = figure.data[0]
    assert [tuple(stop) for stop in surface.colorscale] == [tuple(stop) for stop in viz.DIVERGING_COLORSCALE]
    assert surface.cmin == -surface.cmax and float(surface.surfacecolor.max()) > 0  # Y00 > 0 → red


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_name_no_builtin_diverging_scale(path):
    """plotly's RdBu draws positive values blue; the notebooks use the package's scale instead."""
    source = "".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
    assert not re.search(r"colorscale\s*=\s*[\"'](RdBu|RdBu_r|Bluered|Picnic|Portland|balance)", source), path.name


def test_signed_heatmap_rows_top_down_symmetric_range():
    figure = viz.signed_heatmap_figure([[1.0, -2.0], [0.5, 0.0]], y=["first", "second"])
    assert figure.layout.yaxis.autorange == "reversed" and figure.data[0].zmin == -2.0 and figure.data[0].zmax == 2.0
    with pytest.raises(ValueError, match="matrix"):
        viz.signed_heatmap([1.0, 2.0])
    with pytest.raises(ValueError, match="real"):
        viz.signed_heatmap(torch.eye(2, dtype=torch.complex128))


def test_covariance_heat_maps_read_the_same_way(small_model, molecule):
    positions, charges = molecule
    report = check_covariance(small_model, positions[None], charges[None], n_rotations=1)
    figure = viz.covariance_heatmap(report)
    assert list(figure.data[0].y) == list(report.covariance_errors)  # forward-pass order ...
    assert list(figure.data[0].y)[0] == "input" and figure.layout.yaxis.autorange == "reversed"  # ... first on top
    explorer = viz.RotationExplorer(small_model, positions, charges=charges, level="atom_1", js="cdn")
    explorer.set_angles(10, 20, 30)
    heat = next(trace for trace in explorer.figure.data if trace.type == "heatmap")
    assert list(heat.y) == list(figure.data[0].y) and explorer.figure.layout.yaxis3.autorange == "reversed"


def _notebook07_scene():
    """Notebook 07's default picture: ethanol, atom level 1, channel 0 of an md17 model (3 levels, 6 channels)."""
    torch.manual_seed(0)
    model = Cormorant.from_preset("md17", dtype=torch.float64, num_cg_levels=3, num_channels=6).eval()
    dataset, _ = load_md17("ethanol")
    positions, charges = viz.as_molecule(dataset[0])
    features = viz.atom_features(model, positions, charges, level="atom_1", channel=0)
    return viz.feature_scene(positions, charges, features)


def test_l1_arrows_are_visible_beside_the_bonds():
    scene = _notebook07_scene()
    lengths = scene.arrows.norm(dim=-1)
    visible = viz.arrow_visible_lengths(scene)
    long = lengths >= 0.5 * scene.arrow_length
    assert long.sum() >= 3
    bond_lengths = torch.stack(
        [(scene.positions[i] - scene.positions[j]).norm() for i, j in viz.bonds(scene.positions, scene.charges)]
    )
    # every long arrow shows at least 0.4 Å (a third of a bond) of itself; together, a third of all arrow length
    assert float(visible[long].min()) >= max(0.4, float(bond_lengths.mean()) / 3), visible
    assert float(visible.sum() / lengths.sum()) >= 0.3
    # the old drawing (0.06 Å arrows inside 0.12 Å sticks) hid the H arrows along their bonds: the measure sees that
    hidden = viz.arrow_visible_lengths(scene, arrow_radius=0.06, stick_radius=0.12)
    assert float(hidden[long].min()) < 0.2


def test_bonds_of_ethanol():
    dataset, _ = load_md17("ethanol")
    positions, charges = viz.as_molecule(dataset[0])
    pairs = viz.bonds(positions, charges)
    assert len(pairs) == 8 and all(i < j for i, j in pairs)  # C–C, C–O, O–H and five C–H


def test_molecule_figure_draws_every_bond():
    dataset, _ = load_md17("ethanol")
    positions, charges = viz.as_molecule(dataset[0])
    figure = viz.molecule_figure(positions, charges)
    lines, atoms = figure.data
    assert len(atoms.x) == 9 and list(lines.x).count(None) == len(viz.bonds(positions, charges)) == 8
    assert figure.layout.scene.aspectmode == "data"
    with pytest.raises(ValueError, match="positions"):
        viz.molecule_figure(positions[:3], charges)


def test_level_diagram_names_every_piece_of_the_level():
    figure = viz.level_diagram(2)
    text = " ".join(a.text for a in figure.layout.annotations)
    for piece in ("g<sup>2</sup>", "F<sup>1</sup>", "CG square", "CG message", "W<sup>2</sup>", "Y<sub>l</sub>", "𝒩"):
        assert piece in text, piece
    arrows = [a for a in figure.layout.annotations if a.showarrow]
    assert len(arrows) == 16
