"""The default presets start with activations of order one at every level (issue 11): per-channel RMS at init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cormorant_lab.data import bundled_path
from cormorant_lab.nn import Cormorant

ETHANOL = bundled_path("ethanol")


def per_level_rms(model: Cormorant, positions: torch.Tensor, charges: torch.Tensor) -> dict[str, list[float]]:
    """RMS over real atoms and channels of the per-channel norm ``||F_{i,l,c}||``, per atom level and degree."""
    with torch.no_grad():
        levels = model.levels(positions, charges)
    mask = charges != 0
    return {
        name: [float(p[mask].abs().square().sum(-1).mean().sqrt()) for p in vec.parts]
        for name, vec in levels.items()
        if not name.startswith("edge")
    }


@pytest.fixture(scope="module")
def ethanol() -> tuple[torch.Tensor, torch.Tensor]:
    with np.load(ETHANOL) as data:
        return torch.tensor(data["R"][:600:100]), torch.tensor(data["z"]).repeat(6, 1)


@pytest.mark.parametrize("preset", ["md17", "qm9"])
def test_activations_are_order_one_at_every_level(preset, ethanol):
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = Cormorant.from_preset(preset, dtype=torch.float64)
        rms = per_level_rms(model, *ethanol)
        assert len(rms) == 1 + len(model.cormorant_cg.atom_levels) == (4 if preset == "md17" else 5)  # input, levels
        values = [v for per_l in rms.values() for v in per_l]
        assert 0.1 <= min(values) and max(values) <= 1.5, rms  # the reference's init: 0.0003 at level 4


def test_the_reference_initialization_shrinks_with_depth(ethanol):
    """Why the presets change the initial scale: with the reference's, level 4 is ~100x smaller than the input."""
    torch.manual_seed(0)
    model = Cormorant.from_preset(
        "md17", dtype=torch.float64, num_cg_levels=4, weight_init="rand", level_gain=10.0, input_gain=1.0
    )
    rms = per_level_rms(model, *ethanol)
    assert max(rms["atom_4"]) < 0.05 * rms["input"][0]


def test_md17_preset_edges_reach_the_bond_angles_at_init(ethanol):
    """The md17 preset's soft cutoff starts at 2.5 Å: the 1–3 pairs (two bonds apart) of ethanol are edges at
    level 1 (mean mask above 0.7), so bond angles are pair distances; at the reference's 1.73 Å they are mostly not."""
    from cormorant_lab.nn._geometry import edge_geometry

    positions, charges = ethanol
    r = torch.cdist(positions, positions)
    heavy = charges > 1
    pair_heavy = heavy.unsqueeze(-1) & heavy.unsqueeze(-2)
    bonded = (r > 0) & torch.where(pair_heavy, r < 1.8, r < 1.25)  # covalent bonds (X–H ~1.0–1.1, C–C/C–O ~1.4–1.6 Å)
    two_hops = (bonded.double() @ bonded.double() > 0) & ~bonded & (r > 0)
    assert int(two_hops.sum()) == 6 * 2 * 13  # ethanol has 13 pairs two bonds apart (each counted both ways)
    geometry = edge_geometry(positions, charges != 0, 3)
    mean_mask = {}
    for rad in (None, 1.73):
        model = Cormorant.from_preset("md17", dtype=torch.float64, **({} if rad is None else {"soft_cut_rad": rad}))
        mask = model.cormorant_cg.edge_levels[0].cutoff(geometry).permute(0, 2, 3, 1).detach()  # (B, N, N, C)
        assert bool((mask[bonded] > 0.5).all())  # every bond is an edge either way
        mean_mask[rad] = float(mask[two_hops].mean())
    assert mean_mask[None] > 0.7 and mean_mask[1.73] < 0.3, mean_mask
