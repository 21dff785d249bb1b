r"""The project's one colour convention for signed quantities: **red is positive, blue is negative, white is zero.**

Every signed picture in the package and the notebooks uses it — the l = 0 spheres of a feature scene
(:func:`diverging_color`), spherical harmonics on the sphere, heat maps of Clebsch–Gordan blocks and of
Wigner matrices (:data:`DIVERGING_COLORSCALE`, a plotly colour scale). plotly's built-in ``"RdBu"`` is the
*opposite* (it draws positive values blue), which is why the notebooks never name a built-in diverging scale.

The end points are those of the "coolwarm" map (Moreland 2009), readable by the common colour-vision deficiencies.
"""

from __future__ import annotations

#: value -1 → blue, 0 → white, +1 → red (RGB, 0–255)
NEGATIVE, ZERO, POSITIVE = (59, 76, 192), (255, 255, 255), (180, 4, 38)


def _css(rgb: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*rgb)


#: The plotly colour scale of the convention; use it with a range symmetric about 0 (``zmid=0`` / ``cmin=-cmax``).
DIVERGING_COLORSCALE: list[list] = [[0.0, _css(NEGATIVE)], [0.5, _css(ZERO)], [1.0, _css(POSITIVE)]]

#: In words, for captions and legends.
SIGN_CONVENTION = "red > 0, blue < 0, white = 0"


def diverging_color(value: float) -> str:
    """``#rrggbb`` for ``value`` in [-1, 1] (clipped): -1 blue, 0 white, +1 red, linear in between."""
    t = max(-1.0, min(1.0, float(value)))
    end = POSITIVE if t >= 0 else NEGATIVE
    rgb = [round(z + abs(t) * (e - z)) for z, e in zip(ZERO, end, strict=False)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)
