r"""The paper's complex form beside the real one: the two bases, the reality condition, and a complex channel split.

The paper writes SO(3) vectors in the complex basis, part :math:`F_l` with components :math:`F_{l,m}`,
:math:`m = -l..l`; the default network stores them in the real basis, :math:`F^{\rm real}_l = U_l F_l`
(:func:`~cormorant_lab.so3.complex_to_real`). A complex vector has a real-basis form exactly when it satisfies the
**reality condition**

.. math:: F_{l,-m} = (-1)^m\, \overline{F_{l,m}} \quad \text{for every } l, m.

Spherical harmonics satisfy it, *real* mixing weights keep it, and so do the pieces :math:`(l_1, l_2) \to l` of a CG
product with :math:`l_1 + l_2 + l` even; a piece with :math:`l_1 + l_2 + l` odd comes out as :math:`i` times a vector
satisfying it (:math:`\langle l_1 {-m_1}; l_2 {-m_2} | l {-m}\rangle = (-1)^{l_1+l_2-l}\langle l_1 m_1; l_2 m_2 | l m\rangle`),
which is why the real-basis CG blocks carry a factor :math:`-i` on those pieces. So the default network is the complex
one restricted to such vectors and real weights, with that fixed phase on the odd CG pieces. The reference
implementation's activations break the condition from the input on (two arbitrary reals read as one complex number)
and its weights are complex. Every complex vector splits uniquely as

.. math:: F = P + iQ, \qquad P = \tfrac12\bigl(F + \tilde F\bigr),\quad Q = \tfrac1{2i}\bigl(F - \tilde F\bigr),
    \qquad \tilde F_{l,m} = (-1)^m\, \overline{F_{l,-m}},

with :math:`P` and :math:`Q` both satisfying the condition (both real vectors), and the split commutes with
rotations. So a complex channel holds two real channels, 2(2l+1) real numbers per degree where a real channel holds
2l+1, and the reference's four invariants per channel and degree (:func:`complex_invariants`) are

.. math::

    \operatorname{Re} F_0 = P_0,\quad \operatorname{Im} F_0 = Q_0,\quad
    \operatorname{Re}\sum_m (-1)^m F_{l,m}F_{l,-m} = \lVert P_l\rVert^2 - \lVert Q_l\rVert^2,\quad
    \sum_m |F_{l,m}|^2 = \lVert P_l\rVert^2 + \lVert Q_l\rVert^2

(``docs/differences.md``). Helpers: :func:`to_basis`, :func:`reality_defect` (and :func:`part_reality_defect`),
:func:`reality_split`, :func:`complex_invariants`.
"""

from __future__ import annotations

import torch

from ..so3 import SO3Vec, complex_to_real

_COMPLEX = {torch.float64: torch.complex128, torch.float32: torch.complex64}


def _signs(l: int, part: torch.Tensor) -> torch.Tensor:
    """:math:`(-1)^m` for m = -l..l, in the real dtype of ``part``."""
    return torch.tensor([(-1.0) ** m for m in range(-l, l + 1)], dtype=part.real.dtype, device=part.device)


def _complex_parts(vec: SO3Vec) -> list[torch.Tensor]:
    return to_basis(vec, "complex").parts


def to_basis(vec: SO3Vec, basis: str, *, tolerance: float | None = None) -> SO3Vec:
    r"""``vec`` in the ``"real"`` or ``"complex"`` basis: :math:`F^{\rm real}_l = U_l F_l` (row layout ``part @ U.T``).

    Real → complex always works (the result satisfies the reality condition). Complex → real works only for vectors
    that satisfy it: otherwise ``U_l F_l`` is not real, and a ``ValueError`` names the first degree whose imaginary
    part exceeds ``tolerance`` (relative to the part's norm; default 1e-10 in double precision, 1e-5 in single).
    """
    if not isinstance(vec, SO3Vec):
        raise TypeError(f"to_basis needs an SO3Vec, got {type(vec).__name__}")
    if basis not in ("real", "complex"):
        raise ValueError(f"basis must be 'real' or 'complex', got {basis!r}")
    if vec.basis == basis:
        return vec
    parts = []
    for l, part in enumerate(vec.parts):
        if basis == "complex":
            u = complex_to_real(l, dtype=_COMPLEX.get(part.dtype, torch.complex128), device=part.device)
            parts.append(part.to(u.dtype) @ u.conj())  # F = U^† F^real, rows as vectors
            continue
        u = complex_to_real(l, dtype=part.dtype, device=part.device)
        real = part @ u.transpose(0, 1)
        if tolerance is None:
            tolerance = 1e-10 if part.dtype == torch.complex128 else 1e-5
        scale = float(real.abs().square().sum().sqrt())
        leak = float(real.imag.square().sum().sqrt())
        if leak > tolerance * max(scale, 1e-300):
            raise ValueError(
                f"part l={l} has no real-basis form: U_l F_l has an imaginary part of {leak / scale:.1e} of its norm, "
                "so the vector breaks the reality condition F_{l,-m} = (-1)^m conj(F_{l,m}); "
                "reality_split(vec) gives its two real halves P, Q with F = P + iQ"
            )
        parts.append(real.real.contiguous())
    return SO3Vec(parts, basis=basis)


