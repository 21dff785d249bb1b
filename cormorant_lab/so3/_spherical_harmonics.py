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

Two forms of the same polynomials. :func:`spherical_harmonics_recurrence` is the textbook one above, degree by
degree and component by component (the one to read; about 70 tensor operations for ``max_l = 3``).
:func:`spherical_harmonics_all` evaluates them as one matrix product: :math:`r^l Y_l^m` is a homogeneous
polynomial of degree l, so with the tensor powers :math:`v^{\otimes d}` (``monomial_chain``: 1, :math:`v`,
:math:`v \otimes v`, ... flattened, :math:`\sum_d 3^d` numbers) every component of every degree is
:math:`v^{\otimes \le L} \cdot P`, with :math:`P` the constant matrix of their coefficients
(:func:`harmonics_coefficients`, exact rationals times the normalizations, expanded once from the recurrence).
About a dozen operations instead of about seventy (each a kernel on a GPU) for ``max_l = 3``; tested equal to the recurrence and to sympy.

At :math:`r = 0` the direction is undefined; we define :math:`Y_0^0 = 1/\sqrt{4\pi}` and :math:`Y_l^m = 0` for
:math:`l > 0` (for directions and solid harmonics alike), with a zero gradient for :math:`l > 0` — never NaN.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

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


# --- the lean form: one matrix product -----------------------------------------------------------------------
_Polynomial = dict[tuple[int, int, int], Fraction]  # {(a, b, c): coefficient of x^a y^b z^c}


def _poly_add(*terms: tuple[Fraction | int, _Polynomial]) -> _Polynomial:
    out: _Polynomial = {}
    for factor, poly in terms:
        for powers, value in poly.items():
            out[powers] = out.get(powers, Fraction(0)) + factor * value
    return {powers: value for powers, value in out.items() if value}


def _poly_mul(p: _Polynomial, q: _Polynomial) -> _Polynomial:
    out: _Polynomial = {}
    for (a1, b1, c1), v1 in p.items():
        for (a2, b2, c2), v2 in q.items():
            key = (a1 + a2, b1 + b2, c1 + c2)
            out[key] = out.get(key, Fraction(0)) + v1 * v2
    return {powers: value for powers, value in out.items() if value}


def _exact_solid_harmonics(max_l: int) -> list[list[tuple[float, _Polynomial]]]:
    """``[l][m + l] = (normalization, exact polynomial)``: the recurrence of the module docstring, on polynomials."""
    one: _Polynomial = {(0, 0, 0): Fraction(1)}
    x, y, z = {(1, 0, 0): Fraction(1)}, {(0, 1, 0): Fraction(1)}, {(0, 0, 1): Fraction(1)}
    r2 = _poly_add((1, _poly_mul(x, x)), (1, _poly_mul(y, y)), (1, _poly_mul(z, z)))
    q: dict[tuple[int, int], _Polynomial] = {}
    for m in range(max_l + 1):
        q[m, m] = {(0, 0, 0): Fraction(math.prod(range(2 * m - 1, 0, -2)))}
        if m + 1 <= max_l:
            q[m + 1, m] = _poly_add((2 * m + 1, _poly_mul(z, q[m, m])))
        for l in range(m + 1, max_l):
            q[l + 1, m] = _poly_add(
                (Fraction(2 * l + 1, l - m + 1), _poly_mul(z, q[l, m])),
                (Fraction(-(l + m), l - m + 1), _poly_mul(r2, q[l - 1, m])),
            )
    powers: list[tuple[_Polynomial, _Polynomial]] = [(one, {})]  # (Re, Im) of (x + i y)^m
    for _ in range(max_l):
        c, s = powers[-1]
        powers.append(
            (
                _poly_add((1, _poly_mul(x, c)), (-1, _poly_mul(y, s))),
                _poly_add((1, _poly_mul(x, s)), (1, _poly_mul(y, c))),
            )
        )
    table = []
    for l in range(max_l + 1):
        row: list[tuple[float, _Polynomial]] = [(0.0, {})] * (2 * l + 1)
        row[l] = (_normalization(l, 0), q[l, 0])
        for m in range(1, l + 1):
            scale = math.sqrt(2) * _normalization(l, m)
            row[l + m] = (scale, _poly_mul(powers[m][0], q[l, m]))
            row[l - m] = (scale, _poly_mul(powers[m][1], q[l, m]))
        table.append(row)
    return table


def _coefficients_float64(max_l: int) -> torch.Tensor:
    table = _exact_solid_harmonics(max_l)
    rows = sum(3**d for d in range(max_l + 1))
    matrix = torch.zeros(rows, (max_l + 1) ** 2, dtype=torch.float64)
    for l, components in enumerate(table):
        offset = sum(3**d for d in range(l))  # where the tensor power of degree l starts in monomial_chain
        for k, (scale, poly) in enumerate(components):
            for (a, b, c), value in poly.items():
                # x^a y^b z^c is the entry (0,..,0, 1,..,1, 2,..,2) of v^{⊗l}, flattened row-major
                index = 0
                for axis in [0] * a + [1] * b + [2] * c:
                    index = 3 * index + axis
                matrix[offset + index, l * l + k] = float(value) * scale
    return matrix


