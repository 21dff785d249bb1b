r"""Weights from and to the reference implementation: ``from_reference`` and ``to_reference_state_dict``.

A ``CormorantQM9`` / ``CormorantMD17`` of risilab/cormorant and a :class:`ReferenceCormorant` hold the same
numbers in the same shapes (complex weights as real ``(..., 2)`` pairs); only the names differ. The map, ours →
the reference's:

=======================================================  ===========================================================
``input_layer.linear.*``                                 ``input_func_atom.lin.*``  (MD-17 input)
``input_layer.radial.{k}.{scales,phases}``               ``input_func_atom.rad_filts.{k}.{scales,phases}``  (QM9)
``input_layer.radial.{k}.linear.*``                      ``input_func_atom.rad_filts.{k}.linear.0.*``
``input_layer.mlps.{k}.{hidden,output}.*``               ``input_func_atom.mlps.{k}.linear.{0,1}.*``
``radial.{s}.{scales,phases}``                           ``rad_funcs.rad_funcs.{s}.{scales,phases}``
``edge_levels.{s}.mixing.weights.{l}``                   ``cormorant_cg.edge_levels.{s}.cat_mix.mix_reps.weights.{l}``
``edge_levels.{s}.cutoff.{radius,width}``                ``cormorant_cg.edge_levels.{s}.mask_layer.{soft_cut_rad,soft_cut_width}``
``atom_levels.{s}.mixing.weights.{l}``                   ``cormorant_cg.atom_levels.{s}.cat_mix.mix_reps.weights.{l}``
``head.linear.*``                                        ``output_layer_atom.lin.*``  (MD-17 head)
``head.{atom_mlp,molecule_mlp}.{hidden,output}.*``       ``output_layer_atom.{mlp1,mlp2}.linear.{0,1}.*``  (QM9)
=======================================================  ===========================================================

The buffers ``target_mean``, ``target_std`` and ``species_reference`` have no counterpart (the reference predicts
standardized targets and rescales outside the model); ``from_reference`` leaves them at 0, 1 and 0.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .._presets import reference_preset as preset_overrides
from ._network import ReferenceCormorant

_RULES = [
    (r"input_layer\.linear\.(weight|bias)", r"input_func_atom.lin.\1"),
    (r"input_layer\.radial\.(\d+)\.(scales|phases)", r"input_func_atom.rad_filts.\1.\2"),
    (r"input_layer\.radial\.(\d+)\.linear\.(weight|bias)", r"input_func_atom.rad_filts.\1.linear.0.\2"),
    (r"input_layer\.mlps\.(\d+)\.hidden\.(weight|bias)", r"input_func_atom.mlps.\1.linear.0.\2"),
    (r"input_layer\.mlps\.(\d+)\.output\.(weight|bias)", r"input_func_atom.mlps.\1.linear.1.\2"),
    (r"radial\.(\d+)\.(scales|phases)", r"rad_funcs.rad_funcs.\1.\2"),
    (r"edge_levels\.(\d+)\.mixing\.weights\.(\d+)", r"cormorant_cg.edge_levels.\1.cat_mix.mix_reps.weights.\2"),
    (r"edge_levels\.(\d+)\.cutoff\.radius", r"cormorant_cg.edge_levels.\1.mask_layer.soft_cut_rad"),
    (r"edge_levels\.(\d+)\.cutoff\.width", r"cormorant_cg.edge_levels.\1.mask_layer.soft_cut_width"),
    (r"atom_levels\.(\d+)\.mixing\.weights\.(\d+)", r"cormorant_cg.atom_levels.\1.cat_mix.mix_reps.weights.\2"),
    (r"head\.linear\.(weight|bias)", r"output_layer_atom.lin.\1"),
    (r"head\.atom_mlp\.hidden\.(weight|bias)", r"output_layer_atom.mlp1.linear.0.\1"),
    (r"head\.atom_mlp\.output\.(weight|bias)", r"output_layer_atom.mlp1.linear.1.\1"),
    (r"head\.molecule_mlp\.hidden\.(weight|bias)", r"output_layer_atom.mlp2.linear.0.\1"),
    (r"head\.molecule_mlp\.output\.(weight|bias)", r"output_layer_atom.mlp2.linear.1.\1"),
]
_OURS_ONLY = ("target_mean", "target_std", "species_reference")


def _reference_name(name: str) -> str:
    for pattern, template in _RULES:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, template, name)
    raise KeyError(f"no reference counterpart for parameter {name!r}")


def reference_key_map(model: ReferenceCormorant) -> dict[str, str]:
    """``{our state_dict key: the reference's key}`` for every entry of ``model.state_dict()`` that has one."""
    return {name: _reference_name(name) for name in model.state_dict() if name not in _OURS_ONLY}


def to_reference_state_dict(model: ReferenceCormorant) -> OrderedDict[str, torch.Tensor]:
    """``model``'s weights under the reference's names (copies), loadable by ``CormorantQM9``/``CormorantMD17.load_state_dict``."""
    if not isinstance(model, ReferenceCormorant):
        raise TypeError(
            f"to_reference_state_dict needs a reference-mode model (Cormorant.from_preset(..., reference=True)), got {type(model).__name__}"
        )
    ours = model.state_dict()
    return OrderedDict((theirs, ours[name].detach().clone()) for name, theirs in reference_key_map(model).items())


def from_reference(
    state_dict: Mapping[str, torch.Tensor],
    preset: str,
    *,
    species: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    **overrides: Any,
) -> ReferenceCormorant:
    """A reference-mode :class:`~cormorant_lab.nn.Cormorant` carrying the weights of a reference model.

    Args:
        state_dict: ``CormorantQM9(...).state_dict()`` (``preset="qm9"``) or ``CormorantMD17(...).state_dict()``
            (``"md17"``) of risilab/cormorant — plain tensors, e.g. from ``torch.load(path, weights_only=True)``.
        preset: ``"qm9"`` or ``"md17"``.
        species: the atomic numbers of the reference's one-hot, in its order (its dataset's sorted species);
            default the preset's (H, C, N, O, F for qm9; H, C, N, O for md17).
        dtype: of the returned model (default: that of the weights).
        overrides: any other constructor argument that differs from the reference's defaults (``num_channels``,
            ``num_cg_levels``, ``charge_scale`` — the reference's is ``max(charges)`` of its dataset, …).

    Raises ``ValueError`` naming every missing, unexpected or wrongly shaped entry.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    bad = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"state_dict entries must be tensors; not tensors: {bad[:5]}")
    config = {**preset_overrides(preset), **overrides}
    if species is not None:
        config["species"] = [int(z) for z in species]
    model = ReferenceCormorant(**{**config, "reference": True})
    mapping = reference_key_map(model)
    wanted = set(mapping.values())
    missing = sorted(wanted - set(state_dict))
    unexpected = sorted(set(state_dict) - wanted)
    if missing or unexpected:
        raise ValueError(
            f"the state_dict does not match the reference's {preset!r} model with {config}: "
            f"missing {missing[:8]}{' …' if len(missing) > 8 else ''}, unexpected {unexpected[:8]}{' …' if len(unexpected) > 8 else ''} "
            f"(a different species count, num_channels, num_cg_levels or preset?)"
        )
    expected = model.state_dict()
    shapes = [
        f"{theirs}: {tuple(state_dict[theirs].shape)} (expected {tuple(expected[name].shape)})"
        for name, theirs in mapping.items()
        if state_dict[theirs].shape != expected[name].shape
    ]
    if shapes:
        raise ValueError(
            f"state_dict entries of the wrong shape for the {preset!r} model with {config}: " + "; ".join(shapes[:6])
        )
    dtype = dtype if dtype is not None else next(iter(state_dict.values())).dtype
    model = model.to(dtype)
    ours = model.state_dict()
    with torch.no_grad():
        for name, theirs in mapping.items():
            ours[name].copy_(state_dict[theirs])
    model.load_state_dict(ours)
    return model
