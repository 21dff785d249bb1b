r"""Wigner-D matrices :math:`D^l(R)` of rotation matrices, defined by :math:`Y_l(R r) = D^l(R)\, Y_l(r)`.

This *defining identity* is also how we compute them. For a fixed set of well-spread unit vectors
:math:`p_1, \dots, p_n` (:math:`n > 2l+1`), stack :math:`Y(P) \in \mathbb{R}^{n \times (2l+1)}`; the identity
for every :math:`p_k` reads :math:`Y(P R^\top) = Y(P)\, D^\top`, so
:math:`D^\top = Y(P)^{+}\, Y(P R^\top)` with the pseudo-inverse computed once. The result is exact up to
rounding, batched, differentiable, device- and dtype-agnostic, and free of Euler-angle singularities.

:math:`D^l` is a representation, :math:`D(R_1 R_2) = D(R_1) D(R_2)`; it is orthogonal in the real basis and
unitary in the complex one, where :math:`D^{\mathrm{complex}} = U^\dagger D^{\mathrm{real}} U`. In the
textbook notation of active rotations :math:`\mathcal{D}^l_{m m'}(\alpha,\beta,\gamma) =
\langle l m | e^{-i\alpha J_z} e^{-i\beta J_y} e^{-i\gamma J_z} | l m'\rangle` our complex matrix is
:math:`D^l(R(\alpha,\beta,\gamma))_{m m'} = \overline{\mathcal{D}^l_{m m'}(\alpha,\beta,\gamma)}`
(tested against sympy in ``tests/so3/test_wigner.py``).
"""

from __future__ import annotations

import functools
import math

import torch

from ._basis import complex_to_real
from ._rotation import check_rotation
from ._spherical_harmonics import spherical_harmonics_all
from ._validation import check_basis, check_degree


def _fibonacci_sphere(n: int) -> torch.Tensor:
    """n nearly uniform unit vectors (golden-angle spiral), float64."""
    k = torch.arange(n, dtype=torch.float64) + 0.5
    z = 1 - 2 * k / n
    rho = torch.sqrt(1 - z * z)
    phi = k * math.pi * (3 - math.sqrt(5))
    return torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), z], dim=-1)


@functools.cache
def _sample_points(max_l: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """Points (n, 3) and, for each l <= max_l, the pseudo-inverse of Y_l(points), shape (2l+1, n); float64 CPU."""
    points = _fibonacci_sphere(2 * (2 * max_l + 1) + 1)
    harmonics = spherical_harmonics_all(max_l, points, basis="real")
    return points, tuple(torch.linalg.pinv(h) for h in harmonics)


@functools.lru_cache(maxsize=64)
def _sample_points_on(
    max_l: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    points, inverses = _sample_points(max_l)
    return points.to(dtype=dtype, device=device), tuple(p.to(dtype=dtype, device=device) for p in inverses)


def wigner_d_all(max_l: int, rotation: torch.Tensor, *, basis: str = "real", check: bool = True) -> list[torch.Tensor]:
    """:math:`D^l(R)` for every ``l = 0..max_l``; element ``l`` has shape ``(..., 2l+1, 2l+1)``.

    Same conventions as :func:`wigner_d`. Set ``check=False`` to skip the rotation check (it synchronises a GPU).
    """
    max_l = check_degree(max_l, "max_l")
    check_basis(basis)
    if check:
        check_rotation(rotation)
    points, inverses = _sample_points_on(max_l, rotation.dtype, rotation.device)
    rotated = points @ rotation.transpose(-1, -2)  # (..., n, 3): row k is R p_k
    harmonics = spherical_harmonics_all(max_l, rotated, basis="real")
    matrices = [(inverse @ h).transpose(-1, -2).contiguous() for inverse, h in zip(inverses, harmonics, strict=True)]
    if basis == "complex":
        complex_dtype = torch.complex128 if rotation.dtype == torch.float64 else torch.complex64
        us = [complex_to_real(l, dtype=complex_dtype, device=rotation.device) for l in range(max_l + 1)]
        matrices = [u.conj().transpose(-1, -2) @ d.to(complex_dtype) @ u for u, d in zip(us, matrices, strict=True)]
    return matrices


def wigner_d(l: int, rotation: torch.Tensor, *, basis: str = "real") -> torch.Tensor:
    r"""Wigner-D matrix of degree ``l``: shape ``(..., 2l+1, 2l+1)`` for rotations ``(..., 3, 3)``.

    Defined by :math:`Y_l(R r) = D^l(R)\, Y_l(r)`, i.e.
    ``spherical_harmonics(l, v @ R.T) == spherical_harmonics(l, v) @ wigner_d(l, R).T`` in the same
    ``basis`` (``"real"``, the default: orthogonal, real dtype; ``"complex"``: unitary, complex dtype). Rows and columns are
    ordered ``m = -l..l``. Follows the rotation's dtype and device and is differentiable in it.

    Raises:
        ValueError: if ``l`` is not a non-negative integer or ``rotation`` is not a batch of proper rotations.
    """
    l = check_degree(l)
    return wigner_d_all(l, rotation, basis=basis)[l]