def harmonics_coefficients(
    max_l: int, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    r"""The matrix :math:`P` ``(Σ_{d≤L} 3^d, (L+1)²)``: ``monomial_chain(v, L) @ P`` is :math:`r^l Y_{lm}^{\mathrm{real}}(v)`.

    Column ``l² + m + l`` holds the coefficients of component m of degree l (the real basis), on the entries of
    :math:`v^{\otimes l}` (one representative entry per monomial :math:`x^a y^b z^c`, the others 0). Computed from
    exact rational polynomials (the recurrence of the module docstring) times the normalizations, rounded once.
    A module that evaluates harmonics in every forward pass holds this as a buffer (no cache lookup at run time).
    The tensor is cached per dtype and device and shared: do not modify it in place.
    """
    return _coefficients(check_degree(max_l, "max_l"), dtype, torch.device(device) if device is not None else None)


@functools.lru_cache(maxsize=32)
def _coefficients(max_l: int, dtype: torch.dtype, device: torch.device | None) -> torch.Tensor:
    """The coefficients in ``dtype`` on ``device``, converted once per (dtype, device): no copy to a GPU per call."""
    return _coefficients_float64(max_l).to(dtype=dtype, device=device)


def monomial_chain(vectors: torch.Tensor, max_l: int) -> torch.Tensor:
    """``[1, v, v⊗v, ..., v^{⊗L}]`` flattened: ``(..., 3) → (..., Σ_{d≤L} 3^d)``, L - 1 products and one concatenation."""
    powers = [torch.ones_like(vectors[..., :1]), vectors]
    for _ in range(max_l - 1):
        powers.append((powers[-1].unsqueeze(-1) * vectors.unsqueeze(-2)).flatten(-2))
    return torch.cat(powers[: max_l + 1], dim=-1)


LEAN_MAX_L = 4  # the matrix form up to here (at most 121 tensor-power entries), the recurrence above


def stacked_harmonics(
    max_l: int, vectors: torch.Tensor, *, normalize: bool = True, coefficients: torch.Tensor | None = None
) -> torch.Tensor:
    """Every real :math:`Y_{lm}` (or :math:`r^l Y_{lm}`), l ≤ ``max_l``, concatenated: ``(..., 3) → (..., (L+1)²)``.

    Component ``m`` of degree ``l`` at ``l² + m + l``: :func:`spherical_harmonics_all` before its split. The matrix
    form of the module docstring up to ``LEAN_MAX_L`` (``coefficients``: :func:`harmonics_coefficients` in the
    dtype and device of ``vectors``, if the caller holds it), the recurrence above.
    """
    return _stacked(_check_arguments(max_l, vectors, "real"), vectors, normalize, coefficients)


def _stacked(max_l: int, vectors: torch.Tensor, normalize: bool, coefficients: torch.Tensor | None) -> torch.Tensor:
    """:func:`stacked_harmonics` for checked arguments."""
    if max_l > LEAN_MAX_L:  # the tensor powers grow as 3^L: the recurrence is the leaner form there
        return torch.cat(_recurrence(max_l, vectors, normalize), dim=-1)
    if coefficients is None:
        coefficients = harmonics_coefficients(max_l, dtype=vectors.dtype, device=vectors.device)
    if normalize:
        directions, nonzero = _unit_vectors(vectors)
        # at r = 0 the direction is 0: Y_0 stays, every l > 0 is 0, and where() passes them no gradient
        vectors = torch.where(nonzero, directions, 0.0)
    return monomial_chain(vectors, max_l) @ coefficients


def spherical_harmonics_all(
    max_l: int,
    vectors: torch.Tensor,
    *,
    basis: str = "real",
    normalize: bool = True,
    coefficients: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """Spherical (or solid) harmonics for every ``l = 0..max_l``; element ``l`` has shape ``(..., 2l+1)``.

    Same conventions as :func:`spherical_harmonics`. All degrees at once, as one matrix product with
    :func:`harmonics_coefficients` (``coefficients``: that matrix in the dtype and device of ``vectors``, if the
    caller holds it) up to ``LEAN_MAX_L``, the recurrence above; equal to :func:`spherical_harmonics_recurrence`,
    the textbook form.
    """
    max_l = _check_arguments(max_l, vectors, basis)
    stacked = _stacked(max_l, vectors, normalize, coefficients)
    harmonics = list(stacked.split([2 * l + 1 for l in range(max_l + 1)], dim=-1))
    if basis == "complex":
        harmonics = [_to_complex(l, h) for l, h in enumerate(harmonics)]
    return harmonics


def spherical_harmonics_recurrence(
    max_l: int, vectors: torch.Tensor, *, basis: str = "real", normalize: bool = True
) -> list[torch.Tensor]:
    """:func:`spherical_harmonics_all` in its textbook form: the recurrences, component by component."""
    harmonics = _recurrence(_check_arguments(max_l, vectors, basis), vectors, normalize)
    if basis == "complex":
        harmonics = [_to_complex(l, h) for l, h in enumerate(harmonics)]
    return harmonics


def _recurrence(max_l: int, vectors: torch.Tensor, normalize: bool) -> list[torch.Tensor]:
    """The real harmonics of :func:`spherical_harmonics_recurrence` for checked arguments."""
    if not normalize:
        return _real_solid_harmonics(max_l, vectors)
    directions, nonzero = _unit_vectors(vectors)
    harmonics = _real_solid_harmonics(max_l, directions)
    return [h if l == 0 else h * nonzero for l, h in enumerate(harmonics)]


def _check_arguments(max_l: int, vectors: torch.Tensor, basis: str) -> int:
    max_l = check_degree(max_l, "max_l")
    check_basis(basis)
    if vectors.shape[-1:] != (3,):
        raise ValueError(f"vectors must have shape (..., 3), got {tuple(vectors.shape)}")
    if not vectors.is_floating_point():
        raise ValueError(f"vectors must be a floating-point tensor, got {vectors.dtype}")
    return max_l


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
