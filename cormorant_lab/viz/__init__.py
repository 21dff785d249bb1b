r"""Seeing covariance: molecules with their Cormorant features (py3Dmol), a rotation explorer and a live training plot.

* **Glyphs** (``_glyphs``): the exact unitary maps from real-basis features to Cartesian objects, l = 1 → vector
  :math:`v = P f` with :math:`v(D^1(R) f) = R v(f)`, l = 2 → symmetric traceless tensor :math:`T = \sum_m f_m B_m`
  with :math:`T(D^2(R) f) = R T(f) R^\top`, and its ellipsoid :math:`M = \rho \exp(T/s)`.
* **Features and scenes** (``_features``, ``_scene``): channel c of a per-atom level of a model, turned into
  spheres (l = 0), arrows (l = 1) and ellipsoids (l = 2) in Å.
* **Molecule view** (``_molecule_view``): py3Dmol rendering with legend and scale bar, notebook output and
  standalone HTML (:func:`view_features`).
* **Rotation explorer** (``_explorer``): ZYZ Euler sliders, random rotation, plotly panels of output, features
  before/after and the live covariance error (:class:`RotationExplorer`).
* **Training plot** (``_training_plot``): ``TrainingPlot()(event)``, a throttled live loss plot.
* **Colours and heat maps** (``_colors``, ``_heatmaps``): the one sign convention (red > 0, blue < 0,
  :data:`DIVERGING_COLORSCALE`), signed heat maps with row 0 on top, and the checker's level × l heat map.
* **Static figures** (``_figures``): a molecule with its bonds, and the diagram of one Cormorant level.
* **Offline** (``_offline``): 3Dmol.js and the ipywidgets HTML manager from local npm packages, inlined
  (:func:`install_js_packages`, :func:`threedmol_js_url`, :func:`embed_widgets_html`).

Quick start (in JupyterLab)::

    from cormorant_lab.viz import view_features, RotationExplorer
    view_features(atoms, model, level="atom_2", channel=3)      # atoms: ase.Atoms or a dataset item
    RotationExplorer(model, atoms)
"""

from ._colors import DIVERGING_COLORSCALE, SIGN_CONVENTION
from ._explorer import RotationExplorer
from ._features import AtomFeatures, atom_features, atom_levels, select_features
from ._figures import ELEMENT_COLORS, level_diagram, molecule_figure
from ._glyphs import (
    L1_TO_CARTESIAN,
    L2_BASIS,
    L2_HARMONIC_SCALE,
    ellipsoid_axes,
    ellipsoid_matrix,
    ellipsoid_mesh,
    l1_to_vector,
    l2_to_tensor,
    tensor_to_l2,
    unit_sphere_mesh,
    vector_to_l1,
)
from ._heatmaps import covariance_heatmap, covariance_heatmap_trace, signed_heatmap, signed_heatmap_figure
from ._molecule import as_molecule, xyz_block
from ._molecule_view import MoleculeView, arrow_visible_lengths, bonds, legend_html, scene_commands, view_features
from ._offline import (
    embed_widgets_html,
    find_3dmol_js,
    find_widget_manager_js,
    install_js_packages,
    js_dir,
    npm_packages,
    offline_status,
    threedmol_js_url,
)
from ._scene import FeatureScene, GlyphScales, diverging_color, feature_scene
from ._training_plot import TrainingPlot

__all__ = [
    "DIVERGING_COLORSCALE",
    "SIGN_CONVENTION",
    "arrow_visible_lengths",
    "bonds",
    "covariance_heatmap",
    "ELEMENT_COLORS",
    "level_diagram",
    "molecule_figure",
    "covariance_heatmap_trace",
    "signed_heatmap",
    "signed_heatmap_figure",
    "L1_TO_CARTESIAN",
    "L2_BASIS",
    "L2_HARMONIC_SCALE",
    "AtomFeatures",
    "FeatureScene",
    "GlyphScales",
    "MoleculeView",
    "RotationExplorer",
    "TrainingPlot",
    "as_molecule",
    "atom_features",
    "atom_levels",
    "diverging_color",
    "ellipsoid_axes",
    "ellipsoid_matrix",
    "ellipsoid_mesh",
    "embed_widgets_html",
    "feature_scene",
    "find_3dmol_js",
    "find_widget_manager_js",
    "install_js_packages",
    "js_dir",
    "l1_to_vector",
    "l2_to_tensor",
    "legend_html",
    "npm_packages",
    "offline_status",
    "scene_commands",
    "select_features",
    "tensor_to_l2",
    "threedmol_js_url",
    "unit_sphere_mesh",
    "vector_to_l1",
    "view_features",
    "xyz_block",
]
