r"""``SO3Vec``: the activation type of Cormorant — a stack of spherical tensors of degree l = 0…L.

Paper, §4: an SO(3)-covariant vector is :math:`F = (F_0, F_1, \dots, F_L)` with
:math:`F_l \in \mathbb{C}^{(2l+1) \times \tau_l}` turning as :math:`F_l \mapsto D^l(R)\, F_l` under a rotation
:math:`R`. Here part ``l`` is a tensor of shape ``(..., channels_l, 2l+1)`` — leading batch dimensions
(molecules, atoms, …), then :math:`\tau_l` channels, then :math:`m = -l..l` last — so a rotation acts as
``part @ D.T``. The basis of the ``m`` index is ``"real"`` (default; real tensors, the network's choice) or
``"complex"`` (complex tensors, the paper's notation); both are related by the unitary map of
:func:`~cormorant_lab.so3.complex_to_real`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch

from ._validation import check_basis
from ._wigner import wigner_d_all


class SO3Vec:
    """A list of parts ``parts[l]`` of shape ``(*batch, channels_l, 2l+1)``, l = 0…maxl, in one basis.

    All parts share batch shape, dtype and device; channels may differ per l (the paper's type τ).
    """

    __slots__ = ("parts", "basis", "_stacked", "_stacked_parts")

    def __init__(self, parts: Sequence[torch.Tensor], *, basis: str = "real"):
        self.basis = check_basis(basis)
        self.parts = list(parts)
        _check_parts(self.parts, self.basis)
        self._stacked: torch.Tensor | None = None  # set by from_stacked
        self._stacked_parts: tuple[torch.Tensor, ...] = ()

    @classmethod
    def from_stacked(cls, stacked: torch.Tensor, *, basis: str = "real") -> SO3Vec:
        """The SO3Vec whose parts are the views ``stacked[..., l², (l+1)²]``, l = 0…L, of ``(..., C, (L+1)²)``.

        The vector remembers ``stacked``: :meth:`stacked` then returns it without a copy (as long as ``parts``
        holds those very views).
        """
        components = stacked.shape[-1]
        maxl = math.isqrt(components) - 1
        if (maxl + 1) ** 2 != components:
            raise ValueError(f"stacked parts need (L+1)² components on the last axis, got {components}")
        vec = cls(list(stacked.split([2 * l + 1 for l in range(maxl + 1)], dim=-1)), basis=basis)
        vec._stacked, vec._stacked_parts = stacked, tuple(vec.parts)
        return vec

    def stacked(self) -> torch.Tensor:
        """The parts concatenated along the last axis, ``(..., C, (L+1)²)`` (every degree must have C channels).

        No copy when the vector was made by :meth:`from_stacked` and its parts are still those views.
        """
        if self._stacked is not None and len(self.parts) == len(self._stacked_parts):
            if all(part is view for part, view in zip(self.parts, self._stacked_parts, strict=True)):
                return self._stacked
        if len(set(self.channels)) != 1:
            raise ValueError(f"stacked() needs the same number of channels at every degree, got {self.channels}")
        return self.parts[0] if len(self.parts) == 1 else torch.cat(self.parts, dim=-1)

    # --- structure -----------------------------------------------------------------------------------------
    @property
    def maxl(self) -> int:
        return len(self.parts) - 1

    @property
    def channels(self) -> tuple[int, ...]:
        """τ: the number of channels of each part, l = 0…maxl."""
        return tuple(p.shape[-2] for p in self.parts)

    @property
    def batch_shape(self) -> torch.Size:
        return self.parts[0].shape[:-2]

    @property
    def dtype(self) -> torch.dtype:
        return self.parts[0].dtype

    @property
    def device(self) -> torch.device:
        return self.parts[0].device

    def __len__(self) -> int:
        return len(self.parts)

    def __getitem__(self, l: int) -> torch.Tensor:
        return self.parts[l]

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter(self.parts)

    def __repr__(self) -> str:
        return (
            f"SO3Vec(maxl={self.maxl}, channels={self.channels}, batch_shape={tuple(self.batch_shape)}, "
            f"basis={self.basis!r}, dtype={self.dtype})"
        )

    # --- elementwise algebra -------------------------------------------------------------------------------
    def apply(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> SO3Vec:
        """A new SO3Vec with ``fn`` applied to every part (``fn`` must keep covariance)."""
        return SO3Vec([fn(p) for p in self.parts], basis=self.basis)

    def to(self, *args, **kwargs) -> SO3Vec:
        return self.apply(lambda p: p.to(*args, **kwargs))

    def _check_compatible(self, other: SO3Vec, operation: str) -> None:
        if not isinstance(other, SO3Vec):
            raise TypeError(f"cannot {operation} SO3Vec and {type(other).__name__}")
        if self.basis != other.basis:
            raise ValueError(f"cannot {operation} SO3Vecs in different bases ({self.basis!r} and {other.basis!r})")
        if self.channels != other.channels:
            raise ValueError(
                f"cannot {operation} SO3Vecs with different degrees or channels: {self.channels} and {other.channels}"
            )

    def __add__(self, other: SO3Vec) -> SO3Vec:
        self._check_compatible(other, "add")
        return SO3Vec([a + b for a, b in zip(self.parts, other.parts, strict=True)], basis=self.basis)

    def __sub__(self, other: SO3Vec) -> SO3Vec:
        self._check_compatible(other, "subtract")
        return SO3Vec([a - b for a, b in zip(self.parts, other.parts, strict=True)], basis=self.basis)

    def __neg__(self) -> SO3Vec:
        return self.apply(torch.neg)

    def __mul__(self, scale) -> SO3Vec:
        """Multiply by a number, or by a tensor of shape ``(*batch, 1)`` / ``(*batch, channels)`` of invariants."""
        if isinstance(scale, SO3Vec):
            raise TypeError("the product of two SO3Vecs is not covariant elementwise; use cg_product(a, b)")
        if isinstance(scale, torch.Tensor) and scale.dim() > 0:
            return self.apply(lambda p: p * scale.unsqueeze(-1))
        return self.apply(lambda p: p * scale)

    __rmul__ = __mul__

    @staticmethod
    def cat(vectors: Sequence[SO3Vec]) -> SO3Vec:
        """Concatenate channels degree by degree; a vector with fewer degrees contributes nothing beyond its maxl."""
        vectors = list(vectors)
        if not vectors:
            raise ValueError("SO3Vec.cat needs at least one SO3Vec")
        bases = {v.basis for v in vectors}
        if len(bases) > 1:
            raise ValueError(f"cannot concatenate SO3Vecs in different bases: {sorted(bases)}")
        maxl = max(v.maxl for v in vectors)
        parts = [torch.cat([v.parts[l] for v in vectors if l <= v.maxl], dim=-2) for l in range(maxl + 1)]
        return SO3Vec(parts, basis=vectors[0].basis)

    def truncate(self, maxl: int) -> SO3Vec:
        return SO3Vec(self.parts[: maxl + 1], basis=self.basis)

    # --- rotations and invariants --------------------------------------------------------------------------
    def rotate(self, rotation: torch.Tensor) -> SO3Vec:
        r"""Apply :math:`F_l \mapsto D^l(R) F_l` to every part.

        ``rotation`` is ``(3, 3)`` or ``(*batch', 3, 3)`` with ``batch'`` broadcastable against the batch shape.
        """
        rotation_batch = rotation.shape[:-2]
        try:
            grows = torch.broadcast_shapes(rotation_batch, self.batch_shape) != self.batch_shape
        except RuntimeError:
            grows = True
        if grows:
            raise ValueError(
                f"rotation batch shape {tuple(rotation_batch)} does not broadcast to the SO3Vec's batch shape "
                f"{tuple(self.batch_shape)} without growing it"
            )
        matrices = wigner_d_all(
            self.maxl, rotation.to(dtype=self.parts[0].real.dtype, device=self.device), basis=self.basis
        )
        return SO3Vec([p @ d.transpose(-1, -2) for p, d in zip(self.parts, matrices, strict=True)], basis=self.basis)

    def squared_norms(self) -> list[torch.Tensor]:
        r"""Per-l, per-channel invariants :math:`\sum_m |F_{l,m}|^2`, each of shape ``(*batch, channels_l)``."""
        return [(p.abs() ** 2 if p.is_complex() else p * p).sum(-1) for p in self.parts]

    def norms(self) -> list[torch.Tensor]:
        """Per-l, per-channel Euclidean norms, each ``(*batch, channels_l)`` (use squared_norms for gradients at 0)."""
        return [n.sqrt() for n in self.squared_norms()]

    def dot(self, other: SO3Vec) -> list[torch.Tensor]:
        r"""Per-l, per-channel invariant products :math:`\sum_m F_{l,m}\, \overline{G_{l,m}}`, each ``(*batch, channels_l)``.

        In the complex basis, for fields with :math:`G_{l,-m} = (-1)^m \overline{G_{l,m}}` this is the paper's
        :math:`\sum_m (-1)^m F_{l,m} G_{l,-m}`.
        """
        self._check_compatible(other, "dot")
        return [(a * (b.conj() if b.is_complex() else b)).sum(-1) for a, b in zip(self.parts, other.parts, strict=True)]

    def scalars(self) -> torch.Tensor:
        """The l = 0 part as plain invariants, shape ``(*batch, channels_0)``."""
        return self.parts[0][..., 0]


def _check_parts(parts: list[torch.Tensor], basis: str) -> None:
    if not parts:
        raise ValueError("an SO3Vec needs at least the l = 0 part")
    first = parts[0]
    for l, part in enumerate(parts):
        if not isinstance(part, torch.Tensor):
            raise ValueError(f"part l={l} must be a torch.Tensor, got {type(part).__name__}")
        if part.dim() < 2 or part.shape[-1] != 2 * l + 1:
            raise ValueError(f"part l={l} must have shape (..., channels, {2 * l + 1}), got {tuple(part.shape)}")
        if part.shape[:-2] != first.shape[:-2]:
            raise ValueError(
                f"part l={l} has batch shape {tuple(part.shape[:-2])}, but part l=0 has {tuple(first.shape[:-2])}"
            )
        if part.dtype != first.dtype or part.device != first.device:
            raise ValueError(
                f"part l={l} is {part.dtype} on {part.device}, but part l=0 is {first.dtype} on {first.device}"
            )
        if basis == "real" and part.is_complex():
            raise ValueError(f"part l={l} is complex, but the basis is 'real'")
