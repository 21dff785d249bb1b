r"""Exercise checkers for the notebooks: the learner writes an answer, the package says right or wrong, and why.

Each exercise in :data:`EXERCISES` has a question, a hint, and either a function that computes the expected answer
with :mod:`cormorant_lab.so3` (never a stored literal the package can compute; numbers, integers, tuples) or a
``judge`` that examines an answer that is itself code (a function, a covariant map) and explains what it found.

Solutions live here, not in the notebooks: :func:`show_solution` prints one when the learner asks for it, so *Run
All* never executes or shows a solution and a collapsed cell cannot leak one. CI runs every solution through the same
checker (:func:`solution_answer`, ``tests/tutorial/test_exercises.py``), with each exercise's ``example`` parameters.

Usage in a notebook::

    answer = 1 / math.sqrt(3)        # the reader's value
    check_answer("cg_11_1m1_00", answer)   # prints ✓ or ✗ with the reason; returns True / False
    show_solution("cg_11_1m1_00")          # only when stuck

Leaving ``answer = None`` prints the question and the hint and returns False without raising.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..so3 import (
    SO3Vec,
    cg_product,
    clebsch_gordan,
    clebsch_gordan_exact,
    euler_to_rotation,
    random_rotation,
    spherical_harmonics,
    wigner_d,
)


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    ``expected(**given)`` is computed by the package and answers compare to it (numbers to ``tolerance``); or, for
    answers that are code, ``judge(answer, **given)`` returns ``(correct, reason)``. ``solution`` is Python source that
    sets ``answer`` (it may use the ``given`` names), ``why`` the one-line reason printed with ✓, and ``example`` the
    ``given`` parameters CI checks the solution with.
    """

    question: str
    hint: str
    expected: Callable[..., Any] | None = None
    tolerance: float = 1e-9
    solution: str = ""
    why: str = ""
    judge: Callable[..., tuple[bool, str]] | None = None
    example: dict = field(default_factory=dict)


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


def _judge_exchange_sign(sign: Callable[[int, int, int], Any], max_l: int = 3) -> tuple[bool, str]:
    """``sign(l1, l2, l)`` must give s with C^{l2 l1 l}[m2, m1, m] = s · C^{l1 l2 l}[m1, m2, m] for every block."""
    for l1 in range(max_l + 1):
        for l2 in range(max_l + 1):
            for l in range(abs(l1 - l2), l1 + l2 + 1):
                swapped = clebsch_gordan(l2, l1, l).transpose(0, 1)
                try:
                    s = float(sign(l1, l2, l))
                except Exception as error:  # the learner's code: report, do not crash the notebook
                    return False, f"your function raised {type(error).__name__}: {error} at (l1, l2, l) = {(l1, l2, l)}"
                if not torch.allclose(swapped, s * clebsch_gordan(l1, l2, l), atol=1e-12):
                    actual = float((swapped * clebsch_gordan(l1, l2, l)).sum() / clebsch_gordan(l1, l2, l).pow(2).sum())
                    return (
                        False,
                        f"at (l1, l2, l) = {(l1, l2, l)} you gave {s:g}, but swapping the factors multiplies the block by {actual:g}",
                    )
    return True, f"checked on every block with l1, l2 ≤ {max_l}"


