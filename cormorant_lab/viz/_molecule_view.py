r"""Render a :class:`FeatureScene` with py3Dmol (3Dmol.js): the molecule, its feature glyphs, a legend and a scale.

The molecule is drawn as sticks with small element-coloured atoms; l = 0 as translucent spheres on the
blue–white–red scale, l = 1 as green arrows, l = 2 as purple ellipsoids (triangle meshes, ``addCustom``), and a
1 Å scale bar beside the molecule. The legend under the viewer says which level and channel are shown and what
the glyph sizes mean (:class:`~cormorant_lab.viz.GlyphScales`).

The same list of 3Dmol.js calls (:func:`scene_commands`) builds the first view through py3Dmol and later updates
it in place (:meth:`MoleculeView.update_script`, used by the rotation explorer), with the camera kept fixed so a
rotation of the molecule is seen as one. :meth:`MoleculeView.html` is the HTML of a notebook output and
:meth:`MoleculeView.write_html` a standalone page; both load 3Dmol.js as :mod:`~cormorant_lab.viz` is set to
(inline for offline use, see :func:`~cormorant_lab.viz.threedmol_js_url`).
"""

from __future__ import annotations

import html as html_lib
import json
import os
from pathlib import Path
from typing import Any

import py3Dmol
import torch

from ._features import atom_features, one_thread
from ._glyphs import ellipsoid_mesh
from ._molecule import as_molecule, xyz_block
from ._offline import threedmol_js_url
from ._scene import NEGATIVE, POSITIVE, ZERO, FeatureScene, GlyphScales, diverging_color, feature_scene

ARROW_COLOR, ELLIPSOID_COLOR, SCALE_BAR_COLOR = "#1a9850", "#7b3294", "#333333"
Command = tuple[str, list[Any]]

# Sizes in Å. An l = 1 arrow often lies along a bond (an H atom's arrow along its C–H bond), so its shaft is thicker
# than a stick: it is seen as a green sleeve around the bond instead of disappearing inside it.
STICK_RADIUS, ATOM_SCALE = 0.07, 0.2  # sticks; atoms drawn at ATOM_SCALE × their van der Waals radius
ARROW_RADIUS, ARROW_HEAD_RATIO = 0.13, 1.9  # shaft radius; head radius / shaft radius
#: van der Waals radii (Å) as 3Dmol.js draws them (its ``vdwRadii`` table), for the elements of QM9 and MD-17
VDW_RADIUS = {1: 1.2, 6: 1.7, 7: 1.55, 8: 1.52, 9: 1.47, 15: 1.8, 16: 1.8, 17: 1.75}


def _point(p: torch.Tensor) -> dict[str, float]:
    x, y, z = (round(v, 4) for v in p.tolist())  # 0.1 mÅ: far below a pixel, and a quarter of the JSON
    return {"x": x, "y": y, "z": z}


def _points(points: torch.Tensor) -> list[dict[str, float]]:
    return [{"x": x, "y": y, "z": z} for x, y, z in points.double().round(decimals=4).tolist()]


def _sphere_commands(scene: FeatureScene) -> list[Command]:
    if scene.sphere_radii is None:
        return []
    return [
        ("addSphere", [{"center": _point(p), "radius": float(r), "color": diverging_color(v), "opacity": 0.55}])
        for p, r, v in zip(scene.positions, scene.sphere_radii, scene.sphere_values, strict=False)
    ]


def _arrow_commands(scene: FeatureScene) -> list[Command]:
    if scene.arrows is None:
        return []
    return [
        (
            "addArrow",
            [
                {
                    "start": _point(p),
                    "end": _point(p + a),
                    "radius": ARROW_RADIUS,
                    "radiusRatio": ARROW_HEAD_RATIO,
                    "mid": 0.8,
                    "color": ARROW_COLOR,
                }
            ],
        )
        for p, a in zip(scene.positions, scene.arrows, strict=False)
        if float(a.norm()) > 1e-3
    ]


