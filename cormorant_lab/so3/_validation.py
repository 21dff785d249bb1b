"""Argument checks shared by the SO(3) functions, with messages that say what is wrong."""

from __future__ import annotations

import numbers

BASES = ("real", "complex")


def check_degree(l: object, name: str = "l") -> int:
    """Return ``l`` as an int if it is a non-negative integer degree, else raise ``ValueError``."""
    if isinstance(l, bool) or not isinstance(l, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {l!r} ({type(l).__name__})")
    if l < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {l}")
    return int(l)


def check_triangle(l1: int, l2: int, l: int) -> None:
    """Raise ``ValueError`` unless ``|l1 - l2| <= l <= l1 + l2``."""
    if not abs(l1 - l2) <= l <= l1 + l2:
        raise ValueError(
            f"degrees (l1, l2, l) = ({l1}, {l2}, {l}) violate the triangle condition "
            f"|l1 - l2| <= l <= l1 + l2, i.e. {abs(l1 - l2)} <= l <= {l1 + l2}"
        )


def check_basis(basis: str) -> str:
    """Return ``basis`` if it is ``"real"`` or ``"complex"``, else raise ``ValueError``."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    return basis