def reality_defect(vec: SO3Vec) -> list[float]:
    r"""Per degree, :math:`\lVert F_{l,-m} - (-1)^m \overline{F_{l,m}} \rVert / \lVert F_l \rVert` (0 for a real vector).

    A real-basis ``SO3Vec`` is first mapped to the complex basis (where the condition is stated); for it every entry
    is 0 up to rounding.
    """
    if not isinstance(vec, SO3Vec):
        raise TypeError(f"reality_defect needs an SO3Vec, got {type(vec).__name__}")
    return [part_reality_defect(part) for part in _complex_parts(vec)]


def part_reality_defect(part: torch.Tensor) -> float:
    r"""The reality defect of one complex-basis part ``(..., channels, 2l+1)`` (l read from its last axis).

    :math:`\lVert F_{l,-m} - (-1)^m \overline{F_{l,m}} \rVert / \lVert F_l \rVert` over all its entries, e.g. for one
    piece :math:`(l_1, l_2) \to l` of a CG product.
    """
    if not isinstance(part, torch.Tensor) or part.dim() < 1 or part.shape[-1] % 2 != 1:
        raise ValueError(
            f"a part must be a tensor (..., 2l+1) in the complex basis, got {getattr(part, 'shape', part)}"
        )
    part = part.detach()
    l = (part.shape[-1] - 1) // 2
    norm = float(part.abs().square().sum().sqrt())
    gap = float((part.flip(-1) - _signs(l, part) * part.conj()).abs().square().sum().sqrt())
    return gap / norm if norm > 0 else gap


def reality_split(vec: SO3Vec) -> tuple[SO3Vec, SO3Vec]:
    r"""The unique :math:`(P, Q)` with :math:`F = P + iQ` and both satisfying the reality condition (complex basis).

    :math:`P = (F + \tilde F)/2`, :math:`Q = (F - \tilde F)/(2i)` with :math:`\tilde F_{l,m} = (-1)^m
    \overline{F_{l,-m}}`. For a vector that satisfies the condition, :math:`P = F` and :math:`Q = 0`.
    ``to_basis(P, "real")`` and ``to_basis(Q, "real")`` are the two real vectors a complex vector holds.
    """
    if not isinstance(vec, SO3Vec):
        raise TypeError(f"reality_split needs an SO3Vec, got {type(vec).__name__}")
    parts = _complex_parts(vec)
    mirrored = [_signs(l, part) * part.conj().flip(-1) for l, part in enumerate(parts)]
    p = SO3Vec([(f + g) / 2 for f, g in zip(parts, mirrored, strict=True)], basis="complex")
    q = SO3Vec([(f - g) / 2j for f, g in zip(parts, mirrored, strict=True)], basis="complex")
    return p, q


def complex_invariants(vec: SO3Vec) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    r"""The reference network's four real invariants per channel and degree, computed plainly from ``vec``.

    Returns ``"re_l0"``, ``"im_l0"`` (:math:`\operatorname{Re}/\operatorname{Im} F_{0}`, each ``(*batch, τ_0)``) and,
    per degree l, ``"bilinear"`` (:math:`\operatorname{Re}\sum_m (-1)^m F_{l,m} F_{l,-m}`) and ``"squared_norm"``
    (:math:`\sum_m |F_{l,m}|^2`), lists of ``(*batch, τ_l)``: what ``GetScalarsAtom`` of risilab/cormorant feeds its
    head (``cormorant_lab.nn.reference`` computes the same in its own layout). For a vector satisfying the reality
    condition ``bilinear`` equals ``squared_norm`` and ``im_l0`` is 0.
    """
    if not isinstance(vec, SO3Vec):
        raise TypeError(f"complex_invariants needs an SO3Vec, got {type(vec).__name__}")
    parts = _complex_parts(vec)
    return {
        "re_l0": parts[0][..., 0].real,
        "im_l0": parts[0][..., 0].imag,
        "bilinear": [(part * part.flip(-1) * _signs(l, part)).sum(-1).real for l, part in enumerate(parts)],
        "squared_norm": [(part.real.square() + part.imag.square()).sum(-1) for part in parts],
    }
