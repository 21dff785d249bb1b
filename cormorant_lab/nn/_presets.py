"""The paper's two configurations, as overrides of :class:`~cormorant_lab.nn.Cormorant`'s defaults.

The constructor's defaults are the reference implementation's (``num_cg_levels=4``, ``maxl=3``, ``max_sh=3``,
``num_channels=10``, ``charge_power=2``, PolyTrig radial basis (3, 3), learnable soft cutoff at 1.73 Å of
width 0.2 Å, mixing gain 10). The presets add what differed between the paper's two models:

* ``"qm9"`` (``CormorantQM9``): species H, C, N, O, F; the one-layer message-passing input; the two-MLP head.
* ``"md17"`` (``CormorantMD17``): species H, C, N, O (every MD-17 molecule); the linear input and linear head.
"""

from __future__ import annotations

import copy

PRESETS: dict[str, dict] = {
    "qm9": {"species": [1, 6, 7, 8, 9], "input": "mpnn", "num_mpnn_layers": 1, "top": "pmlp"},
    "md17": {"species": [1, 6, 7, 8], "input": "linear", "top": "linear"},
}


def preset(name: str) -> dict:
    """A copy of the overrides of preset ``name`` (``"qm9"`` or ``"md17"``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
