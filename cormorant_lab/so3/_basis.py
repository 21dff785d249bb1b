r"""The unitary change of basis between complex and real spherical harmonics.

With the Condon–Shortley phase in the complex harmonics :math:`Y_l^m`, the real harmonics are

.. math::

    Y_{l m}^{\mathrm{real}} = \begin{cases}
        \tfrac{i}{\sqrt 2}\,\bigl(Y_l^{m} - (-1)^m Y_l^{-m}\bigr) & m < 0 \\
        Y_l^0 & m = 0 \\
        \tfrac{1}{\sqrt 2}\,\bigl(Y_l^{-m} + (-1)^m Y_l^{m}\bigr) & m > 0
    \end{cases}

so that :math:`Y^{\mathrm{real}} = U_l\, Y^{\mathrm{complex}}` with the unitary matrix :math:`U_l` built here
(rows and columns ordered :math:`m = -l, \dots, l`). For :math:`l = 1` the real harmonics are
:math:`\sqrt{3/4\pi}\,(y, z, x)/r`.
"""

from __future__ import annotations

import functools
import math

import torch

from ._validation import check_degree


@functools.cache
def _complex_to_real_cached(l: int) -> torch.Tensor:
    size = 2 * l + 1
    u = torch.zeros(size, size, dtype=torch.complex128)
    s = 1 / math.sqrt(2)
    u[l, l] = 1
    for m in range(1, l + 1):
        sign = (-1) ** m
        # Row +m: (Y^{-m} + (-1)^m Y^{m}) / sqrt 2.
        u[l + m, l - m] = s
        u[l + m, l + m] = sign * s
        # Row -m: i (Y^{-m} - (-1)^m Y^{m}) / sqrt 2, written with the row index l - m.
        u[l - m, l - m] = torch.tensor(1j * s, dtype=u.dtype)
        u[l - m, l + m] = torch.tensor(-1j * sign * s, dtype=u.dtype)
    return u


def complex_to_real(l: int, *, dtype: torch.dtype = torch.complex128, device=None) -> torch.Tensor:
    r"""The unitary matrix :math:`U_l` (shape ``(2l+1, 2l+1)``) with :math:`Y^{\mathrm{real}} = U_l Y^{\mathrm{complex}}`.

    Index ``[m + l, m' + l]``. A Wigner matrix changes basis as :math:`D^{\mathrm{real}} = U D U^\dagger`.
    """
    l = check_degree(l)
    return _complex_to_real_cached(l).to(dtype=dtype, device=device, copy=True)


# The cyclic permutation (x, y, z) -> (z, x, y) as an active rotation: det +1, P (x, y, z) = (z, x, y).
_E3NN_CYCLE = ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def real_to_e3nn(l: int, *, dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    r"""The orthogonal matrix :math:`Q_l` (shape ``(2l+1, 2l+1)``) from our real basis to e3nn's (e3nn ≥ 0.2.2).

    e3nn orders its real harmonics so that ``l = 1`` is :math:`(x, y, z)`; ours give :math:`(y, z, x)`. Both are
    the same real harmonics read in frames related by the cyclic rotation :math:`P: (x, y, z) \mapsto (z, x, y)`,
    so :math:`Y^{\mathrm{e3nn}}_l(r) = Y_l(P r) = D^l(P)\, Y_l(r)` and

    .. math::

        Q_l = D^l(P),\qquad Y^{\mathrm{e3nn}}_l = Q_l Y_l,\qquad D^{l,\mathrm{e3nn}}(R) = Q_l D^l(R) Q_l^{\top},

    with :math:`Y_l` and :math:`D^l` in the real basis and e3nn's harmonics with ``normalization="integral"``
    (its ``"component"`` default multiplies them by :math:`\sqrt{4\pi}`). For ``l = 1``, :math:`Q_1 = P`; for
    ``l >= 2`` :math:`Q_l` is not a permutation. ``tests/so3/test_e3nn_basis.py`` checks all of this against e3nn.
    """
    from ._wigner import wigner_d  # _wigner imports this module

    l = check_degree(l)
    cycle = torch.tensor(_E3NN_CYCLE, dtype=torch.float64)
    return wigner_d(l, cycle, basis="real").to(dtype=dtype, device=device)
