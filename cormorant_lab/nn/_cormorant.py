r"""``Cormorant``: the full network of Anderson, Hy & Kondor (NeurIPS 2019), with the paper's two presets.

.. math::

    x_i \xrightarrow{\text{input}} F^0_i \xrightarrow{\text{level } 1} F^1_i \to \dots \to F^L_i
    \xrightarrow{\text{invariants}} \xi_i \xrightarrow{\Sigma_i,\ \text{head}} y

* input: species/charge scalars, then message passing (QM9) or a linear map (MD-17) — ``_input``;
* levels: edge level then atom level, CG products and the neighbour aggregate — ``_cormorant_cg``;
* output: l = 0 parts and squared norms of every level, summed over atoms, MLP or linear head — ``_output``.

Differences from the reference implementation, each where it failed: the real basis — real activations and
real weights, which is the same mathematics only for vectors that satisfy the reality condition
:math:`F_{l,-m} = (-1)^m \overline{F_{l,m}}`; the reference's complex activations and weights do not, so its
network with C channels is not this one with C channels (``docs/differences.md``; ``Cormorant.from_preset(...,
reference=True)`` is the reference's); a covariant soft normalization after every level (bounded activations,
``_normalization``); radial functions and their gradients finite at self pairs and padding pairs (finite forces,
``_geometry``); edge weights initialised with variance 1/fan-in.

Memory and speed (the same function, computed leaner; ``benchmarks/bench_model.py`` measures it): the
aggregate is contracted over neighbours before the CG coupling and never forms the edges :math:`G = gY`;
the CG square computes only its distinct blocks, with the reference's weights folded onto them; and, on request
(``recompute_in_backward=True``), the two largest activations of a level, the CG bracket and the edge network's
inputs, are not kept for the backward pass but recomputed from small tensors when the weight gradients need them
(``_atom_level``, ``_edge_level``). A qm9 training step keeps 2.9 MiB per 18-atom molecule for its backward pass
by default, 0.8 MiB with the recomputation.

Targets: the head's output is rescaled as ``y = head · target_std + target_mean + Σ_i species_reference[Z_i]``.
The three buffers default to 1, 0 and 0; a trainer sets them (e.g. mean/std of the training targets, and
per-species reference energies for extensive energies) and they are saved in the ``state_dict``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import torch
from torch import nn

from ..so3 import SO3Vec, harmonics_coefficients
from ._constants import ExactConstant, degree_sum_matrix
from ._cormorant_cg import CormorantCG, edge_functions_at_once
from ._geometry import EdgeGeometry, edge_geometry
from ._input import InputLinear, InputMPNN, species_features
from ._model_inputs import as_tensor_inputs, prepare_inputs
from ._normalization import CovariantNormalization
from ._output import OutputLinear, OutputPMLP, atom_invariants, num_invariants
from ._presets import preset

if TYPE_CHECKING:
    import numpy as np

INPUTS = ("linear", "mpnn")
TOPS = ("linear", "pmlp")


class CormorantLevels(NamedTuple):
    """Everything a forward pass computes before the head."""

    atom_mask: torch.Tensor  # (B, N) bool
    input: SO3Vec  # F^0, parts (B, N, C, 1)
    atoms: list[SO3Vec]  # F^s, s = 1..L, parts (B, N, C, 2l+1)
    edges: list[SO3Vec]  # G^s, s = 1..L, parts (B, N, N, C, 2l+1) (empty unless keep_edges)
    geometry: EdgeGeometry | None  # None from the reference network (nn.reference)


def _per_level(value, count: int, name: str) -> list:
    """A number, or a list padded with its last entry (the reference's ``expand_var_list``), as ``count`` entries."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not 1 <= len(values) <= count:
        raise ValueError(f"{name} must be a number or a list of 1 to {count} numbers, got {value!r}")
    return values + values[-1:] * (count - len(values))


class Cormorant(nn.Module):
    r"""The Cormorant network: ``model(positions, charges)`` → predictions ``(B,)`` (or ``(B, T)`` for T > 1 targets).

    Args (the defaults are the reference implementation's; every value may be a per-level list where noted):
        species: atomic numbers the model knows (one-hot order); other nonzero charges raise ``ValueError``.
        num_targets: T, the number of predicted quantities.
        num_cg_levels: L, the number of covariant levels.
        maxl: highest degree of the atom activations (per level).
        max_sh: highest degree of the edge spherical harmonics (per level).
        num_channels: channels per degree; per level a list of L + 1 (input, then each level's output).
        charge_power, charge_scale: input scalars ``onehot · (Z / charge_scale)^p``, p ≤ charge_power;
            ``charge_scale`` defaults to ``max(species)``.
        input: ``"linear"`` (MD-17) or ``"mpnn"`` (QM9, with ``num_mpnn_layers`` layers).
        top: ``"linear"`` (MD-17) or ``"pmlp"`` (QM9; ``mlp_width`` hidden units, ``num_mixed`` atom features).
        basis_set: ``(n_max, k_max)`` of the PolyTrig radial functions.
        radial_frequency_scale: their initial frequencies are ``n · radial_frequency_scale`` per Å, n ≤ n_max (1, the
            reference's; the md17 preset's smaller value gives smoother radial functions, see ``RadialPolyTrig``).
        cutoff_type, soft_cut_rad, soft_cut_width, hard_cut_rad: the edge mask (see ``SoftCutoff``; per level).
        level_gain, weight_init: initialization of the atom-level mixing weights (per level).
        input_gain: factor on the input layer's last linear map at initialization (the qm9 preset 4, md17 1.5).
        normalization: ``"soft"`` (default, see ``_normalization``) or ``"none"`` (the reference's blow-up).
        normalization_scale, normalization_epsilon: κ (per level: the input, then each level) and ε of the soft
            normalization ``F_l / sqrt(ε + mean_c ||F_{l,c}||² / κ²)`` (default 1 and 1; issue 11's ablations).
        head_level_gain: factor on the head's initial weights for each level's invariants (per level).
        block_gain: factors on the initial atom-mixing weights of the bracket's blocks ``F``, ``F ⊗ F``, ``Σ G ⊗ F``.
        weight_multiplier: C of every atom- and edge-level weight matrix, stored as ``V = W / C`` and used as
            ``W = C·V`` (same function at initialization, C times larger steps relative to W under Adam; the md17
            preset's 4).
        solid_harmonics: edge harmonics ``r^l Y_l(r̂)`` (the reference's, up to its constant factor) instead of
            ``Y_l(r̂)``.
        activation: of the MLPs.

    ``config`` holds these arguments (JSON-serializable) and ``Cormorant(**model.config)`` rebuilds the model.
    Buffers ``target_mean`` ``(T,)``, ``target_std`` ``(T,)`` and ``species_reference`` ``(S, T)`` rescale the head's
    output (module docstring). ``validate_inputs`` (default True) checks the charges, which costs one host
    synchronisation per forward; switch it off for CUDA graphs or ``torch.compile``.

    Compiled path: ``model.compile(fullgraph=True)`` (or ``torch.compile(model, fullgraph=True)``) traces the whole
    forward pass without graph breaks (the CG plans are buffers of the layers, ``_cg_plans``) and computes the same
    function, gradients included (``tests/nn/test_compile.py``); after ``model.compile``, :meth:`energy_and_forces`
    runs the compiled forward too. Training on forces differentiates the backward pass, which PyTorch's compiled
    graphs do not support ("double backward"): train on forces eagerly.

    ``recompute_in_backward=True``: the levels keep only small tensors for the backward pass and recompute their
    largest activations when the weight gradients need them: less memory (the qm9 step of
    ``benchmarks/bench_model.py``, 32 molecules of 18 atoms: +90 instead of +131 MiB of peak memory over the
    pre-step baseline), but about 30% more CPU time per step (0.257 against 0.198 CPU s in one run), since the
    recomputation repeats the CG aggregate. ``None`` (default) and ``False`` keep the activations: the step's own
    memory is then 0.19 of the reference implementation's (+131 against +690 MiB). The recomputation never pays
    when forces are trained on (the backward pass is itself differentiated, and the recomputation with it) or under
    ``torch.compile`` (inductor chooses what to keep itself: with the recomputation the compiled qm9 step ran 869
    kernels and 0.130 CPU s, without it 467 and 0.117).
    """

    # registered buffers, and submodules whose classes differ in nn.reference (declared for the type checker)
    _species: torch.Tensor
    _invariant_degree_sum: torch.Tensor
    target_mean: torch.Tensor
    target_std: torch.Tensor
    species_reference: torch.Tensor
    input_layer: nn.Module
    head: nn.Module
    metadata: dict[str, Any]  # set by load_model (_persistence.model_from_payload)

    def __init__(
        self,
        *,
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
        radial_frequency_scale: float = 1.0,
        cutoff_type: Sequence[str] = ("learn",),
        soft_cut_rad: float | Sequence[float] = 1.73,
        soft_cut_width: float | Sequence[float] = 0.2,
        hard_cut_rad: float | Sequence[float] = 1.73,
        level_gain: float | Sequence[float] = 10.0,
        weight_init: str = "rand",
        normalization: str = "soft",
        activation: str = "leakyrelu",
        mlp_width: int = 256,
        num_mixed: int = 64,
        input_gain: float = 1.0,
        normalization_scale: float | Sequence[float] = 1.0,
        normalization_epsilon: float = 1.0,
        head_level_gain: float | Sequence[float] = 1.0,
        block_gain: Sequence[float] = (1.0, 1.0, 1.0),
        weight_multiplier: float = 1.0,
        solid_harmonics: bool = False,
    ):
        super().__init__()
        config = {key: value for key, value in locals().items() if key not in ("self", "__class__")}
        self.config: dict = json.loads(json.dumps(config))  # plain lists and numbers, a copy
        species = [int(z) for z in species]
        if not species or len(set(species)) != len(species) or min(species) <= 0:
            raise ValueError(f"species must be distinct positive atomic numbers, got {species}")
        if input not in INPUTS or top not in TOPS:
            raise ValueError(f"input must be one of {INPUTS} and top one of {TOPS}, got {input!r} and {top!r}")
        if num_cg_levels < 1 or num_targets < 1 or charge_power < 0:
            raise ValueError("num_cg_levels and num_targets must be at least 1, charge_power at least 0")
        self.species, self.num_targets, self.charge_power = species, int(num_targets), int(charge_power)
        self.charge_scale = float(charge_scale if charge_scale is not None else max(species))
        self.register_buffer("_species", torch.tensor(species), persistent=False)

        channels = _per_level(num_channels, num_cg_levels + 1, "num_channels")
        per_level = {
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
        cutoff = {name: per_level[name] for name in ("soft_cut_rad", "soft_cut_width", "hard_cut_rad")}
        num_inputs = len(species) * (charge_power + 1)
        if input == "mpnn":
            first_cutoff = {name: values[0] for name, values in cutoff.items()}
            self.input_layer = InputMPNN(
                num_inputs,
                channels[0],
                num_layers=num_mpnn_layers,
                basis_set=cast("tuple[int, int]", tuple(basis_set)),
                radial_frequency_scale=radial_frequency_scale,
                cutoff_type=tuple(cutoff_type),
                width=mlp_width,
                activation=activation,
                **first_cutoff,
            )
        else:
            self.input_layer = InputLinear(num_inputs, channels[0])
        if input_gain != 1.0:
            last = [m for m in self.input_layer.modules() if isinstance(m, nn.Linear)][-1]
            with torch.no_grad():
                last.weight.mul_(input_gain)
                last.bias.mul_(input_gain)
        scales = _per_level(normalization_scale, num_cg_levels + 1, "normalization_scale")  # input, then each level
        self.input_normalization = CovariantNormalization(normalization, scales[0], normalization_epsilon)
        self.cormorant_cg = CormorantCG(
            maxl=per_level["maxl"],
            max_sh=per_level["max_sh"],
            num_channels=channels,
            basis_set=cast("tuple[int, int]", tuple(basis_set)),
            radial_frequency_scale=radial_frequency_scale,
            cutoff_type=tuple(cutoff_type),
            level_gain=per_level["level_gain"],
            weight_init=weight_init,
            normalization=normalization,
            normalization_scale=scales[1:],
            normalization_epsilon=normalization_epsilon,
            block_gain=tuple(block_gain),
            weight_multiplier=weight_multiplier,
            **cutoff,
        )
        self.max_sh = max(per_level["max_sh"])
        self.harmonics_coefficients = ExactConstant(harmonics_coefficients(self.max_sh))  # Y_l(r̂) as one product
        num_scalars = num_invariants(self.cormorant_cg.channels)
        degree_sum = degree_sum_matrix(len(self.cormorant_cg.channels[-1]) - 1).to(torch.get_default_dtype())
        self.register_buffer("_invariant_degree_sum", degree_sum, persistent=False)  # the invariants at once
        if top == "pmlp":
            self.head = OutputPMLP(
                num_scalars, self.num_targets, num_mixed=num_mixed, width=mlp_width, activation=activation
            )
        else:
            self.head = OutputLinear(num_scalars, self.num_targets)
        head_gains = _per_level(head_level_gain, num_cg_levels, "head_level_gain")
        if any(g != 1.0 for g in head_gains):  # the head's weights on level s's invariants start ×head_gains[s]
            first = next(m for m in self.head.modules() if isinstance(m, nn.Linear))
            start = 0
            with torch.no_grad():
                for gain, c in zip(head_gains, self.cormorant_cg.channels, strict=True):
                    width = c[0] + sum(c)
                    first.weight[:, start : start + width].mul_(gain)
                    start += width
        self.register_buffer("target_mean", torch.zeros(self.num_targets))
        self.register_buffer("target_std", torch.ones(self.num_targets))
        self.register_buffer("species_reference", torch.zeros(len(species), self.num_targets))
        self.validate_inputs = True
        self.recompute_in_backward: bool | None = None
        self.solid_harmonics = bool(solid_harmonics)

    def __new__(cls, *args, reference: bool = False, **kwargs):
        """``Cormorant(reference=True, ...)`` builds the reference mode, :class:`~cormorant_lab.nn.reference.ReferenceCormorant`."""
        if reference and cls is Cormorant:
            from .reference import ReferenceCormorant

            cls = ReferenceCormorant
        return super().__new__(cls)

    @classmethod
    def from_preset(
        cls,
        name: str,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        reference: bool = False,
        **overrides,
    ) -> Cormorant:
        """The ``"qm9"`` or ``"md17"`` model of the paper; ``overrides`` change any constructor argument.

        ``reference=True``: the reference implementation's network, weight for weight (``cormorant_lab.nn.reference``).
        """
        if reference:
            from .reference import ReferenceCormorant

            return ReferenceCormorant.from_preset(name, dtype=dtype, device=device, **overrides)
        model = cls(**{**preset(name), **overrides})
        return model.to(dtype=dtype, device=device) if dtype is not None or device is not None else model

    @classmethod
    def load(cls, path, map_location: str | torch.device = "cpu") -> Cormorant:
        """A trained model saved by the trainer (``best.pt``/``last.pt``) or ``cormorant_lab.train.save_model``.

        Restores the configuration (preset, species), the weights and the target normalization; eval mode.
        The task's units are in ``model.metadata``.
        """
        from ._persistence import load_model  # _persistence imports this module

        return load_model(path, map_location)

    def predict(self, atoms) -> np.ndarray:
        """Predictions (the model's units) for one ``ase.Atoms`` or a list of them: ``(molecules,)`` or ``(molecules, T)``."""
        from ._persistence import predict

        return predict(self, atoms)

    # --- forward ---------------------------------------------------------------------------------------------
    def forward(self, positions: torch.Tensor, charges: torch.Tensor) -> torch.Tensor:
        """Predictions for positions ``(B, N, 3)`` (Å) and integer charges ``(B, N)`` (0 = padding): ``(B,)`` or ``(B, T)``.

        Tensors or numpy arrays; padding positions are ignored (NaN included); see ``_model_inputs``."""
        positions, charges = self._check_inputs(positions, charges)
        levels = self._compute_levels(positions, charges, keep_edges=False)
        y = self.head(atom_invariants(levels.atoms, degree_sum=self._invariant_degree_sum), levels.atom_mask)
        counts = (charges.unsqueeze(-1) == self._species).sum(-2).to(y.dtype)  # (B, S) atoms of each species
        y = y * self.target_std + self.target_mean + counts @ self.species_reference
        return y.squeeze(-1) if self.num_targets == 1 else y

    def compute_levels(
        self, positions: torch.Tensor, charges: torch.Tensor, *, keep_edges: bool = True
    ) -> CormorantLevels:
        """Run everything before the head: masks, geometry, ``F^0``, and every level's ``F^s`` and ``G^s``.

        ``keep_edges=False`` leaves ``edges`` empty: the levels never need ``G^s`` formed (the forward pass saves
        that memory), only inspection does.
        """
        positions, charges = self._check_inputs(positions, charges)
        return self._compute_levels(positions, charges, keep_edges=keep_edges)

    def _compute_levels(self, positions: torch.Tensor, charges: torch.Tensor, *, keep_edges: bool) -> CormorantLevels:
        atom_mask = charges != 0
        geometry = edge_geometry(positions, atom_mask, self.max_sh, coefficients=self.harmonics_coefficients())
        if self.solid_harmonics:  # r^l Y_l(r̂), the reference's edge harmonics (up to its factor)
            r = geometry.distances.unsqueeze(-1)
            solid = tuple(y * r**l if l else y for l, y in enumerate(geometry.harmonics))
            geometry = dataclasses.replace(geometry, harmonics=solid)
        features = species_features(charges, self._species, self.charge_power, self.charge_scale, positions.dtype)
        # the radial functions and cutoffs of the message-passing input and of every level, at once (fewer kernels)
        mpnn = self.input_layer.message_layers if isinstance(self.input_layer, InputMPNN) else []
        edge_levels = self.cormorant_cg.edge_modules
        radials, cutoffs = edge_functions_at_once(
            [layer.radial for layer in mpnn] + [level.radial for level in edge_levels],
            [layer.cutoff for layer in mpnn] + [level.cutoff for level in edge_levels],
            geometry,
        )
        k = len(mpnn)
        if mpnn:
            scalars = self.input_layer(features, atom_mask, geometry, functions=(radials[:k], cutoffs[:k]))
        else:
            scalars = self.input_layer(features, atom_mask, geometry)
        inputs = self.input_normalization(SO3Vec([scalars.unsqueeze(-1)]))
        recompute = bool(self.recompute_in_backward)  # None (default): keep the activations (class docstring)
        atoms, edges = self.cormorant_cg(
            inputs, geometry, keep_edges=keep_edges, recompute=recompute, functions=(radials[k:], cutoffs[k:])
        )
        return CormorantLevels(atom_mask, inputs, atoms, edges, geometry)

    def levels(self, positions: torch.Tensor, charges: torch.Tensor) -> dict[str, SO3Vec]:
        """The covariant activations by name, for :func:`~cormorant_lab.checks.check_covariance`.

        ``"input"`` (``F^0``, batch ``(B, N)``), then ``"edge_s"`` (``G^s``, batch ``(B, N, N)``) and ``"atom_s"``
        (``F^s``, batch ``(B, N)``) for s = 1..L.
        """
        run = self.compute_levels(positions, charges)
        named = {"input": run.input}
        for s, (atoms, edges) in enumerate(zip(run.atoms, run.edges, strict=False), start=1):
            named[f"edge_{s}"] = edges
            named[f"atom_{s}"] = atoms
        return named

    def energy_and_forces(
        self, positions: torch.Tensor, charges: torch.Tensor, *, create_graph: bool | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Energies ``(B,)`` and forces :math:`-\partial E / \partial r` ``(B, N, 3)`` by autograd (0 on padding atoms).

        ``create_graph`` (default: ``self.training``) keeps the graph of the forces, to train on them.
        """
        if self.num_targets != 1:
            raise ValueError(
                f"energy_and_forces needs a model with one target (the energy), this one has {self.num_targets}"
            )
        create_graph = self.training if create_graph is None else create_graph
        positions, charges = as_tensor_inputs(positions, charges, self.target_mean.device, self.target_mean.dtype)
        with torch.enable_grad():
            if not positions.requires_grad:
                positions = positions.detach().requires_grad_(True)
            energy = self(positions, charges)
            (gradient,) = torch.autograd.grad(energy.sum(), positions, create_graph=create_graph)
        return energy, -gradient

    # --- helpers ---------------------------------------------------------------------------------------------
    def _check_inputs(self, positions, charges) -> tuple[torch.Tensor, torch.Tensor]:
        return prepare_inputs(
            positions, charges, species=self._species, dtype=self.target_mean.dtype, validate=self.validate_inputs
        )