def bonds(positions: torch.Tensor, charges: torch.Tensor, *, tolerance: float = 0.45) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, closer than the sum of their covalent radii + ``tolerance`` Å (3Dmol.js's rule)."""
    from ase.data import covalent_radii

    radii = torch.tensor([covalent_radii[int(z)] for z in charges.tolist()], dtype=torch.float64)
    p = positions.to(torch.float64)
    close = torch.cdist(p, p) < radii[:, None] + radii[None, :] + tolerance
    return [(i, j) for i, j in torch.triu(close, diagonal=1).nonzero().tolist()]


def arrow_visible_lengths(
    scene: FeatureScene, *, samples: int = 200, arrow_radius: float | None = None, stick_radius: float | None = None
) -> torch.Tensor:
    """Length (Å) of each l = 1 arrow's axis that a viewer can see: outside every drawn atom sphere, and outside every
    stick unless the arrow is thicker than a stick (then it shows as a sleeve around it). ``(N,)``, 0 for no arrow.

    The render test of notebook 07's flagship picture: an arrow hidden inside a bond has visible length ~0.
    """
    arrow_radius = ARROW_RADIUS if arrow_radius is None else arrow_radius
    stick_radius = STICK_RADIUS if stick_radius is None else stick_radius
    if scene.arrows is None:
        return torch.zeros(len(scene.positions), dtype=torch.float64)
    positions = scene.positions.to(torch.float64)
    atom_radii = torch.tensor(
        [ATOM_SCALE * VDW_RADIUS.get(int(z), 1.7) for z in scene.charges.tolist()], dtype=torch.float64
    )
    t = torch.linspace(0.0, 1.0, samples, dtype=torch.float64)
    points = positions[:, None, :] + t[None, :, None] * scene.arrows[:, None, :]  # (N, samples, 3)
    hidden = (torch.cdist(points.reshape(-1, 3), positions) < atom_radii).any(-1).reshape(len(positions), samples)
    if arrow_radius <= stick_radius:
        for i, j in bonds(positions, scene.charges):
            a, b = positions[i], positions[j]
            axis = (b - a) / (b - a).norm()
            along = ((points - a) @ axis).clamp(0.0, float((b - a).norm()))
            distance = (points - (a + along[..., None] * axis)).norm(dim=-1)
            hidden |= distance < stick_radius
    return (~hidden).to(torch.float64).mean(-1) * scene.arrows.norm(dim=-1)


def _ellipsoid_commands(scene: FeatureScene, resolution: int) -> list[Command]:
    if scene.ellipsoids is None:
        return []
    commands = []
    for p, m in zip(scene.positions, scene.ellipsoids, strict=False):
        vertices, normals, faces = ellipsoid_mesh(p, m, resolution)
        shape = {
            "vertexArr": _points(vertices),
            "normalArr": _points(normals),
            "faceArr": faces.reshape(-1).tolist(),
            "color": ELLIPSOID_COLOR,
            "opacity": 0.75,
        }
        commands.append(("addCustom", [shape]))
    return commands


def _scale_bar_commands(scene: FeatureScene) -> list[Command]:
    """A 1 Å bar below the molecule; its place depends only on rotation invariants (centroid, radius)."""
    center = scene.positions.mean(0)
    extent = float((scene.positions - center).norm(dim=-1).max()) + 1.0
    start = center + torch.tensor([-0.5, -extent, 0.0], dtype=torch.float64)
    end = start + torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    label = {
        "position": _point(start + torch.tensor([0.5, -0.35, 0.0], dtype=torch.float64)),
        "fontSize": 12,
        "fontColor": "black",
        "backgroundOpacity": 0.0,
        "alignment": "center",
    }
    return [
        (
            "addCylinder",
            [
                {
                    "start": _point(start),
                    "end": _point(end),
                    "radius": 0.04,
                    "color": SCALE_BAR_COLOR,
                    "fromCap": 1,
                    "toCap": 1,
                }
            ],
        ),
        ("addLabel", ["1 Å", label]),
    ]


def scene_commands(scene: FeatureScene, *, show: tuple[int, ...] = (0, 1, 2), resolution: int = 12) -> list[Command]:
    """The 3Dmol.js viewer calls ``(method, arguments)`` that draw ``scene`` (degrees in ``show``)."""
    commands: list[Command] = [
        ("addModel", [xyz_block(scene.positions, scene.charges), "xyz"]),
        ("setStyle", [{}, {"stick": {"radius": STICK_RADIUS}, "sphere": {"scale": ATOM_SCALE}}]),
    ]
    if 0 in show:
        commands += _sphere_commands(scene)
    if 1 in show:
        commands += _arrow_commands(scene)
    if 2 in show:
        with one_thread():
            commands += _ellipsoid_commands(scene, resolution)
    return commands + _scale_bar_commands(scene)


def _gradient_bar(scales: GlyphScales) -> str:
    stops = ", ".join("rgb({},{},{})".format(*c) for c in (NEGATIVE, ZERO, POSITIVE))
    bar = (
        '<span style="display:inline-block;width:90px;height:10px;'
        f'background:linear-gradient(to right, {stops});border:1px solid #999"></span>'
    )
    return f"{-scales.l0:.3g} {bar} {scales.l0:.3g}"


def legend_html(scene: FeatureScene, show: tuple[int, ...] = (0, 1, 2)) -> str:
    """The legend: level and channel, and what each glyph's colour and size mean (the scale)."""
    s = scene.scales
    items = [f"<b>{html_lib.escape(scene.level)}</b>, channel {scene.channel}"]
    if 0 in show and scene.sphere_radii is not None:
        items.append(f"l=0 sphere: colour {_gradient_bar(s)}, radius {scene.sphere_radius:g} Å at |f₀| = {s.l0:.3g}")
    if 1 in show and scene.arrows is not None:
        items.append(
            f'<span style="color:{ARROW_COLOR}">l=1 arrow</span> v = P·f₁: {scene.arrow_length:g} Å ≙ |f₁| = {s.l1:.3g}'
        )
    if 2 in show and scene.ellipsoids is not None:
        items.append(
            f'<span style="color:{ELLIPSOID_COLOR}">l=2 ellipsoid</span> M = {scene.ellipsoid_radius:g} Å · exp(T(f₂)/s), s = {s.l2:.3g}'
        )
    items.append("bar: 1 Å")
    body = " &nbsp;|&nbsp; ".join(items)
    return f'<div class="cormorant-lab-legend" style="font:12px sans-serif;color:#222;margin:4px 0">{body}</div>'


class MoleculeView:
    """A py3Dmol view of a :class:`FeatureScene` with a legend; shows itself in Jupyter, exports standalone HTML."""

    def __init__(
        self,
        scene: FeatureScene,
        *,
        width: int = 560,
        height: int = 420,
        show: tuple[int, ...] = (0, 1, 2),
        js: str | None = None,
        resolution: int = 12,
    ):
        self.scene, self.show, self.resolution = scene, tuple(show), resolution
        self.view = py3Dmol.view(width=width, height=height, js=threedmol_js_url(js))
        for method, args in scene_commands(scene, show=self.show, resolution=resolution):
            getattr(self.view, method)(*args)
        self.view.zoomTo()
        self.view.zoom(1.4)  # zoomTo leaves a wide margin around small molecules
        self.viewer_id: str | None = None  # the JS id of the last rendered viewer (for update_script)

    def html(self) -> str:
        """The HTML fragment: the viewer (with its script) and the legend."""
        viewer = self.view.write_html()  # py3Dmol's fragment; assigns a fresh unique id
        self.viewer_id = self.view.uniqueid
        return f'<div class="cormorant-lab-molecule">{viewer}{legend_html(self.scene, self.show)}</div>'

    def _repr_html_(self) -> str:
        return self.html()

    def write_html(self, path: str | os.PathLike, *, title: str = "cormorant_lab molecule") -> Path:
        """Write a standalone page (offline when 3Dmol.js is inlined); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        page = (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html_lib.escape(title)}</title></head>'
            f'<body style="margin:8px">{self.html()}</body></html>\n'
        )
        path.write_text(page, encoding="utf-8")
        return path

    def update_script(self, scene: FeatureScene) -> str:
        """A ``<script>`` that redraws the rendered viewer with ``scene``, camera unchanged (call :meth:`html` first)."""
        if self.viewer_id is None:
            raise RuntimeError("the view has not been rendered yet: display it (or call html()) first")
        self.scene = scene
        calls = "".join(
            f"v.{method}({','.join(json.dumps(a) for a in args)});\n"
            for method, args in scene_commands(scene, show=self.show, resolution=self.resolution)
        )
        return (
            f"<script>$3Dmolpromise.then(function() {{ var v = viewer_{self.viewer_id}; if (!v) return;\n"
            f"v.removeAllModels(); v.removeAllShapes(); v.removeAllLabels();\n{calls}v.render(); }});</script>"
        )


def view_features(
    molecule: Any,
    model,
    *,
    charges: Any = None,
    level: str = "atom_1",
    channel: int = 0,
    show: tuple[int, ...] = (0, 1, 2),
    scales: GlyphScales | None = None,
    width: int = 560,
    height: int = 420,
    js: str | None = None,
) -> MoleculeView:
    """Render ``molecule`` (``ase.Atoms``, a dataset record, or positions with ``charges``) with ``model``'s features.

    Channel ``channel`` of the per-atom level ``level`` (``"input"`` or ``"atom_s"``) is drawn for the degrees in
    ``show``; ``js`` chooses where 3Dmol.js comes from (see :func:`~cormorant_lab.viz.threedmol_js_url`).
    """
    positions, charges = as_molecule(molecule, charges)
    features = atom_features(model, positions, charges, level=level, channel=channel)
    scene = feature_scene(positions, charges, features, scales=scales)
    return MoleculeView(scene, width=width, height=height, show=show, js=js)
