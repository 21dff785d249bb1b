r"""Exercise checkers for the notebooks: an answer is compared with the value *the package computes*.

Each exercise in :data:`EXERCISES` has a question, a hint, and a function that computes the expected answer
with :mod:`cormorant_lab.so3` (never a stored literal the package can compute), so a change of convention in
the package that would make a notebook's claim wrong fails the notebook in CI.

Usage in a notebook::

    answer = 1 / math.sqrt(3)        # the reader's value
    check_answer("cg_11_1m1_00", answer)   # prints ✓ or ✗ with a hint; returns True / False

Leaving ``answer = None`` prints the question and the hint and returns False without raising.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..so3 import (
    SO3Vec,
    cg_product,
    clebsch_gordan,
    clebsch_gordan_exact,
    euler_to_rotation,
    spherical_harmonics,
    wigner_d,
)


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise: ``expected(**given)`` is computed by the package; numbers compare to ``tolerance``."""

    question: str
    hint: str
    expected: Callable[..., Any]
    tolerance: float = 1e-9


def _cg_111_nonzero() -> int:
    return int(torch.count_nonzero(clebsch_gordan(1, 1, 1, basis="complex")))


def _y10_north_pole() -> float:
    z_axis = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    return float(spherical_harmonics(1, z_axis, basis="complex")[1].real)  # component m = 0 sits at index m + l = 1


def _character_l2() -> float:
    return float(torch.diagonal(wigner_d(2, euler_to_rotation(math.pi / 3, 0.0, 0.0), basis="complex")).sum().real)


def _l1_coupling(l: int) -> float:
    """The factor c in [a ⊗cg b]_l = c · (bilinear of a and b), from two unit vectors in the real basis."""
    def vector(x, y, z):  # real l = 1 components are ordered (y, z, x)
        scalar = torch.zeros(1, 1, dtype=torch.float64)
        return SO3Vec([scalar, torch.tensor([[y, z, x]], dtype=torch.float64)])

    if l == 1:  # e_x ⊗cg e_y against e_x × e_y = e_z, whose real l = 1 component z sits at index 1
        return float(cg_product(vector(1.0, 0.0, 0.0), vector(0.0, 1.0, 0.0), maxl=1)[1][-1, 1])
    # l = 0: e_x ⊗cg e_x against e_x · e_x = 1; the (l1, l2) = (1, 1) pair is the last l = 0 channel
    return float(cg_product(vector(1.0, 0.0, 0.0), vector(1.0, 0.0, 0.0), maxl=0)[0][-1, 0])


def _level1_channels(channels: int, max_sh: int, maxl: int) -> tuple[int, ...]:
    """Channels per degree of [F ⊕ F⊗cg F ⊕ Σ_j G_ij ⊗cg F_j] for scalar F: what the model's first atom level mixes."""
    from ..nn import AtomLevel  # the model's own bookkeeping is the reference

    return AtomLevel((channels,), max_sh, maxl, 1).mix.channels_in


EXERCISES: dict[str, Exercise] = {
    "cg_11_1m1_00": Exercise(
        "Compute ⟨1 1; 1 −1 | 0 0⟩ by hand.",
        "The l = 0 state is Σ_m c_m |1 m⟩|1 −m⟩ with all |c_m| equal and Σ|c_m|² = 1; Condon–Shortley fixes the sign of c_1.",
        lambda: float(clebsch_gordan_exact(1, 1, 1, -1, 0, 0)),
    ),
    "cg_111_nonzero": Exercise(
        "How many of the 27 entries of the block C^{1 1 1} (complex basis) are nonzero?",
        "Only m = m1 + m2 survives; and is ⟨1 0; 1 0 | 1 0⟩ nonzero? (l1 + l2 + l is odd.)",
        _cg_111_nonzero,
    ),
    "y10_north_pole": Exercise(
        "What is Y_1^0 at the north pole r̂ = (0, 0, 1)?",
        "Y_1^0(θ, φ) = √(3/4π) cos θ.",
        _y10_north_pole,
    ),
    "character_l2": Exercise(
        "What is the trace of D^2(R) for a rotation by π/3 (about any axis)?",
        "The trace is a class function: for a rotation by θ about z, D^l is diagonal with entries e^{±imθ}.",
        _character_l2,
    ),
    "cross_product_factor": Exercise(
        "Find c with [a ⊗cg b]_1 = c · (a × b) for two l = 1 vectors a, b (real basis).",
        "Couple e_x with e_y and read off the z component (the middle one in the real (y, z, x) order).",
        lambda: _l1_coupling(1),
    ),
    "dot_product_factor": Exercise(
        "Find c with [a ⊗cg b]_0 = c · (a · b) for two l = 1 vectors a, b (real basis).",
        "Couple e_x with itself and read off the l = 0 output of the pair (1, 1).",
        lambda: _l1_coupling(0),
    ),
    "level1_channels": Exercise(
        "Channels per degree of [F ⊕ F⊗cg F ⊕ Σ_j G_ij ⊗cg F_j] at level 1, before the mixing W¹?",
        "F⁰ has only l = 0 (C channels); F⊗F of scalars is a scalar; G has every l ≤ max_sh, each C channels.",
        _level1_channels,
    ),
}


def _as_plain(value: Any) -> Any:
    """Tensors, numpy numbers and sympy numbers become Python floats, ints or tuples."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.dim() == 0 else tuple(value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(_as_plain(v) for v in value)
    if hasattr(value, "__float__") and not isinstance(value, (int, float, bool)):
        return float(value)
    return value


def _matches(value: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, tuple):
        return isinstance(value, tuple) and len(value) == len(expected) and all(
            _matches(v, e, tolerance) for v, e in zip(value, expected)
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(expected, int) and isinstance(value, int):
        return value == expected
    return math.isclose(float(value), float(expected), rel_tol=tolerance, abs_tol=tolerance)


def check_answer(name: str, value: Any, /, *, verbose: bool = True, **given: Any) -> bool:
    """Check the answer ``value`` to exercise ``name`` (see :data:`EXERCISES`); print ✓ or ✗ and a hint.

    ``given`` passes the exercise's parameters (e.g. ``channels=4, max_sh=2, maxl=2`` for ``"level1_channels"``).
    Numbers may be Python numbers, 0-d tensors or sympy numbers and agree to the exercise's tolerance (1e-9
    relative or absolute); integers and tuples must match exactly. ``value=None`` means not attempted yet.

    Raises:
        KeyError: for an unknown exercise name (the message lists the known ones).
    """
    if name not in EXERCISES:
        raise KeyError(f"unknown exercise {name!r}; known: {', '.join(sorted(EXERCISES))}")
    exercise = EXERCISES[name]
    if value is None or value is Ellipsis:
        if verbose:
            print(f"… {name}: not answered yet. {exercise.question}\n  Hint: {exercise.hint}")
        return False
    expected = _as_plain(exercise.expected(**given))
    answer = _as_plain(value)
    correct = _matches(answer, expected, exercise.tolerance)
    if verbose:
        if correct:
            print(f"✓ {name}: correct ({answer!r}).")
        else:
            print(f"✗ {name}: not quite — you gave {answer!r}. {exercise.question}\n  Hint: {exercise.hint}")
    return correct
