"""The tutorial helpers for the complex form: the reality condition and the converter check."""

import pytest
import torch

from cormorant_lab.checks import random_molecules
from cormorant_lab.nn import Cormorant
from cormorant_lab.so3 import SO3Vec, spherical_harmonics_all
from cormorant_lab.tutorial import converter_check, reality_defect


def test_harmonics_and_real_vectors_satisfy_the_reality_condition():
    v = torch.randn(5, 3, dtype=torch.float64)
    harmonics = SO3Vec([y.unsqueeze(-2) for y in spherical_harmonics_all(3, v, basis="complex")], basis="complex")
    assert max(reality_defect(harmonics)) < 1e-14
    real = SO3Vec([torch.randn(5, 2, 2 * l + 1, dtype=torch.float64) for l in range(3)], basis="real")
    assert max(reality_defect(real)) < 1e-14
    broken = SO3Vec([torch.randn(5, 2, 2 * l + 1, dtype=torch.complex128) for l in range(3)], basis="complex")
    assert min(reality_defect(broken)) > 0.1


def test_reference_mode_activations_break_the_reality_condition():
    torch.manual_seed(0)
    model = Cormorant.from_preset("md17", reference=True, dtype=torch.float64, num_channels=3, num_cg_levels=2)
    positions, charges = random_molecules(2, 5, species=model.species, generator=torch.Generator().manual_seed(0))
    levels = model.levels(positions, charges)
    assert min(reality_defect(levels["input"])) > 0.1 and min(reality_defect(levels["atom_2"])) > 0.1
    with pytest.raises(TypeError):
        reality_defect(torch.zeros(3))


def test_converter_check_round_trip():
    figures = converter_check("md17", num_molecules=2)
    assert figures["round_trip_max_difference"] == 0.0 and figures["output_scale"] > 0
