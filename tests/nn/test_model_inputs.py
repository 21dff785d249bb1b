"""The model's inputs: numpy accepted, empty molecules, padding positions that do not matter (NaN included),
non-finite real positions named, and other types refused with what is expected."""

import numpy as np
import pytest
import torch

from cormorant_lab.nn import Cormorant

SMALL = {"num_cg_levels": 2, "num_channels": 3, "maxl": 2, "max_sh": 2}


@pytest.fixture(scope="module", params=["md17", "qm9"])
def model(request):
    torch.manual_seed(0)
    return Cormorant.from_preset(request.param, dtype=torch.float64, **SMALL)


@pytest.fixture(scope="module")
def batch():
    generator = torch.Generator().manual_seed(1)
    positions = 1.5 * torch.randn(2, 6, 3, dtype=torch.float64, generator=generator)
    charges = torch.tensor([[6, 1, 1, 8, 0, 0], [6, 6, 7, 1, 1, 0]])
    return positions, charges


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e300, 0.0])
def test_padding_positions_do_not_matter_at_all(model, batch, value):
    positions, charges = batch
    energy, forces = model.energy_and_forces(positions, charges)
    poisoned = positions.clone()
    poisoned[charges == 0] = value
    energy2, forces2 = model.energy_and_forces(poisoned, charges)
    assert torch.equal(energy, energy2)  # bit for bit: padding never enters the computation
    assert torch.equal(forces, forces2) and (forces2[charges == 0] == 0).all()


def test_non_finite_real_positions_name_molecule_and_atom(model, batch):
    positions, charges = batch
    bad = positions.clone()
    bad[1, 3, 2] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite position .* real atom at \(molecule 1, atom 3, charge 1\)"):
        model(bad, charges)
    bad[1, 3, 2] = 0.0
    bad[0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"molecule 0, atom 0, charge 6"):
        model.energy_and_forces(bad, charges)


def test_empty_molecules(model, batch):
    positions, charges = batch
    empty_positions, empty_charges = positions[:, :0], charges[:, :0]
    energy, forces = model.energy_and_forces(empty_positions, empty_charges)
    assert energy.shape == (2,) and forces.shape == (2, 0, 3) and torch.isfinite(energy).all()
    padding_only = model(positions[:, :3], torch.zeros(2, 3, dtype=torch.long))
    assert torch.equal(energy.detach(), padding_only.detach())  # no atoms = padding only
    assert model(positions[:0], charges[:0]).shape == (0,)  # and an empty batch


def test_numpy_inputs(model, batch):
    positions, charges = batch
    expected = model(positions, charges)
    assert torch.equal(model(positions.numpy(), charges.numpy()), expected)
    assert torch.allclose(
        model(positions.numpy().astype(np.float32), charges.numpy().astype(np.int32)), expected, atol=1e-5
    )
    energy, forces = model.energy_and_forces(positions.numpy(), charges.numpy())
    expected_energy, expected_forces = model.energy_and_forces(positions, charges)
    assert torch.equal(energy, expected_energy) and torch.equal(forces, expected_forces)
    assert forces.shape == (2, 6, 3) and torch.allclose(energy, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "positions, charges, error, message",
    [
        (
            [[[0.0, 0.0, 0.0]]],
            torch.tensor([[6]]),
            TypeError,
            r"positions must be a torch.Tensor or a numpy array, \(batch, atoms, 3\)",
        ),
        (np.zeros((1, 1, 3)), [[6]], TypeError, r"charges must be a torch.Tensor or a numpy array"),
        (np.array([[["a", "b", "c"]]]), np.array([[6]]), TypeError, r"dtype <U1 cannot be used"),
        (np.zeros((1, 1, 3)), np.array([[6.0]]), ValueError, r"charges must be an integer tensor"),
        (np.zeros((1, 3)), np.array([[6]]), ValueError, r"positions must have shape \(batch, atoms, 3\)"),
        (np.zeros((1, 2, 3)), np.array([[6]]), ValueError, r"charges must have shape \(batch, atoms\) = \(1, 2\)"),
        (np.zeros((1, 1, 3)), np.array([[92]]), ValueError, r"unknown species: charge 92 at \(molecule 0, atom 0\)"),
    ],
)
def test_bad_inputs_say_what_is_expected(model, positions, charges, error, message):
    with pytest.raises(error, match=message):
        model(positions, charges)


def test_inputs_on_another_device_are_named(model, batch):
    positions, charges = batch
    with pytest.raises(ValueError, match=r"positions are on meta, the model on cpu"):
        model(positions.to("meta"), charges)
