r"""Spherical harmonics :math:`Y_l^m` of a direction, and solid harmonics :math:`r^l Y_l^m`, batched in torch.

Conventions (see :mod:`cormorant_lab.so3` for the full page): orthonormal on the unit sphere,
Condon–Shortley phase, :math:`\theta` the polar angle from +z, :math:`\varphi` the azimuth from +x,
components ordered :math:`m = -l, \dots, l`:

.. math::

    Y_l^m(\theta, \varphi) = (-1)^m \sqrt{\frac{2l+1}{4\pi}\frac{(l-m)!}{(l+m)!}}\;
        \sin^m\theta\; \frac{d^m P_l}{dx^m}(\cos\theta)\; e^{i m \varphi},
    \qquad Y_l^{-m} = (-1)^m\, \overline{Y_l^m}.

How: :math:`r^l \sin^m\theta\, P_l^{(m)}(\cos\theta)\, e^{im\varphi} = (x + i y)^m\, q_l^m(z, r^2)`, where the
polynomials :math:`q_l^m` obey the homogenised Legendre recurrence
:math:`(l-m+1)\, q_{l+1}^m = (2l+1)\, z\, q_l^m - (l+m)\, r^2 q_{l-1}^m` from :math:`q_m^m = (2m-1)!!`.
Everything is a polynomial in :math:`(x, y, z)`: no angles, no division, no singular points. Directions
(``normalize=True``) divide by :math:`r` once, up front.

At :math:`r = 0` the direction is undefined; we define :math:`Y_0^0 = 1/\sqrt{4\pi}` and :math:`Y_l^m = 0` for
:math:`l > 0` (for directions and solid harmonics alike), with a zero gradient for :math:`l > 0` — never NaN.
"""

from __future__ import annotations

import functools
import math

import torch

from ._basis import complex_to_real
from ._validation import check_basis, check_degree


@functools.cache
def _normalization(l: int, m: int) -> float:
    """sqrt((2l+1)/(4 pi) (l-m)!/(l+m)!) from exact integers."""
    return math.sqrt((2 * l + 1) / (4 * math.pi) * (math.factorial(l - m) / math.factorial(l + m)))


def _legendre_polynomials(max_l: int, z: torch.Tensor, r2: torch.Tensor) -> dict[tuple[int, int], torch.Tensor]:
    """q_l^m(z, r^2) for 0 <= m <= l <= max_l (see the module docstring)."""
    q: dict[tuple[int, int], torch.Tensor] = {}
    for m in range(max_l + 1):
        double_factorial = math.prod(range(2 * m - 1, 0, -2))
        q[m, m] = torch.full_like(z, float(double_factorial))
        if m + 1 <= max_l:
            q[m + 1, m] = (2 * m + 1) * z * q[m, m]
        for l in range(m + 1, max_l):
            q[l + 1, m] = ((2 * l + 1) * z * q[l, m] - (l + m) * r2 * q[l - 1, m]) / (l - m + 1)
    return q


def _azimuthal_powers(max_l: int, x: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Real and imaginary parts of (x + i y)^m for m = 0..max_l."""
    powers = [(torch.ones_like(x), torch.zeros_like(x))]
    for _ in range(max_l):
        c, s = powers[-1]
        powers.append((x * c - y * s, x * s + y * c))
    return powers


def _real_solid_harmonics(max_l: int, vectors: torch.Tensor) -> list[torch.Tensor]:
    """r^l Y_{lm}^real for every l <= max_l, each (..., 2l+1)."""
    x, y, z = vectors.unbind(-1)
    r2 = x * x + y * y + z * z
    q = _legendre_polynomials(max_l, z, r2)
    powers = _azimuthal_powers(max_l, x, y)
    out = []
    for l in range(max_l + 1):
        components: list[torch.Tensor] = [torch.empty(0)] * (2 * l + 1)  # every slot is filled below
        components[l] = _normalization(l, 0) * q[l, 0]
        for m in range(1, l + 1):
            # Y^real_{l,±m} = sqrt(2) (-1)^m Re/Im Y_l^m, and the (-1)^m cancels the one in Y_l^m.
            scale = math.sqrt(2) * _normalization(l, m)
            cos_part, sin_part = powers[m]
            components[l + m] = scale * cos_part * q[l, m]
            components[l - m] = scale * sin_part * q[l, m]
        out.append(torch.stack(components, dim=-1))
    return out


def _unit_vectors(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (v / |v|, mask of nonzero v) with finite values and gradients where v = 0."""
    r2 = (vectors * vectors).sum(-1, keepdim=True)
    nonzero = r2 > 0
    safe_r2 = torch.where(nonzero, r2, torch.ones_like(r2))
    return vectors / safe_r2.sqrt(), nonzero


def _to_complex(l: int, real: torch.Tensor) -> torch.Tensor:
    u = complex_to_real(
        l, dtype=torch.complex128 if real.dtype == torch.float64 else torch.complex64, device=real.device
    )
    return real.to(u.dtype) @ u.conj()  # Y^c = U^dagger Y^r, as a row vector: Y^r @ conj(U)


def spherical_harmonics_all(
    max_l: int, vectors: torch.Tensor, *, basis: str = "real", normalize: bool = True
) -> list[torch.Tensor]:
    """Spherical (or solid) harmonics for every ``l = 0..max_l``; element ``l`` has shape ``(..., 2l+1)``.

    Same conventions as :func:`spherical_harmonics`; computing all degrees at once shares the recurrences.
    """
    max_l = check_degree(max_l, "max_l")
    check_basis(basis)
    if vectors.shape[-1:] != (3,):
        raise ValueError(f"vectors must have shape (..., 3), got {tuple(vectors.shape)}")
    if not vectors.is_floating_point():
        raise ValueError(f"vectors must be a floating-point tensor, got {vectors.dtype}")
    if normalize:
        directions, nonzero = _unit_vectors(vectors)
        harmonics = _real_solid_harmonics(max_l, directions)
        harmonics = [h if l == 0 else h * nonzero for l, h in enumerate(harmonics)]
    else:
        harmonics = _real_solid_harmonics(max_l, vectors)
    if basis == "complex":
        harmonics = [_to_complex(l, h) for l, h in enumerate(harmonics)]
    return harmonics


def spherical_harmonics(l: int, vectors: torch.Tensor, *, basis: str = "real", normalize: bool = True) -> torch.Tensor:
    r"""Spherical harmonics :math:`Y_l^m(\hat r)` (``normalize=True``) or solid harmonics :math:`r^l Y_l^m(\hat r)`.

    Args:
        l: degree, a non-negative integer.
        vectors: ``(..., 3)`` Cartesian vectors ``(x, y, z)``, float32 or float64, any device.
        basis: ``"real"`` (the default everywhere in :mod:`cormorant_lab.so3`;
            :math:`Y^{\mathrm{real}} = U_l Y`, see :func:`complex_to_real`; real output, for ``l = 1`` it is
            :math:`\sqrt{3/4\pi}\,(y, z, x)/r`) or ``"complex"`` (Condon–Shortley, complex output).
        normalize: directions (orthonormal on the sphere) if True, solid harmonics if False.

    Returns:
        ``(..., 2l+1)``, component ``m + l`` for ``m = -l..l``. At ``r = 0`` see the module docstring.
    """
    l = check_degree(l)
    return spherical_harmonics_all(l, vectors, basis=basis, normalize=normalize)[l]
