"""The paper's two configurations, as overrides of :class:`~cormorant_lab.nn.Cormorant`'s defaults.

The constructor's defaults are the reference implementation's (``num_cg_levels=4``, ``maxl=3``, ``max_sh=3``,
``num_channels=10``, ``charge_power=2``, PolyTrig radial basis (3, 3), learnable soft cutoff at 1.73 Å of
width 0.2 Å, mixing gain 10). The presets add what differed between the paper's two models:

* ``"qm9"`` (``CormorantQM9``): species H, C, N, O, F; the one-layer message-passing input; the two-MLP head.
* ``"md17"`` (``CormorantMD17``): species H, C, N, O (every MD-17 molecule); the linear input and linear head.

Both presets of the default network also change the initial scale (``INITIAL_SCALE``): with the reference's
mixing initialization the activations shrink with depth (per-channel RMS about 0.24 → 0.15 → 0.03 → 0.007 →
0.002 from the input to level 4 of the md17 preset on ethanol), since each level's bracket is dominated by
small products and the mixing weights (``gain / max(τ_in, τ_out)``) do not preserve variance. Mixing weights
with standard deviation ``3 / sqrt(τ_in)`` and an input layer scaled by 4 keep every level between about 0.3 and
0.9 (the soft normalization caps the rest). ``reference_preset`` gives the overrides without it.
"""

from __future__ import annotations

import copy

PRESETS: dict[str, dict] = {
    "qm9": {"species": [1, 6, 7, 8, 9], "input": "mpnn", "num_mpnn_layers": 1, "top": "pmlp"},
    "md17": {"species": [1, 6, 7, 8], "input": "linear", "top": "linear"},
}


INITIAL_SCALE: dict = {"weight_init": "fan_in", "level_gain": 3.0, "input_gain": 4.0}


def reference_preset(name: str) -> dict:
    """A copy of what preset ``name`` (``"qm9"`` or ``"md17"``) changes in the reference's architecture."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def preset(name: str) -> dict:
    """A copy of the overrides of the default network's preset ``name`` (``"qm9"`` or ``"md17"``)."""
    return {**reference_preset(name), **INITIAL_SCALE}
