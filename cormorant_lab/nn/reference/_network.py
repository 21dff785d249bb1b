r"""``ReferenceCormorant``: the network of risilab/cormorant (``CormorantQM9`` / ``CormorantMD17``), weight for weight.

``Cormorant.from_preset("qm9", reference=True)`` (211,452 parameters) and ``("md17", reference=True)`` (62,525
with species H, C, N, O) build it. It computes the reference implementation's function — complex activations
and complex mixing weights, its input featurization, its conjugated solid-harmonic edges, its unnormalized
levels, radial functions, cutoffs (ε = 10⁻³) and MPNN input with its hard cutoff, its 400 output invariants and
its initialization distributions — so that :func:`~cormorant_lab.nn.from_reference` can load a reference model's
``state_dict`` and give the same outputs (≤ 1e-10 relative in float64; ``tests/nn/test_reference_mode.py``).

.. math::

    x_i \xrightarrow{\text{input}} F^0_i \in \mathbb C^{C}
    \xrightarrow{\ (g^s,\ F^s)\ =\ \text{level}_s(g^{s-1}, F^{s-1})\ } F^1_i, \dots, F^L_i
    \xrightarrow{\text{invariants}} \xi_i \xrightarrow{\Sigma_i,\ \text{head}} y

(``_input``, ``_levels``, ``_output``). Two deliberate departures, neither changing a finite output: distances and
inverse powers have finite gradients at r = 0 (the reference's forces are NaN wherever two atoms coincide,
padding included), and the input charges are validated.

Covariance: the reference's edge harmonics are conjugated (``conj=True``), so its activations turn with
:math:`\overline{D^l(R)}` — this package's complex Wigner matrix conjugated, i.e. the textbook :math:`\mathcal D^l`.
:meth:`ReferenceCormorant.levels` returns their complex conjugates, which turn with ``wigner_d(l, R,
basis="complex")``, so :func:`~cormorant_lab.checks.check_covariance` checks them as it checks any model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from ...so3 import SO3Vec
from .._cormorant import Cormorant, CormorantLevels, _per_level
from .._input import species_features
from .._presets import reference_preset
from ._geometry import PolyTrig, edge_harmonics, pair_distances
from ._input import ReferenceInputLinear, ReferenceInputMPNN
from ._levels import ReferenceAtomLevel, ReferenceEdgeLevel
from ._output import ReferenceOutputLinear, ReferenceOutputPMLP, num_reference_invariants, reference_invariants


class ReferenceCormorant(Cormorant):
    r"""The reference implementation's Cormorant (module docstring): ``model(positions, charges)`` → ``(B,)`` or ``(B, T)``.

    Arguments and defaults are the reference's command line (``cormorant/engine/args.py``); per-level values may be
    lists, padded with their last entry. ``species`` fixes the one-hot order and ``charge_scale`` defaults to
    ``max(species)`` (the reference's ``max(charges)`` of its dataset). ``num_targets`` (1 in the reference) sizes
    the head. The buffers ``target_mean``, ``target_std``, ``species_reference`` rescale the output as in
    :class:`~cormorant_lab.nn.Cormorant`; they are 0, 1, 0 by default (the reference has no such rescaling).
    ``config`` rebuilds the model: ``Cormorant(**model.config)`` (it holds ``reference=True``).
    """

    def __init__(
        self,
        *,
        reference: bool = True,
        species: Sequence[int] = (1, 6, 7, 8, 9),
        num_targets: int = 1,
        num_cg_levels: int = 4,
        maxl: int | Sequence[int] = 3,
        max_sh: int | Sequence[int] = 3,
        num_channels: int | Sequence[int] = 10,
        charge_power: int = 2,
        charge_scale: float | None = None,
        input: str = "linear",
        num_mpnn_layers: int = 1,
        top: str = "linear",
        basis_set: Sequence[int] = (3, 3),
        cutoff_type: Sequence[str] = ("learn",),
        soft_cut_rad: float | Sequence[float] = 1.73,
        soft_cut_width: float | Sequence[float] = 0.2,
        hard_cut_rad: float | Sequence[float] = 1.73,
        level_gain: float | Sequence[float] = 10.0,
        weight_init: str = "rand",
        activation: str = "leakyrelu",
        mlp_width: int = 256,
        num_mixed: int = 64,
    ):
        nn.Module.__init__(self)
        if not reference:
            raise ValueError("ReferenceCormorant is the reference mode; use Cormorant(...) for the default network")
        config = {key: value for key, value in locals().items() if key not in ("self", "__class__")}
        self.config: dict = json.loads(json.dumps(config))
        species = [int(z) for z in species]
        if not species or len(set(species)) != len(species) or min(species) <= 0:
            raise ValueError(f"species must be distinct positive atomic numbers, got {species}")
        if input not in ("linear", "mpnn") or top not in ("linear", "pmlp"):
            raise ValueError(f"input must be 'linear' or 'mpnn' and top 'linear' or 'pmlp', got {input!r} and {top!r}")
        if num_cg_levels < 1 or num_targets < 1 or charge_power < 0:
            raise ValueError("num_cg_levels and num_targets must be at least 1, charge_power at least 0")
        if weight_init not in ("rand", "randn"):
            raise ValueError(f"weight_init must be 'rand' or 'randn', got {weight_init!r}")
        self.species, self.num_targets, self.charge_power = species, int(num_targets), int(charge_power)
        self.charge_scale = float(charge_scale if charge_scale is not None else max(species))
        self.register_buffer("_species", torch.tensor(species), persistent=False)

        channels = [int(c) for c in _per_level(num_channels, num_cg_levels + 1, "num_channels")]
        levels = {
            name: _per_level(value, num_cg_levels, name)
            for name, value in [
                ("maxl", maxl),
                ("max_sh", max_sh),
                ("level_gain", level_gain),
                ("soft_cut_rad", soft_cut_rad),
                ("soft_cut_width", soft_cut_width),
                ("hard_cut_rad", hard_cut_rad),
            ]
        }
        self.max_sh = [int(v) for v in levels["max_sh"]]
        num_inputs = len(species) * (charge_power + 1)
        # modules are registered in the reference's order, so that state_dicts list their entries alike
        self.radial = nn.ModuleList(PolyTrig(cast("tuple[int, int]", tuple(basis_set))) for _ in range(num_cg_levels))
        if input == "mpnn":
            self.input_layer = ReferenceInputMPNN(
                num_inputs,
                channels[0],
                num_layers=num_mpnn_layers,
                basis_set=cast("tuple[int, int]", tuple(basis_set)),
                soft_cut_rad=levels["soft_cut_rad"][0],
                soft_cut_width=levels["soft_cut_width"][0],
                hard_cut_rad=levels["hard_cut_rad"][0],
                width=mlp_width,
                activation=activation,
            )
        else:
            self.input_layer = ReferenceInputLinear(num_inputs, channels[0])
        radial_channels = cast(PolyTrig, self.radial[0]).num_basis // 2
        self.atom_levels, self.edge_levels = nn.ModuleList(), nn.ModuleList()
        atom_channels, level_channels = [channels[0]], []
        edge_channels: list[int] = []
        for s in range(num_cg_levels):
            edge = ReferenceEdgeLevel(
                edge_channels,
                atom_channels,
                radial_channels,
                channels[s],
                self.max_sh[s],
                cutoff_type,
                levels["hard_cut_rad"][s],
                levels["soft_cut_rad"][s],
                levels["soft_cut_width"][s],
            )
            edge_channels = list(edge.mixing.channels_out)
            atom = ReferenceAtomLevel(
                atom_channels,
                len(edge_channels),
                int(levels["maxl"][s]),
                channels[s + 1],
                float(levels["level_gain"][s]),
                weight_init,
            )
            atom_channels = list(atom.mixing.channels_out)
            self.edge_levels.append(edge)
            self.atom_levels.append(atom)
            level_channels.append(atom_channels)
        num_scalars = num_reference_invariants(level_channels)
        if top == "pmlp":
            self.head = ReferenceOutputPMLP(
                num_scalars, self.num_targets, num_mixed=num_mixed, width=mlp_width, activation=activation
            )
        else:
            self.head = ReferenceOutputLinear(num_scalars, self.num_targets)
        self.register_buffer("target_mean", torch.zeros(self.num_targets))
        self.register_buffer("target_std", torch.ones(self.num_targets))
        self.register_buffer("species_reference", torch.zeros(len(species), self.num_targets))
        self.validate_inputs = True
        self.recompute_in_backward = None

    @classmethod
    def from_preset(
        cls,
        name: str,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        reference: bool = True,
        **overrides,
    ) -> ReferenceCormorant:
        """The reference's ``"qm9"`` (``CormorantQM9``) or ``"md17"`` (``CormorantMD17``) model."""
        model = cls(**{**reference_preset(name), **overrides, "reference": True})
        return model.to(dtype=dtype, device=device) if dtype is not None or device is not None else model

    # --- forward ---------------------------------------------------------------------------------------------
    def forward(self, positions: torch.Tensor, charges: torch.Tensor) -> torch.Tensor:
        """Predictions for positions ``(B, N, 3)`` (Å) and integer charges ``(B, N)`` (0 = padding): ``(B,)`` or ``(B, T)``."""
        atom_mask, atoms, _ = self._run(positions, charges, keep=False)
        y = self.head(reference_invariants(atoms), atom_mask)
        counts = (charges.unsqueeze(-1) == self._species).sum(-2).to(y.dtype)
        y = y * self.target_std + self.target_mean + counts @ self.species_reference
        return y.squeeze(-1) if self.num_targets == 1 else y

    def _run(self, positions: torch.Tensor, charges: torch.Tensor, *, keep: bool):
        """Masks, then ``F^0``, and the atom activations ``F^s`` (and, if ``keep``, the edges ``G^s``) of every level."""
        positions, charges = self._check_inputs(positions, charges)
        atom_mask = charges != 0
        pair_mask = atom_mask.unsqueeze(-1) & atom_mask.unsqueeze(-2)  # the reference's edge_mask: self pairs included
        rel, norms, _ = pair_distances(positions)
        harmonics = edge_harmonics(max(self.max_sh), rel)
        features = species_features(charges, self._species, self.charge_power, self.charge_scale, positions.dtype)
        atoms = [self.input_layer(features, atom_mask, norms, pair_mask).unsqueeze(-1)]
        inputs, edges, all_atoms, all_edges = atoms, None, [], []
        for radial, edge_level, atom_level, max_sh in zip(
            self.radial, self.edge_levels, self.atom_levels, self.max_sh, strict=False
        ):
            eta = torch.view_as_complex(radial(norms, pair_mask).unflatten(-1, (-1, 2)).contiguous())
            edges = edge_level(edges, atoms, eta, pair_mask, norms)
            atoms = atom_level(atoms, edges, harmonics[: max_sh + 1])
            all_atoms.append(atoms)
            if keep:
                all_edges.append([g.unsqueeze(-1) * y.unsqueeze(-2) for g, y in zip(edges, harmonics, strict=False)])
        return atom_mask, all_atoms, (inputs, all_edges, positions)

    def compute_levels(
        self, positions: torch.Tensor, charges: torch.Tensor, *, keep_edges: bool = True
    ) -> CormorantLevels:
        """``F^0``, every ``F^s`` and (``keep_edges``) ``G^s`` as complex SO3Vecs in the reference's convention (turning with conj(D))."""
        atom_mask, atoms, (inputs, edges, positions) = self._run(positions, charges, keep=keep_edges)
        vec = lambda parts: SO3Vec(parts, basis="complex")
        return CormorantLevels(atom_mask, vec(inputs), [vec(a) for a in atoms], [vec(e) for e in edges], None)

    def levels(self, positions: torch.Tensor, charges: torch.Tensor) -> dict[str, SO3Vec]:
        """The covariant activations by name, **conjugated** so that they turn with ``wigner_d(l, R, basis="complex")``.

        ``"input"``, then ``"edge_s"`` and ``"atom_s"`` for s = 1..L, as :meth:`Cormorant.levels`.
        """
        run = self.compute_levels(positions, charges)
        conj = lambda v: v.apply(torch.conj_physical)
        named = {"input": conj(run.input)}
        for s, (atoms, edges) in enumerate(zip(run.atoms, run.edges, strict=False), start=1):
            named[f"edge_{s}"] = conj(edges)
            named[f"atom_{s}"] = conj(atoms)
        return named
