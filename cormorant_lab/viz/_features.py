r"""Per-atom features of one level and channel: what the glyphs draw.

A :class:`~cormorant_lab.nn.Cormorant` (or any :class:`~cormorant_lab.checks.CovariantModule`) exposes its
activations by name through ``levels(positions, charges)``; the per-atom ones are ``"input"`` (:math:`F^0`) and
``"atom_s"`` (:math:`F^s`), SO3Vecs with parts ``(1, N, channels_l, 2l+1)`` for one molecule. This module picks
channel ``c`` of each degree l ≤ 2 of one of them: ``parts[l]`` of shape ``(N, 2l+1)`` (real basis, float64), the
:math:`F^s_{i,l,c}` of the paper for every atom i.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch

from ..so3 import SO3Vec

#: Degrees the glyphs can draw: l = 0 (spheres), 1 (arrows), 2 (ellipsoids).
GLYPH_DEGREES = (0, 1, 2)


@dataclass(frozen=True)
class AtomFeatures:
    """Channel ``channel`` of level ``level``: ``parts[l]`` is ``(N, 2l+1)`` float64 for each drawable degree present."""

    level: str
    channel: int
    parts: dict[int, torch.Tensor]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run molecule-sized tensor work on one thread, then restore the thread count.

    For a few atoms, synchronising intra-op threads costs more than they save (10× slower on a loaded 2-core machine).
    """
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def model_inputs(model, positions: torch.Tensor, charges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One molecule ``(N, 3)``, ``(N,)`` as a batch of one ``(1, N, 3)``, ``(1, N)`` in ``model``'s dtype and device."""
    parameter = (
        next((p for p in model.parameters() if p.is_floating_point()), None)
        if isinstance(model, torch.nn.Module)
        else None
    )
    dtype, device = (
        (parameter.dtype, parameter.device) if parameter is not None else (positions.dtype, positions.device)
    )
    return positions.to(dtype=dtype, device=device).unsqueeze(0), charges.to(device).unsqueeze(0)


def atom_levels(model, positions: torch.Tensor, charges: torch.Tensor) -> dict[str, SO3Vec]:
    """The per-atom levels of ``model`` for one molecule, ``positions`` ``(N, 3)``, ``charges`` ``(N,)``.

    Returns ``name → SO3Vec`` with parts ``(N, channels_l, 2l+1)`` in float64 (pair levels are left out).
    """
    with torch.no_grad(), one_thread():
        levels = model.levels(*model_inputs(model, positions, charges))
    per_atom = {name: vec for name, vec in levels.items() if len(vec.batch_shape) == 2}
    return {
        name: SO3Vec([p[0].detach().to("cpu", torch.float64) for p in vec.parts], basis=vec.basis)
        for name, vec in per_atom.items()
    }


def select_features(levels: Mapping[str, SO3Vec], level: str, channel: int) -> AtomFeatures:
    """Channel ``channel`` of the degrees l ≤ 2 of ``levels[level]`` (parts ``(N, channels_l, 2l+1)``).

    Degrees with fewer than ``channel + 1`` channels are left out. Raises ``KeyError`` for an unknown level.
    """
    if level not in levels:
        raise KeyError(f"no per-atom level {level!r}; available: {sorted(levels)}")
    vec = levels[level]
    if vec.basis != "real":
        raise ValueError(f"glyphs need real-basis features, level {level!r} is in the {vec.basis} basis")
    parts = {l: vec.parts[l][:, channel, :] for l in GLYPH_DEGREES if l <= vec.maxl and channel < vec.channels[l]}
    if not parts:
        raise ValueError(
            f"level {level!r} has no channel {channel} in degrees {GLYPH_DEGREES} (channels {vec.channels})"
        )
    return AtomFeatures(level=level, channel=channel, parts=parts)


def atom_features(
    model, positions: torch.Tensor, charges: torch.Tensor, *, level: str = "atom_1", channel: int = 0
) -> AtomFeatures:
    """Run ``model.levels`` on one molecule and pick ``level`` and ``channel`` (see :func:`select_features`)."""
    return select_features(atom_levels(model, positions, charges), level, channel)
