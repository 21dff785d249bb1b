r"""The covariance checker: rotate, translate and permute a batch, and measure how far a model is from exact symmetry.

For a model :math:`f` of positions :math:`x` (and charges), Haar-random rotations :math:`R` (one per molecule),
random translations :math:`t` and random atom permutations :math:`P` (one per molecule, padding slots included)
are drawn, and

* the **invariance error** of the output, :math:`\lVert f(P(Rx + t)) - f(x)\rVert / \lVert f(x)\rVert`;
* the **covariance error** of every level and degree l,
  :math:`\lVert F_l(Rx) - F_l(x)\, D^l(R)^\top \rVert / \lVert F_l(x) \rVert` (the paper's :math:`F_l \mapsto D^l(R) F_l`
  in our row layout);
* the **translation** and **permutation** errors, output and levels, each transformation alone:
  :math:`F(x + t) = F(x)` and :math:`F(Px) = P F(x)`;

are reported, the maximum over ``n_rotations`` trials. Norms are Frobenius norms over the whole batch; where
the reference norm is 0 the absolute error is reported. Mind offsets: an output that carries a large constant
(a trained energy model adds its target mean, e.g. -97,000 kcal/mol of total energy) makes the relative output
errors tiny whatever the network does; the level × l errors are free of this and are the stricter test. The
transformations, the Wigner matrices and the comparisons are computed in float64; only the model runs in the
batch's dtype. TF32 is switched off while checking (on GPUs it would round matrix products to 10 mantissa bits).

**What can be checked** (the protocol): any ``model`` such that

* ``model(positions, charges)`` returns an invariant ``Tensor`` ``(B, ...)``, or an :class:`SO3Vec`, or a mapping
  ``name → SO3Vec``; and/or
* ``model.levels(positions, charges)`` returns a mapping ``name → SO3Vec`` (see :class:`CovariantModule`;
  :class:`~cormorant_lab.nn.Cormorant` implements it).

Every SO3Vec has batch shape ``(B, N)`` (per atom) or ``(B, N, N)`` (per pair) — the shapes the permutation is
applied to; other batch shapes are checked for rotations and translations only.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch

from ..so3 import SO3Vec, random_rotation


@runtime_checkable
class CovariantModule(Protocol):
    """A module exposing its covariant activations: ``levels(positions, charges) -> {name: SO3Vec}``."""

    def levels(self, positions: torch.Tensor, charges: torch.Tensor) -> Mapping[str, SO3Vec]: ...


@dataclass(frozen=True)
class CovarianceReport:
    """Result of :func:`check_covariance`. Errors are relative (see the module docstring); None = not checked."""

    dtype: str
    n_rotations: int
    invariance_error: float | None  # output under rotation + translation + permutation
    rotation_error: float | None  # output under rotation alone
    translation_error: float | None  # output and levels under translation alone
    permutation_error: float | None  # output and levels under permutation alone
    covariance_errors: dict[str, tuple[float, ...]] = field(default_factory=dict)  # level -> error per degree l
    level_norms: dict[str, tuple[float, ...]] = field(default_factory=dict)  # level -> ||F_l(x)|| per degree l

    @property
    def worst(self) -> float:
        """The largest error of any kind; ``inf`` if any is not finite (a NaN output fails every tolerance)."""
        errors = [
            e
            for e in (self.invariance_error, self.rotation_error, self.translation_error, self.permutation_error)
            if e is not None
        ]
        errors += [e for per_l in self.covariance_errors.values() for e in per_l]
        if any(not math.isfinite(e) for e in errors):
            return math.inf
        return max(errors, default=0.0)

    @property
    def worst_level(self) -> tuple[str, int] | None:
        """``(level, l)`` with the largest covariance error, or None without levels."""
        pairs = [(e, name, l) for name, per_l in self.covariance_errors.items() for l, e in enumerate(per_l)]
        return max(pairs)[1:] if pairs else None

    def passed(self, tolerance: float) -> bool:
        """True if every error is finite and at most ``tolerance``."""
        return math.isfinite(self.worst) and self.worst <= tolerance

    def summary(self) -> str:
        """One line: every error kind, and the worst level and degree."""

        def fmt(e):
            return "—" if e is None else f"{e:.1e}"

        parts = [
            f"{self.dtype}, {self.n_rotations} rotations: invariance {fmt(self.invariance_error)}",
            f"rotation {fmt(self.rotation_error)}",
            f"translation {fmt(self.translation_error)}",
            f"permutation {fmt(self.permutation_error)}",
        ]
        if self.worst_level is not None:
            name, l = self.worst_level
            count = sum(len(v) for v in self.covariance_errors.values())
            parts.append(
                f"covariance ≤ {self.covariance_errors[name][l]:.1e} (worst {name}, l={l}; {count} level×l checked)"
            )
        return ", ".join(parts)

    def to_rows(self) -> list[dict]:
        """One dict per check — ``{"check", "level", "l", "error", "norm"}`` — ready for a table or a plot.

        Output checks have ``level="output"``; translation and permutation (output and every level at once)
        ``level="all"``; the covariance rows name their level and degree.
        """
        rows = [
            {"check": check, "level": level, "l": None, "error": error, "norm": None}
            for check, level, error in [
                ("invariance", "output", self.invariance_error),
                ("rotation", "output", self.rotation_error),
                ("translation", "all", self.translation_error),
                ("permutation", "all", self.permutation_error),
            ]
            if error is not None
        ]
        for name, per_l in self.covariance_errors.items():
            rows += [
                {"check": "covariance", "level": name, "l": l, "error": e, "norm": self.level_norms[name][l]}
                for l, e in enumerate(per_l)
            ]
        return rows

    def table(self) -> tuple[list[str], list[list[float]]]:
        """Levels and a level × l matrix of covariance errors (NaN where a level has no such degree), e.g. for a heatmap."""
        names = list(self.covariance_errors)
        width = max((len(v) for v in self.covariance_errors.values()), default=0)
        return names, [list(v) + [math.nan] * (width - len(v)) for v in self.covariance_errors.values()]


def check_covariance(
    model: Callable | CovariantModule,
    positions: torch.Tensor,
    charges: torch.Tensor,
    *,
    n_rotations: int = 3,
    generator: torch.Generator | None = None,
    translation_scale: float = 2.0,
) -> CovarianceReport:
    """Check ``model`` on the batch ``positions`` ``(B, N, 3)``, ``charges`` ``(B, N)``; see the module docstring.

    The model runs in ``positions.dtype`` (give float64 positions to a float64 model). ``generator`` (CPU) makes
    the random transformations reproducible; by default one seeded with 0 is used.
    """
    if n_rotations < 1:
        raise ValueError(f"n_rotations must be at least 1, got {n_rotations}")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    evaluate = _evaluator(model)
    batch, atoms = charges.shape
    worst: dict[str, float] = {}
    per_level: dict[str, list[float]] = {}
    with _exact_matmuls(), torch.no_grad():
        output, levels = evaluate(positions, charges)
        output64 = None if output is None else output.to(torch.float64)
        levels64 = {name: vec.apply(_to64) for name, vec in levels.items()}
        for _ in range(n_rotations):
            rotation = random_rotation(batch, generator=generator).to(positions.device)
            shift = translation_scale * torch.randn(batch, 1, 3, generator=generator, dtype=torch.float64).to(
                positions.device
            )
            order = torch.argsort(torch.rand(batch, atoms, generator=generator), dim=1).to(positions.device)
            transforms = {
                "rotation": _Transform(rotation=rotation),
                "translation": _Transform(shift=shift),
                "permutation": _Transform(order=order),
                "invariance": _Transform(rotation=rotation, shift=shift, order=order),
            }
            for kind, transform in transforms.items():
                new_output, new_levels = evaluate(*transform.apply(positions, charges))
                if output64 is not None:
                    _update(worst, kind, _relative_error(new_output, output64))
                if kind == "invariance":
                    continue
                for name, vec in levels64.items():
                    expected = transform.expect(vec)
                    if expected is None:
                        continue
                    errors = [
                        _relative_error(new, old)
                        for new, old in zip(new_levels[name].parts, expected.parts, strict=False)
                    ]
                    if kind == "rotation":
                        per_level[name] = [max(a, b) for a, b in zip(per_level.get(name, errors), errors, strict=False)]
                    else:
                        _update(worst, kind, max(errors))
    norms = {name: tuple(float(p.norm()) for p in vec.parts) for name, vec in levels64.items()}
    return CovarianceReport(
        dtype=str(positions.dtype).removeprefix("torch."),
        n_rotations=n_rotations,
        invariance_error=worst.get("invariance"),
        rotation_error=worst.get("rotation"),
        translation_error=worst.get("translation"),
        permutation_error=worst.get("permutation"),
        covariance_errors={name: tuple(v) for name, v in per_level.items()},
        level_norms=norms,
    )


@dataclass(frozen=True)
class _Transform:
    """x ↦ P(R x + t) on positions (in float64) and the expected action on covariant activations."""

    rotation: torch.Tensor | None = None  # (B, 3, 3) float64
    shift: torch.Tensor | None = None  # (B, 1, 3) float64
    order: torch.Tensor | None = None  # (B, N): new atom k is old atom order[b, k]

    def apply(self, positions: torch.Tensor, charges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = positions.to(torch.float64)
        if self.rotation is not None:
            x = x @ self.rotation.transpose(-1, -2)
        if self.shift is not None:
            x = x + self.shift
        if self.order is not None:
            x, charges = _permute(x, self.order, 1), _permute(charges, self.order, 1)
        return x.to(positions.dtype), charges

    def expect(self, vec: SO3Vec) -> SO3Vec | None:
        """What ``vec`` (float64) should become, or None if it cannot be permuted (batch shape not (B, N[, N]))."""
        if self.rotation is not None:
            extra = len(vec.batch_shape) - 1
            vec = vec.rotate(self.rotation.reshape(-1, *([1] * extra), 3, 3))
        if self.order is not None:
            atoms = self.order.shape[1]
            pair_axes = len(vec.batch_shape) - 1
            if pair_axes not in (1, 2) or any(n != atoms for n in vec.batch_shape[1:]):
                return None
            vec = vec.apply(lambda p: _permute(p, self.order, pair_axes))
        return vec


def _permute(x: torch.Tensor, order: torch.Tensor, axes: int) -> torch.Tensor:
    """Reorder the atom axes 1..axes of ``x`` (batch first) by ``order`` (B, N)."""
    rows = torch.arange(order.shape[0], device=order.device).view(-1, 1, *([1] * (axes - 1)))
    if axes == 1:
        return x[rows, order]
    return x[rows, order.unsqueeze(-1), order.unsqueeze(-2)]


def _evaluator(model) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor | None, dict[str, SO3Vec]]]:
    """Normalise the protocol: a function returning (invariant output or None, {name: SO3Vec})."""

    def evaluate(positions, charges):
        output, levels = None, {}
        if isinstance(model, CovariantModule):
            levels = dict(model.levels(positions, charges))
        if callable(model):
            result = model(positions, charges)
            if isinstance(result, SO3Vec):
                levels.setdefault("output", result)
            elif isinstance(result, Mapping):
                levels.update({name: vec for name, vec in result.items() if name not in levels})
            elif isinstance(result, torch.Tensor):
                output = result
            else:
                raise TypeError(
                    f"the model returned {type(result).__name__}; expected a Tensor, an SO3Vec or a mapping of SO3Vecs"
                )
        if output is None and not levels:
            raise TypeError("nothing to check: the model is neither callable nor has levels(positions, charges)")
        return output, levels

    return evaluate


def _to64(x: torch.Tensor) -> torch.Tensor:
    """float64, or complex128 for complex activations (a cast to float64 would drop their imaginary part)."""
    return x.to(torch.complex128 if x.is_complex() else torch.float64)


def _relative_error(new: torch.Tensor, reference: torch.Tensor) -> float:
    reference, new = _to64(reference), _to64(new)
    if not (bool(torch.isfinite(new).all()) and bool(torch.isfinite(reference).all())):
        return math.inf
    difference = float((new - reference).norm())
    scale = float(reference.norm())
    return difference / scale if scale > 0 else difference


def _update(worst: dict[str, float], kind: str, error: float) -> None:
    worst[kind] = max(worst.get(kind, 0.0), error)


@contextlib.contextmanager
def _exact_matmuls():
    """Switch TF32 off for the duration of the check, then restore the caller's settings."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
