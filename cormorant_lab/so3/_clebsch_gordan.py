r"""Clebsch–Gordan coefficients :math:`\langle l_1 m_1; l_2 m_2 | l m\rangle`, computed exactly.

The coefficients couple two spherical tensors into a third (paper, eq. 3):

.. math::

    [a \otimes_{cg} b]_{l, m} = \sum_{m_1, m_2} \langle l_1 m_1; l_2 m_2 | l m\rangle\, a_{l_1, m_1}\, b_{l_2, m_2}.

They are the unique (up to sign, fixed by the Condon–Shortley convention
:math:`\langle l_1 l_1; l_2 (l - l_1) | l l\rangle > 0`) real numbers with
:math:`C\,(D^{l_1}(R) \otimes D^{l_2}(R)) = D^{l}(R)\, C` for every rotation :math:`R`, normalised so that
:math:`\sum_{m_1 m_2} \langle l_1 m_1; l_2 m_2 | l m\rangle \langle l_1 m_1; l_2 m_2 | l' m'\rangle = \delta_{l l'}\delta_{m m'}`.

Computation: Racah's formula, rewritten so that the alternating sum is a sum of products of binomial
coefficients — integers — and the square of each coefficient is an exact rational number:

.. math::

    \langle l_1 m_1; l_2 m_2 | l m\rangle^2 =
    \frac{(2l+1)\, I^2\, (l+m)!\,(l-m)!\,(l_1-m_1)!\,(l_1+m_1)!\,(l_2-m_2)!\,(l_2+m_2)!}
         {(l_1+l_2+l+1)!\;(l_1+l_2-l)!\;(l_1-l_2+l)!\;(l-l_1+l_2)!},
    \qquad
    I = \sum_k (-1)^k \binom{l_1+l_2-l}{k}\binom{l_1-l_2+l}{l_1-m_1-k}\binom{l-l_1+l_2}{l_2+m_2-k},

with the sign of the coefficient the sign of :math:`I`. No floating-point factorial is ever formed (the
original Cormorant code used them, and they lose all precision beyond l ≈ 10); the only rounding is the final
``sqrt`` of a correctly rounded ratio of integers.

Real basis: with :math:`Y^{\mathrm{real}} = U Y^{\mathrm{complex}}` (see :mod:`._basis`),
:math:`C^{\mathrm{real}}_{m_1' m_2' m'} = \phi \sum U_{m' m} \overline{U^{(1)}_{m_1' m_1}}\,
\overline{U^{(2)}_{m_2' m_2}}\, C_{m_1 m_2 m}` where the global phase :math:`\phi = 1` when
:math:`l_1 + l_2 + l` is even and :math:`\phi = -i` when it is odd makes every entry real. It couples real
spherical tensors exactly as :math:`C` couples complex ones and keeps the same orthonormality.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import torch

from ._basis import complex_to_real
from ._validation import check_basis, check_degree, check_triangle

if TYPE_CHECKING:
    import sympy


def _squared_and_sign(l1: int, m1: int, l2: int, m2: int, l: int, m: int) -> tuple[int, int, int]:
    """Return ``(sign, numerator, denominator)`` with CG = sign * sqrt(numerator / denominator), all exact ints."""
    if m1 + m2 != m or abs(m1) > l1 or abs(m2) > l2 or abs(m) > l:
        return 0, 0, 1
    a, b, c = l1 + l2 - l, l1 - l2 + l, l - l1 + l2
    i_sum = 0
    for k in range(max(0, -(l - l2 + m1), -(l - l1 - m2)), min(a, l1 - m1, l2 + m2) + 1):
        term = math.comb(a, k) * math.comb(b, l1 - m1 - k) * math.comb(c, l2 + m2 - k)
        i_sum += -term if k % 2 else term
    if i_sum == 0:
        return 0, 0, 1
    f = math.factorial
    numerator = (2 * l + 1) * i_sum * i_sum * f(l + m) * f(l - m) * f(l1 - m1) * f(l1 + m1) * f(l2 - m2) * f(l2 + m2)
    denominator = f(l1 + l2 + l + 1) * f(a) * f(b) * f(c)
    return (1 if i_sum > 0 else -1), numerator, denominator


def _check_cg_arguments(l1: object, l2: object, l: object) -> tuple[int, int, int]:
    l1, l2, l = check_degree(l1, "l1"), check_degree(l2, "l2"), check_degree(l, "l")
    check_triangle(l1, l2, l)
    return l1, l2, l


def clebsch_gordan_exact(l1: int, m1: int, l2: int, m2: int, l: int, m: int) -> sympy.Expr:
    r"""One coefficient :math:`\langle l_1 m_1; l_2 m_2 | l m\rangle` as an exact sympy number ``±sqrt(p/q)``."""
    import sympy  # only here: importing sympy costs a second and 30 MB that the network never needs

    l1, l2, l = _check_cg_arguments(l1, l2, l)
    sign, numerator, denominator = _squared_and_sign(l1, m1, l2, m2, l, m)
    return sign * sympy.sqrt(sympy.Rational(numerator, denominator))


def clebsch_gordan_squared(l1: int, m1: int, l2: int, m2: int, l: int, m: int) -> tuple[int, Fraction]:
    """One coefficient as ``(sign, square)`` with ``square`` an exact :class:`fractions.Fraction`."""
    l1, l2, l = _check_cg_arguments(l1, l2, l)
    sign, numerator, denominator = _squared_and_sign(l1, m1, l2, m2, l, m)
    return sign, Fraction(numerator, denominator)


@functools.cache
def _complex_block(l1: int, l2: int, l: int) -> np.ndarray:
    block = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * l + 1))
    for m1 in range(-l1, l1 + 1):
        for m2 in range(max(-l2, -l - m1), min(l2, l - m1) + 1):
            sign, numerator, denominator = _squared_and_sign(l1, m1, l2, m2, l, m1 + m2)
            if sign:
                # Python's int / int is correctly rounded, so this is exact up to two roundings.
                block[m1 + l1, m2 + l2, m1 + m2 + l] = sign * math.sqrt(numerator / denominator)
    block.flags.writeable = False
    return block


@functools.cache
def _complex_to_real_numpy(l: int) -> np.ndarray:
    return complex_to_real(l).numpy()


@functools.cache
def _real_block(l1: int, l2: int, l: int) -> np.ndarray:
    u1, u2, u = (_complex_to_real_numpy(k) for k in (l1, l2, l))
    # Three successive contractions: conj(U1) on m1, conj(U2) on m2, U on m.
    real = np.tensordot(u1.conj(), _complex_block(l1, l2, l), axes=(1, 0))
    real = np.tensordot(u2.conj(), real, axes=(1, 1)).transpose(1, 0, 2)
    real = np.tensordot(real, u, axes=(2, 1))
    if (l1 + l2 + l) % 2:
        real = -1j * real
    assert np.abs(real.imag).max() < 1e-12, "real-basis CG block is not real"
    block = real.real.copy()
    block[np.abs(block) < 1e-15] = 0.0
    block.flags.writeable = False
    return block


def clebsch_gordan_numpy(l1: int, l2: int, l: int, basis: str = "real") -> np.ndarray:
    """The cached float64 block as a read-only numpy array (shape ``(2l1+1, 2l2+1, 2l+1)``); internal use."""
    l1, l2, l = _check_cg_arguments(l1, l2, l)
    return _real_block(l1, l2, l) if check_basis(basis) == "real" else _complex_block(l1, l2, l)


def clebsch_gordan(
    l1: int,
    l2: int,
    l: int,
    *,
    basis: str = "real",
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    r"""Clebsch–Gordan block of shape ``(2l1+1, 2l2+1, 2l+1)``.

    Entry ``[m1 + l1, m2 + l2, m + l]`` is :math:`\langle l_1 m_1; l_2 m_2 | l m\rangle` (``basis="complex"``,
    Condon–Shortley phase) or its real-basis counterpart (``basis="real"``, the default everywhere in
    :mod:`cormorant_lab.so3`; see the module docstring).
    Both are real. The block is computed once (exactly, see the module docstring), cached, and returned as a
    fresh copy in ``dtype`` on ``device``, so callers may modify it freely.

    Raises:
        ValueError: if a degree is negative or not an integer, or ``l`` is outside
            ``|l1 - l2| <= l <= l1 + l2``, or ``basis`` is unknown.
    """
    block = clebsch_gordan_numpy(l1, l2, l, basis)
    return torch.tensor(block, dtype=dtype, device=device)
