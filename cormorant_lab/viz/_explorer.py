r"""The rotation explorer: turn a molecule with ZYZ Euler sliders and watch the network's features turn with it.

For the rotation :math:`R = R_z(\alpha) R_y(\beta) R_z(\gamma)` set by the sliders (or the "random rotation" button),
the model runs on the rotated molecule :math:`Rx` and the explorer shows

* the 3D view (py3Dmol): the rotated molecule with the glyphs of :math:`F(Rx)`, camera fixed, glyph scales fixed
  to those of :math:`F(x)` — the glyphs turn with the molecule;
* **model output** (plotly): the prediction at every rotation tried, flat because it is invariant;
* **features of one atom**: the l = 1 and l = 2 components of :math:`F(x)` (before), :math:`F(Rx)` (after) and the
  prediction :math:`D^l(R) F_l(x)` — after and prediction coincide, component by component;
* **live covariance error** per level and l: :func:`~cormorant_lab.checks.check_covariance` run at the current pose
  :math:`Rx` (random rotations, translation and permutation about it), as :math:`\log_{10}` of the relative error.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..checks import check_covariance
from ..so3 import euler_to_rotation, random_rotation, rotation_to_euler, wigner_d
from ._features import AtomFeatures, atom_levels, model_inputs, one_thread, select_features
from ._heatmaps import ERROR_FLOOR, covariance_heatmap_trace  # noqa: F401  (ERROR_FLOOR: kept importable here)
from ._molecule import as_molecule
from ._molecule_view import MoleculeView
from ._scene import FeatureScene, GlyphScales, feature_scene

COMPONENTS = [f"l1 m{m:+d}" for m in (-1, 0, 1)] + [f"l2 m{m:+d}" for m in (-2, -1, 0, 1, 2)]


def _degrees_slider(name: str, maximum: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(
        value=0.0,
        min=0.0,
        max=maximum,
        step=1.0,
        description=f"{name} (°)",
        continuous_update=False,
        readout_format=".0f",
        layout=widgets.Layout(width="320px"),
    )


def _html_output(html: str) -> dict:
    """An Output widget's display_data entry holding ``html``."""
    return {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}}


def _components(features: AtomFeatures, atom: int) -> list[float]:
    """The 8 numbers (l = 1 then l = 2) of one atom, NaN where a degree is missing."""
    values = []
    for l in (1, 2):
        part = features.parts.get(l)
        values += part[atom].tolist() if part is not None else [math.nan] * (2 * l + 1)
    return values


