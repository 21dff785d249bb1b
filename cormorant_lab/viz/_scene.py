r"""A feature scene: the molecule and its glyphs as plain geometry in Å, independent of any renderer.

From :class:`AtomFeatures` (channel c of one level) each atom i gets

* **l = 0** — a sphere of radius :math:`\rho_0 |f_0| / a_0` (at least ``min_sphere_radius``) coloured on a diverging
  scale by :math:`f_0 / a_0` (blue negative, white 0, red positive);
* **l = 1** — an arrow from the atom to :math:`r_i + \ell\, v / a_1` with :math:`v = P f_1`
  (:func:`~cormorant_lab.viz.l1_to_vector`): an arrow of length ℓ Å stands for :math:`|f_1| = a_1`;
* **l = 2** — the ellipsoid :math:`r_i + M u`, :math:`M = \rho_2 \exp(T(f_2)/s)` (:func:`~cormorant_lab.viz.ellipsoid_matrix`).

The scales :math:`a_0, a_1, s` (:class:`GlyphScales`) are set from the largest feature over the atoms, so the largest
sphere has radius :math:`\rho_0`, the longest arrow has length ℓ and the most elongated ellipsoid has axis ratio
``max_axis_ratio`` along its largest eigenvalue. They are functions of rotation invariants (norms, eigenvalues), so
the scene of a rotated molecule is the rotated scene: arrows :math:`\mapsto R\,\cdot`, ellipsoid matrices
:math:`\mapsto R M R^\top`, sphere sizes and colours unchanged. Pass fixed ``scales`` to compare scenes exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ._colors import NEGATIVE, POSITIVE, ZERO, diverging_color  # noqa: F401  (re-exported: the one convention)
from ._features import AtomFeatures
from ._glyphs import ellipsoid_matrix, l1_to_vector, l2_to_tensor


@dataclass(frozen=True)
class GlyphScales:
    """Feature magnitudes that map to the glyphs' reference sizes (see the module docstring)."""

    l0: float = 1.0  # |f0| drawn with the full sphere radius and the full colour
    l1: float = 1.0  # |f1| drawn as an arrow of `arrow_length` Å
    l2: float = 1.0  # s in M = rho exp(T/s): feature units per e-fold of a semi-axis

    @classmethod
    def fit(cls, features: AtomFeatures, *, max_axis_ratio: float = 2.5) -> GlyphScales:
        """Scales from the largest feature of each degree over the atoms (1 where a degree is absent or zero)."""
        parts = features.parts
        largest = lambda x: float(x.max()) if x.numel() and float(x.max()) > 0 else 1.0  # noqa: E731
        l0 = largest(parts[0].abs()) if 0 in parts else 1.0
        l1 = largest(parts[1].norm(dim=-1)) if 1 in parts else 1.0
        l2 = 1.0
        if 2 in parts:
            eigenvalues = torch.linalg.eigvalsh(l2_to_tensor(parts[2]))
            l2 = largest(eigenvalues.abs().amax(-1)) / math.log(max_axis_ratio)
        return cls(l0=l0, l1=l1, l2=l2)


@dataclass(frozen=True)
class FeatureScene:
    """The molecule with its glyphs; arrays are float64 tensors in Å, one row per atom (None: degree not drawn)."""

    positions: torch.Tensor  # (N, 3)
    charges: torch.Tensor  # (N,) atomic numbers
    level: str
    channel: int
    scales: GlyphScales
    sphere_values: torch.Tensor | None  # (N,) f0 / a0, in [-1, 1] when the scales were fitted
    sphere_radii: torch.Tensor | None  # (N,)
    arrows: torch.Tensor | None  # (N, 3) arrow vectors, drawn from each atom
    ellipsoids: torch.Tensor | None  # (N, 3, 3) ellipsoid matrices M
    arrow_length: float
    sphere_radius: float
    ellipsoid_radius: float

    def rotated(self, rotation: torch.Tensor) -> FeatureScene:
        """The same scene turned by ``rotation`` (3, 3) about the origin: what the scene of the rotated molecule must be."""
        r = rotation.to(torch.float64)
        turn = lambda x: None if x is None else x @ r.T  # noqa: E731
        ellipsoids = None if self.ellipsoids is None else r @ self.ellipsoids @ r.T
        return replace(self, positions=turn(self.positions), arrows=turn(self.arrows), ellipsoids=ellipsoids)


def feature_scene(
    positions: torch.Tensor,
    charges: torch.Tensor,
    features: AtomFeatures,
    *,
    scales: GlyphScales | None = None,
    arrow_length: float = 1.5,
    sphere_radius: float = 0.5,
    min_sphere_radius: float = 0.06,
    ellipsoid_radius: float = 0.3,
    max_axis_ratio: float = 2.5,
) -> FeatureScene:
    """Glyph geometry for ``positions`` ``(N, 3)`` Å, ``charges`` ``(N,)`` and ``features`` (see the module docstring)."""
    scales = scales if scales is not None else GlyphScales.fit(features, max_axis_ratio=max_axis_ratio)
    parts = features.parts
    values = radii = arrows = ellipsoids = None
    if 0 in parts:
        values = parts[0][:, 0] / scales.l0
        radii = (sphere_radius * values.abs()).clamp(min=min_sphere_radius)
    if 1 in parts:
        arrows = l1_to_vector(parts[1]) * (arrow_length / scales.l1)
    if 2 in parts:
        ellipsoids = ellipsoid_matrix(l2_to_tensor(parts[2]), radius=ellipsoid_radius, scale=scales.l2)
    return FeatureScene(
        positions=positions.to(torch.float64),
        charges=charges,
        level=features.level,
        channel=features.channel,
        scales=scales,
        sphere_values=values,
        sphere_radii=radii,
        arrows=arrows,
        ellipsoids=ellipsoids,
        arrow_length=arrow_length,
        sphere_radius=sphere_radius,
        ellipsoid_radius=ellipsoid_radius,
    )