def _judge_parity_sign(sign: Callable[[int], Any], max_l: int = 6) -> tuple[bool, str]:
    """``sign(l)`` must give s_l with Y_l(−r) = s_l Y_l(r)."""
    points = torch.randn(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for l in range(max_l + 1):
        try:
            s = float(sign(l))
        except Exception as error:
            return False, f"your function raised {type(error).__name__}: {error} at l = {l}"
        plus, minus = spherical_harmonics(l, points, basis="real"), spherical_harmonics(l, -points, basis="real")
        if not torch.allclose(minus, s * plus, atol=1e-12):
            return (
                False,
                f"at l = {l} you gave {s:g}; compare spherical_harmonics({l}, -r) with spherical_harmonics({l}, r)",
            )
    return True, f"checked for l ≤ {max_l}: inversion multiplies Y_l by (−1)^l"


def _is_false(answer: Any, reason_true: str, reason_false: str) -> tuple[bool, str]:
    if not isinstance(answer, bool):
        return False, f"answer True or False (got {answer!r})"
    return (not answer, reason_false) if not answer else (False, reason_true)


def _judge_gated(gate: Callable[[SO3Vec], SO3Vec]) -> tuple[bool, str]:
    """``gate`` must be covariant (to 1e-10, float64), keep the type of its input, and not be linear."""
    generator = torch.Generator().manual_seed(0)
    parts = [torch.randn(4, 3, 2 * l + 1, dtype=torch.float64, generator=generator) for l in range(3)]
    f = SO3Vec(parts)
    rotation = random_rotation(4, generator=generator, dtype=torch.float64)
    try:
        out, out_rotated, doubled = gate(f), gate(f.rotate(rotation)), gate(f * 2.0)
    except Exception as error:
        return (
            False,
            f"your function raised {type(error).__name__}: {error} on an SO3Vec with l = 0, 1, 2 and 3 channels",
        )
    if not isinstance(out, SO3Vec) or out.channels != f.channels:
        return (
            False,
            f"it should return an SO3Vec of the same type {f.channels}, got {getattr(out, 'channels', type(out).__name__)}",
        )
    errors = [
        float((a - b).norm() / max(float(b.norm()), 1e-300))
        for a, b in zip(out_rotated, out.rotate(rotation), strict=False)
    ]
    if max(errors) > 1e-10:
        worst = max(range(len(errors)), key=errors.__getitem__)
        return (
            False,
            f"not covariant: at l = {worst} gate(D F) differs from D gate(F) by {errors[worst]:.1e} (relative)",
        )
    if all(torch.allclose(a, 2.0 * b, atol=1e-12) for a, b in zip(doubled, out, strict=False)):
        return False, "covariant, but linear (gate(2F) = 2 gate(F)): a nonlinearity must not be"
    return True, f"covariant to {max(errors):.0e} and nonlinear"


def _judge_real_part(real_part: Callable[[SO3Vec], SO3Vec], tolerance: float = 1e-10) -> tuple[bool, str]:
    """``real_part(F)`` must give the P of F = P + iQ with P and Q both satisfying the reality condition."""
    from ._reality import reality_defect  # the package's measure of the condition is the reference

    generator = torch.Generator().manual_seed(0)
    parts = [torch.randn(3, 2, 2 * l + 1, dtype=torch.complex128, generator=generator) for l in range(4)]
    f = SO3Vec(parts, basis="complex")
    try:
        p = real_part(f)
    except Exception as error:  # the learner's code: report, do not crash the notebook
        return False, f"your function raised {type(error).__name__}: {error} on a complex SO3Vec with l = 0..3"
    if not isinstance(p, SO3Vec) or p.basis != "complex" or p.channels != f.channels:
        got = f"{p.channels}, basis {p.basis!r}" if isinstance(p, SO3Vec) else type(p).__name__
        return False, f"return a complex-basis SO3Vec of the same type {f.channels} as F, got {got}"
    defects = reality_defect(p)
    if max(defects) > tolerance:
        first = next(l for l, d in enumerate(defects) if d > tolerance)
        return False, f"your P breaks the reality condition at l = {first} (reality_defect {defects[first]:.1e})"
    q_defects = reality_defect((f - p) * -1j)
    if max(q_defects) > tolerance:
        first = next(l for l, d in enumerate(q_defects) if d > tolerance)
        return (
            False,
            f"P satisfies the condition, but Q = (F − P)/i does not at l = {first} (reality_defect "
            f"{q_defects[first]:.1e}): P must be the part of F that satisfies it, not any such vector",
        )
    return True, f"P and Q = (F − P)/i both satisfy the condition to {max(defects + q_defects):.0e} at l = 0..3"


def _l1_arrow(features: tuple[float, float, float]) -> tuple[float, ...]:
    from ..viz import l1_to_vector  # the drawing's own map is the reference

    return tuple(l1_to_vector(torch.tensor(features, dtype=torch.float64)).tolist())


def _ellipsoid_volume_ratio() -> float:
    from ..viz import ellipsoid_matrix, l2_to_tensor

    f2 = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return float(torch.linalg.det(ellipsoid_matrix(l2_to_tensor(f2), radius=1.0, scale=0.7)))


def _broken_levels(levels: tuple[str, ...], broken_at: str) -> tuple[str, ...]:
    """The levels a non-covariant operation after ``broken_at`` spoils: that one and every later one, in order."""
    levels = tuple(levels)
    if broken_at not in levels:
        raise ValueError(f"{broken_at!r} is not one of the levels {levels}")
    return levels[levels.index(broken_at) :]


EXERCISES: dict[str, Exercise] = {
    "cg_11_1m1_00": Exercise(
        "Compute ⟨1 1; 1 −1 | 0 0⟩ by hand.",
        "The l = 0 state is Σ_m c_m |1 m⟩|1 −m⟩ with all |c_m| equal and Σ|c_m|² = 1; Condon–Shortley fixes the sign of c_1.",
        lambda: float(clebsch_gordan_exact(1, 1, 1, -1, 0, 0)),
        why="|0 0⟩ = Σ_m (−1)^(1−m)/√3 |1 m⟩|1 −m⟩: three equal weights, and Condon–Shortley makes the m1 = l1 = 1 term positive.",
        solution="""\
# |0 0⟩ = Σ_m c_m |1 m⟩|1 −m⟩ with three equal |c_m| and Σ|c_m|² = 1, so |c_m| = 1/√3.
# Condon–Shortley: ⟨l1 l1; l2 (l − l1) | l l⟩ > 0, here ⟨1 1; 1 −1 | 0 0⟩ > 0.
answer = 1 / math.sqrt(3)
""",
    ),
    "cg_111_nonzero": Exercise(
        "How many of the 27 entries of the block C^{1 1 1} (complex basis) are nonzero?",
        "Only m = m1 + m2 survives; and is ⟨1 0; 1 0 | 1 0⟩ nonzero? (l1 + l2 + l is odd.)",
        _cg_111_nonzero,
        why="m = m1 + m2 with |m| ≤ 1 leaves 7 entries, and ⟨1 0; 1 0 | 1 0⟩ = 0: the l = 1 coupling of two l = 1 "
        "tensors is antisymmetric.",
        solution="""\
# m = m1 + m2 with |m| ≤ 1 leaves 7 pairs (m1, m2): (1,−1), (0,0), (−1,1), (1,0), (0,1), (−1,0), (0,−1).
# The l = 1 coupling of two l = 1 tensors is antisymmetric (the cross product): C[m1, m2] = −C[m2, m1],
# so the diagonal entry ⟨1 0; 1 0 | 1 0⟩ is 0.
answer = 7 - 1
""",
    ),
    "cg_exchange_sign": Exercise(
        "Give a function sign(l1, l2, l) with ⟨l2 m2; l1 m1 | l m⟩ = sign(l1, l2, l) · ⟨l1 m1; l2 m2 | l m⟩.",
        "Compare clebsch_gordan(l2, l1, l).transpose(0, 1) with clebsch_gordan(l1, l2, l) for a few blocks; the sign "
        "depends on l1 + l2 − l only.",
        judge=lambda sign: _judge_exchange_sign(sign),
        why="swapping the two factors multiplies the block by (−1)^(l1+l2−l): symmetric when l1 + l2 − l is even.",
        solution="""\
# ⟨l2 m2; l1 m1 | l m⟩ = (−1)^(l1 + l2 − l) ⟨l1 m1; l2 m2 | l m⟩ (e.g. the antisymmetric l = 1 part of 1 ⊗ 1).
def answer(l1, l2, l):
    return (-1) ** (l1 + l2 - l)
""",
    ),
    "y10_north_pole": Exercise(
        "What is Y_1^0 at the north pole r̂ = (0, 0, 1)?",
        "Y_1^0(θ, φ) = √(3/4π) cos θ.",
        _y10_north_pole,
        why="θ = 0 at the north pole, so Y_1^0 = √(3/4π) · cos 0 ≈ 0.4886.",
        solution="""\
# θ = 0 at the north pole: Y_1^0 = sqrt(3 / 4π) · cos 0.
answer = math.sqrt(3 / (4 * math.pi))
""",
    ),
    "character_l2": Exercise(
        "What is the trace of D^2(R) for a rotation by π/3 (about any axis)?",
        "The trace is a class function: for a rotation by θ about z, D^l is diagonal with entries e^{±imθ}.",
        _character_l2,
        why="χ_2(θ) = Σ_{m=−2..2} e^{imθ} = 1 + 2 cos θ + 2 cos 2θ = 1 at θ = π/3.",
        solution="""\
# χ_2(θ) = Σ_{m=-2..2} e^{imθ} = 1 + 2 cos θ + 2 cos 2θ; at θ = π/3: 1 + 1 − 1.
answer = 1 + 2 * math.cos(math.pi / 3) + 2 * math.cos(2 * math.pi / 3)
""",
    ),
    "parity_sign": Exercise(
        "Give a function sign(l) with Y_l(−r̂) = sign(l) · Y_l(r̂) for every direction r̂.",
        "Y_l is a homogeneous polynomial of degree l in (x, y, z); try spherical_harmonics(l, -v) against spherical_harmonics(l, v).",
        judge=lambda sign: _judge_parity_sign(sign),
        why="Y_l is a homogeneous polynomial of degree l, so r → −r multiplies it by (−1)^l.",
        solution="""\
# r^l Y_l(r̂) is a homogeneous polynomial of degree l in (x, y, z): flipping all three signs gives (−1)^l.
def answer(l):
    return (-1) ** l
""",
    ),
    "inversion_is_rotation": Exercise(
        "Is there a rotation R (an element of SO(3)) with R r̂ = −r̂ for every r̂? Answer True or False.",
        "Such an R would be the matrix −I. What is its determinant?",
        judge=lambda answer: _is_false(
            answer,
            "det(−I) = −1 in three dimensions; rotations have det = +1.",
            "−I has determinant −1; rotations have +1. Inversion is in O(3), not SO(3), so "
            "SO(3) covariance promises nothing about mirror images.",
        ),
        solution="""\
# R = −I would do it, but det(−I) = (−1)^3 = −1, and every rotation has det R = +1.
answer = False
""",
    ),
    "cross_product_factor": Exercise(
        "Find c with [a ⊗cg b]_1 = c · (a × b) for two l = 1 vectors a, b (real basis).",
        "Couple e_x with e_y and read off the z component (the middle one in the real (y, z, x) order).",
        lambda: _l1_coupling(1),
        why="the l = 1 CG block of 1 ⊗ 1 is the Levi-Civita symbol up to 1/√2 (normalised: Σ (1/√2)² · 2 = 1 per output).",
        solution="""\
# Couple e_x with e_y, read off the z component; real l = 1 components are ordered (y, z, x).
ex = SO3Vec([torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])
ey = SO3Vec([torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)])
product = cg_product(ex, ey, maxl=1)[1]   # (channels, 3): the (1, 1) → 1 piece is the last channel
answer = float(product[-1, 1])           # e_x × e_y = e_z: its z component is the middle one
""",
    ),
    "dot_product_factor": Exercise(
        "Find c with [a ⊗cg b]_0 = c · (a · b) for two l = 1 vectors a, b (real basis).",
        "Couple e_x with itself and read off the l = 0 output of the pair (1, 1).",
        lambda: _l1_coupling(0),
        why="⟨1 m; 1 −m | 0 0⟩ = (−1)^(1−m)/√3, and in the real basis Σ_m (−1)^(1−m) a_m b_−m becomes −a · b.",
        solution="""\
# Couple e_x with itself (e_x · e_x = 1) and read off the l = 0 output of the pair (1, 1), the last l = 0 channel.
ex = SO3Vec([torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])
answer = float(cg_product(ex, ex, maxl=0)[0][-1, 0])
""",
    ),
    "gated_nonlinearity": Exercise(
        "Write gated(F): multiply each channel F_l^c (l > 0) by σ(‖F_l^c‖) and apply any function to F_0. It must be "
        "covariant and nonlinear.",
        "The norms are invariant (F.norms()[l] has shape (*batch, channels)); multiply part l by sigmoid(norm)[..., None].",
        judge=lambda gated: _judge_gated(gated),
        why="the gate σ(‖F_l^c‖) is an invariant, so it commutes with D^l; but it cannot create new degrees or turn a "
        "direction — only the CG product couples directions.",
        solution="""\
# The gate is a function of an invariant (a norm), so it commutes with D^l; F_0 may go through any function.
def answer(f):
    gated = [torch.tanh(f[0])]
    gated += [part * torch.sigmoid(norm).unsqueeze(-1) for part, norm in zip(f.parts[1:], f.norms()[1:])]
    return SO3Vec(gated)
""",
    ),
    "reality_real_part": Exercise(
        "Write real_part(F) for a complex-basis SO3Vec F: the P of F = P + iQ where P and Q both satisfy the reality "
        "condition F_{l,−m} = (−1)^m conj(F_{l,m}).",
        "The map F ↦ F̃ with F̃_{l,m} = (−1)^m conj(F_{l,−m}) leaves exactly the vectors satisfying the condition "
        "unchanged; what does it do to iQ? Part l is (..., channels, 2l+1) with m = −l..l along the last axis: "
        "flip(-1) reverses m.",
        judge=lambda real_part: _judge_real_part(real_part),
        why="F̃ = P − iQ, so P = (F + F̃)/2 and Q = (F − F̃)/(2i): a complex channel is two real ones.",
        solution="""\
# F̃_{l,m} = (−1)^m conj(F_{l,−m}) fixes the vectors satisfying the condition, and F̃ = P − iQ: P = (F + F̃)/2.
def answer(f):
    parts = []
    for l, part in enumerate(f):
        signs = torch.tensor([(-1.0) ** m for m in range(-l, l + 1)], dtype=torch.float64)
        parts.append((part + signs * part.conj().flip(-1)) / 2)
    return SO3Vec(parts, basis="complex")
""",
    ),
    "level1_channels": Exercise(
        "Channels per degree of [F ⊕ F⊗cg F ⊕ Σ_j G_ij ⊗cg F_j] at level 1, before the mixing W¹?",
        "F⁰ has only l = 0 (C channels); F⊗F of scalars is a scalar; G has every l ≤ max_sh, each C channels.",
        _level1_channels,
        why="l = 0 gets C (F⁰) + C (F⁰ ⊗ F⁰) + C (G_0 ⊗ F⁰); each 0 < l ≤ min(max_sh, maxl) gets C from G_l ⊗ F⁰.",
        example={"channels": 4, "max_sh": 2, "maxl": 3},
        solution="""\
# l = 0: C (F^0) + C (F^0 ⊗ F^0, scalars times scalars) + C (G_0 ⊗ F^0);
# each 0 < l ≤ min(max_sh, maxl): C channels from G_l ⊗ F^0 (a scalar F^0 keeps the degree of G).
answer = (3 * channels,) + (channels,) * min(max_sh, maxl)
""",
    ),
    "broken_levels": Exercise(
        "A non-covariant operation is slipped in right after the level broken_at. Which levels will the checker find "
        "broken? Give their names, in forward-pass order.",
        "A level is computed from the ones before it; the output too (it is listed separately by the checker).",
        lambda levels, broken_at: _broken_levels(levels, broken_at),
        why="every level downstream reads the broken one, edge levels included: their 'invariant' dot products F_i · F_j "
        "are invariant only if F is covariant.",
        example={"levels": ("input", "edge_1", "atom_1", "edge_2", "atom_2"), "broken_at": "atom_1"},
        solution="""\
# The broken level and everything computed after it (edge levels read F_i · F_j of the atom level before them).
answer = tuple(levels[list(levels).index(broken_at):])
""",
    ),
    "mirror_same_energy": Exercise(
        "Must a rotation-invariant (SO(3)) model give a chiral molecule and its mirror image the same energy? True or False.",
        "The mirror image is x → −x (or a reflection). Is that a rotation? (Exercise 3 of notebook 02.)",
        judge=lambda answer: _is_false(
            answer,
            "a reflection is not a rotation, so invariance under SO(3) does not force it.",
            "a reflection has det −1: SO(3) invariance says nothing about it. Physics says the "
            "energies are equal; a model that should know it must be made O(3) invariant.",
        ),
        solution="""\
# The mirror image is reached by a reflection (det −1), not by a rotation: SO(3) invariance does not constrain it.
answer = False
""",
    ),
    "l1_arrow_direction": Exercise(
        "An l = 1 feature has real components (f_{−1}, f_0, f_1) = features. Which Cartesian vector (x, y, z) does its "
        "arrow draw?",
        "The real l = 1 harmonics are √(3/4π) (y, z, x): component m = −1 is y, m = 0 is z, m = 1 is x.",
        lambda features: _l1_arrow(tuple(features)),
        why="v = P f with the permutation P of the real order (y, z, x) back to (x, y, z).",
        example={"features": (0.0, 0.0, 1.0)},
        tolerance=1e-12,
        solution="""\
# Real components are ordered (y, z, x): f_{-1} is y, f_0 is z, f_1 is x.
f_minus, f_zero, f_plus = features
answer = (f_plus, f_minus, f_zero)
""",
    ),
    "ellipsoid_volume": Exercise(
        "An l = 2 feature is drawn as M = ρ exp(T/s) with T symmetric and traceless. What is det(M) / ρ³ (the volume of "
        "the ellipsoid relative to the sphere of radius ρ)?",
        "det exp(A) = exp(tr A).",
        _ellipsoid_volume_ratio,
        why="det exp(T/s) = exp(tr T / s) = exp(0) = 1: every l = 2 ellipsoid has the sphere's volume; only its shape and "
        "orientation carry the feature.",
        solution="""\
# det exp(A) = exp(tr A), and T is traceless: the ellipsoid keeps the volume of the sphere of radius ρ.
answer = 1.0
""",
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
        return (
            isinstance(value, tuple)
            and len(value) == len(expected)
            and all(_matches(v, e, tolerance) for v, e in zip(value, expected, strict=False))
        )
    if isinstance(expected, str):
        return isinstance(value, str) and value.strip() == expected
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(expected, int) and isinstance(value, int):
        return value == expected
    return math.isclose(float(value), float(expected), rel_tol=tolerance, abs_tol=tolerance)


def _diagnose(answer: Any, expected: Any, tolerance: float) -> str:
    """A reason a numeric answer is wrong, more specific than 'wrong' where it can be."""
    if isinstance(expected, tuple):
        if not isinstance(answer, tuple):
            return f"give a tuple of {len(expected)} entries"
        if len(answer) != len(expected):
            return f"you gave {len(answer)} entries; there should be {len(expected)}"
        wrong = [i for i, (a, e) in enumerate(zip(answer, expected, strict=False)) if not _matches(a, e, tolerance)]
        return f"entries {wrong} (counting from 0) are off"
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return f"give a number, not {type(answer).__name__}"
    if isinstance(expected, int) and isinstance(answer, float) and not answer.is_integer():
        return "this one is a whole number"
    if _matches(-float(answer), float(expected), tolerance) and float(expected) != 0:
        return "right size, wrong sign"
    if float(expected) != 0 and float(answer) != 0:
        ratio = float(answer) / float(expected)
        for factor, name in (
            (2.0, "2"),
            (0.5, "1/2"),
            (math.sqrt(2), "√2"),
            (1 / math.sqrt(2), "1/√2"),
            (math.sqrt(3), "√3"),
            (1 / math.sqrt(3), "1/√3"),
            (4 * math.pi, "4π"),
        ):
            if math.isclose(abs(ratio), factor, rel_tol=1e-6):
                return f"off by a factor of {name}" + (" and the sign" if ratio < 0 else "")
    return "not this value"


def check_answer(name: str, value: Any, /, *, verbose: bool = True, **given: Any) -> bool:
    """Check the answer ``value`` to exercise ``name`` (see :data:`EXERCISES`); print ✓ or ✗ and why.

    ``given`` passes the exercise's parameters (e.g. ``channels=4, max_sh=2, maxl=2`` for ``"level1_channels"``).
    Numbers may be Python numbers, 0-d tensors or sympy numbers and agree to the exercise's tolerance (1e-9
    relative or absolute); integers and tuples must match exactly. Answers that are code (a function) are examined by
    the exercise's judge. ``value=None`` means not attempted yet.

    Raises:
        KeyError: for an unknown exercise name (the message lists the known ones).
    """
    exercise = _exercise(name)
    if value is None or value is Ellipsis:
        if verbose:
            print(f"… {name}: not answered yet. {exercise.question}\n  Hint: {exercise.hint}")
        return False
    if exercise.judge is not None:
        correct, reason = exercise.judge(value, **given)
        shown = getattr(value, "__name__", repr(value))
    else:
        expected = _as_plain(exercise.expected(**given))
        answer = _as_plain(value)
        correct = _matches(answer, expected, exercise.tolerance)
        reason = "" if correct else _diagnose(answer, expected, exercise.tolerance)
        shown = repr(answer)
    if verbose:
        if correct:
            print(f"✓ {name}: correct ({shown}). {exercise.why or reason}".rstrip())
        else:
            print(
                f"✗ {name}: not quite — {reason}. {exercise.question}\n  Hint: {exercise.hint}\n"
                f"  (Stuck? show_solution({name!r}) prints a worked solution.)"
            )
    return correct


def _exercise(name: str) -> Exercise:
    if name not in EXERCISES:
        raise KeyError(f"unknown exercise {name!r}; known: {', '.join(sorted(EXERCISES))}")
    return EXERCISES[name]


def show_solution(name: str) -> None:
    """Print the worked solution of exercise ``name`` (Python source that sets ``answer``); it is not run."""
    exercise = _exercise(name)
    print(f"# Solution of {name}: {exercise.question}\n{exercise.solution}", end="")
    if exercise.why:
        print(f"# Why: {exercise.why}")


def solution_answer(name: str, **given: Any) -> Any:
    """Run the solution of exercise ``name`` with ``given`` (default: its ``example``) and return its ``answer``.

    CI checks each solution through :func:`check_answer` with this; a notebook never needs it.
    """
    exercise = _exercise(name)
    namespace = {
        "math": math,
        "torch": torch,
        "SO3Vec": SO3Vec,
        "cg_product": cg_product,
        **(given or exercise.example),
    }
    exec(compile(exercise.solution, f"<solution of {name}>", "exec"), namespace)  # package source, not user input
    return namespace["answer"]
