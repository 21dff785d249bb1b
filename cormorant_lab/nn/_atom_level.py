r"""The atom level: Cormorant's covariant vertex update (paper, §5, with the aggregate of eq. 8).

.. math::

    F^s_i = \mathcal{N}\Bigl( W^s \Bigl[\, F^{s-1}_i \;\oplus\; \bigl(F^{s-1}_i \otimes_{cg} F^{s-1}_i\bigr)
        \;\oplus\; \sum_j G^s_{ij} \otimes_{cg} F^{s-1}_j \,\Bigr]_{l \le \text{maxl}} \Bigr)

* the identity term keeps the previous activation, the CG square :math:`F_i \otimes_{cg} F_i` is the one-body
  nonlinearity, and :math:`\sum_j G_{ij} \otimes_{cg} F_j` (summed over neighbours *before* the coupling, by
  :func:`~cormorant_lab.so3.cg_aggregate`) is the two-body message;
* :math:`\oplus` concatenates channels degree by degree; everything above ``maxl`` is dropped;
* :math:`W^s` is the per-degree channel mixing :class:`~cormorant_lab.nn.SO3Linear`;
* :math:`\mathcal{N}` is the covariant soft normalization (our addition, see ``_normalization``).

Each piece is covariant (the CG product intertwines :math:`D^{l_1} \otimes D^{l_2}` with :math:`D^l`), so the
level is: :math:`F \mapsto F D^\top`, :math:`G \mapsto G D^\top` give :math:`F^s \mapsto F^s D^\top`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ..so3 import SO3Vec, cg_aggregate, cg_product, output_channels
from ._mixing import SO3Linear
from ._normalization import CovariantNormalization


def _combined_channels(atom_channels: Sequence[int], max_sh: int, maxl: int) -> tuple[int, ...]:
    """Channels per degree of ``[F ⊕ F⊗F ⊕ Σ G⊗F]`` truncated at ``maxl`` (F has one channel count C).

    Degrees that no term reaches (e.g. maxl = 3 from scalar atoms and max_sh = 1) are left out.
    """
    channels, max_in = atom_channels[0], len(atom_channels) - 1
    counts = [0] * (maxl + 1)
    for term in (atom_channels, output_channels(channels, max_in, max_in, maxl), output_channels(channels, max_sh, max_in, maxl)):
        for l, count in enumerate(term[: maxl + 1]):
            counts[l] += count
    while counts[-1] == 0:
        counts.pop()
    return tuple(counts)


class AtomLevel(nn.Module):
    """One atom level; atoms ``(B, N, C, 2l+1)`` for l ≤ L_in and edges ``(B, N, N, C, 2l+1)`` for l ≤ max_sh."""

    def __init__(
        self,
        atom_channels: Sequence[int],
        max_sh: int,
        maxl: int,
        channels_out: int,
        *,
        gain: float = 10.0,
        weight_init: str = "rand",
        normalization: str = "soft",
    ):
        super().__init__()
        if len(set(atom_channels)) != 1:
            raise ValueError(f"AtomLevel needs the same number of channels at every degree, got {tuple(atom_channels)}")
        self.atom_channels = tuple(atom_channels)
        self.max_sh = int(max_sh)
        combined = _combined_channels(self.atom_channels, self.max_sh, int(maxl))
        self.maxl = len(combined) - 1  # degrees above what the products can reach are dropped
        self.mix = SO3Linear(combined, channels_out, gain=gain, init=weight_init)
        self.normalize = CovariantNormalization(normalization)

    @property
    def channels_out(self) -> tuple[int, ...]:
        return self.mix.channels_out

    def forward(self, atoms: SO3Vec, edges: SO3Vec) -> SO3Vec:
        """``F^s`` from ``F^{s-1}`` (``atoms``) and ``G^s`` (``edges``): parts ``(B, N, channels_out, 2l+1)``."""
        square = cg_product(atoms, atoms, self.maxl)
        message = cg_aggregate(edges, atoms, self.maxl)
        return self.normalize(self.mix(atoms.truncate(self.maxl), square, message))