class RotationExplorer:
    """Sliders for the ZYZ Euler angles, a random-rotation button, a 3D view and plotly panels (see the module docstring).

    ``model`` needs ``levels(positions, charges)`` (a :class:`~cormorant_lab.nn.Cormorant`); ``molecule`` is
    ``ase.Atoms``, a record, or positions with ``charges``. ``atom`` is the atom whose components are plotted;
    ``live_check`` runs the covariance checker at every update (``n_rotations`` rotations).
    """

    def __init__(
        self,
        model,
        molecule: Any,
        *,
        charges: Any = None,
        level: str = "atom_1",
        channel: int = 0,
        atom: int = 0,
        live_check: bool = True,
        n_rotations: int = 1,
        width: int = 480,
        height: int = 380,
        js: str | None = None,
        seed: int = 0,
    ):
        self.model, self.level, self.channel, self.atom = model, level, channel, atom
        self.live_check, self.n_rotations = live_check, n_rotations
        self.positions, self.charges = as_molecule(molecule, charges)
        self._generator = torch.Generator().manual_seed(seed)
        self.reference = select_features(atom_levels(model, self.positions, self.charges), level, channel)
        self.scales = GlyphScales.fit(self.reference)
        self.outputs: list[float] = []
        self.report = None
        self.scene: FeatureScene = feature_scene(self.positions, self.charges, self.reference, scales=self.scales)
        self.view = MoleculeView(self.scene, width=width, height=height, js=js)
        self._build_widgets()
        self.figure = self._build_figure()
        self._busy = False
        self.update()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.alpha, self.beta, self.gamma, self.random_button]),
                widgets.HBox([self.view_output, self.figure]),
                self.status,
                self._script_sink,
            ]
        )

    # --- construction ---------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.alpha, self.beta, self.gamma = (
            _degrees_slider("α", 360.0),
            _degrees_slider("β", 180.0),
            _degrees_slider("γ", 360.0),
        )
        self.random_button = widgets.Button(description="random rotation", icon="random")
        self.status = widgets.HTML()
        self.view_output = widgets.Output(layout=widgets.Layout(min_width="490px"))
        self._script_sink = widgets.Output(layout=widgets.Layout(height="0px", overflow="hidden"))
        self.view_output.outputs = (_html_output(self.view.html()),)
        for slider in (self.alpha, self.beta, self.gamma):
            slider.observe(lambda change: self.update(), names="value")
        self.random_button.on_click(lambda button: self.randomize())

    def _build_figure(self) -> go.FigureWidget:
        figure = make_subplots(
            rows=3,
            cols=1,
            vertical_spacing=0.12,
            subplot_titles=(
                "model output f(Rx): invariant",
                f"{self.level}, channel {self.channel}, atom {self.atom}: components",
                "covariance error (log₁₀), checker at Rx",
            ),
        )
        figure.add_scatter(x=[], y=[], mode="lines+markers", name="f(Rx)", row=1, col=1)
        before, positions = _components(self.reference, self.atom), list(range(len(COMPONENTS)))
        # Overlaid bars: wide grey "before", narrow blue "after"; the red diamonds D(R)F(x) land on the blue tops.
        figure.add_bar(x=positions, y=before, name="before F(x)", marker_color="#cccccc", width=0.8, row=2, col=1)
        figure.add_bar(x=positions, y=before, name="after F(Rx)", marker_color="#1f77b4", width=0.4, row=2, col=1)
        figure.add_scatter(
            x=positions,
            y=before,
            mode="markers",
            name="D(R)·F(x)",
            marker=dict(symbol="diamond-open", size=11, color="#d62728", line=dict(width=2)),
            row=2,
            col=1,
        )
        figure.add_heatmap(
            x=[],
            y=[],
            z=[],
            zmin=-17,
            zmax=0,
            colorscale="Viridis",
            name="log10 error",
            texttemplate="%{z:.0f}",
            colorbar=dict(len=0.28, y=0.12, title="log₁₀"),
            row=3,
            col=1,
        )
        figure.update_yaxes(autorange="reversed", row=3, col=1)  # levels top to bottom, as in covariance_heatmap
        figure.update_xaxes(tickvals=positions, ticktext=COMPONENTS, row=2, col=1)
        figure.update_layout(
            width=560,
            height=720,
            margin=dict(l=60, r=20, t=40, b=30),
            barmode="overlay",
            legend=dict(orientation="h", y=-0.05),
        )
        return go.FigureWidget(figure)

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def rotation(self) -> torch.Tensor:
        """The current rotation (3, 3) float64: ``euler_to_rotation`` of the sliders' angles in radians."""
        return euler_to_rotation(*(math.radians(s.value) for s in (self.alpha, self.beta, self.gamma)))

    def set_angles(self, alpha: float, beta: float, gamma: float) -> None:
        """Set the three sliders (degrees) and update once."""
        self._busy = True
        try:
            self.alpha.value, self.beta.value, self.gamma.value = (
                alpha % 360.0,
                min(max(beta, 0.0), 180.0),
                gamma % 360.0,
            )
        finally:
            self._busy = False
        self.update()

    def randomize(self) -> None:
        """Set the sliders to a Haar-random rotation (ZYZ angles of it, whole degrees)."""
        alpha, beta, gamma = (
            math.degrees(float(a)) for a in rotation_to_euler(random_rotation(generator=self._generator))
        )
        self.set_angles(round(alpha), round(beta), round(gamma))

    # --- the update -----------------------------------------------------------------------------------------
    def update(self) -> None:
        """Run the model at the current rotation and refresh the view and every panel."""
        if self._busy:
            return
        with one_thread():
            self._update()

    def _update(self) -> None:
        rotation = self.rotation
        positions = self.positions @ rotation.T
        levels = atom_levels(self.model, positions, self.charges)
        after = select_features(levels, self.level, self.channel)
        self.scene = feature_scene(positions, self.charges, after, scales=self.scales)
        inputs = model_inputs(self.model, positions, self.charges)
        with torch.no_grad():
            self.outputs.append(float(self.model(*inputs).reshape(-1)[0]))
        if self.live_check:
            self.report = check_covariance(self.model, *inputs, n_rotations=self.n_rotations, generator=self._generator)
        self._refresh_figure(after, rotation)
        self._refresh_view()
        self.status.value = self._status_text(after, rotation)

    def predicted(self, rotation: torch.Tensor) -> AtomFeatures:
        r"""What the features at ``rotation`` must be: :math:`D^l(R) F_l(x)` of the reference features."""
        parts = {l: f @ wigner_d(l, rotation, basis="real").T for l, f in self.reference.parts.items()}
        return AtomFeatures(self.level, self.channel, parts)

    def _refresh_figure(self, after: AtomFeatures, rotation: torch.Tensor) -> None:
        data = self.figure.data
        with self.figure.batch_update():
            data[0].x, data[0].y = list(range(len(self.outputs))), list(self.outputs)
            # A fixed range around the first output: rounding-level changes (1e-15) must look flat, as they are.
            center, half = self.outputs[0], max(0.05 * abs(self.outputs[0]), 1e-3)
            self.figure.layout.yaxis.range = [center - half, center + half]
            data[2].y = _components(after, self.atom)
            data[3].y = _components(self.predicted(rotation), self.atom)
            if self.report is not None:
                trace = covariance_heatmap_trace(self.report)  # the same rows and columns as notebook 04's picture
                data[4].x, data[4].y, data[4].z = trace.x, trace.y, trace.z

    def _refresh_view(self) -> None:
        if self.view.viewer_id is None:
            return  # not displayed yet: the first display draws the current scene
        script = self.view.update_script(self.scene)
        self._script_sink.outputs = (_html_output(script),)

    def _status_text(self, after: AtomFeatures, rotation: torch.Tensor) -> str:
        predicted = self.predicted(rotation)
        gaps = {
            l: float((after.parts[l] - predicted.parts[l]).norm() / max(float(predicted.parts[l].norm()), 1e-300))
            for l in after.parts
        }
        text = ", ".join(f"l={l}: {g:.1e}" for l, g in gaps.items())
        check = f" &nbsp; checker: {self.report.summary()}" if self.report is not None else ""
        return f"<small>‖F(Rx) − D(R)F(x)‖/‖F‖ ({self.level}, channel {self.channel}): {text}{check}</small>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
