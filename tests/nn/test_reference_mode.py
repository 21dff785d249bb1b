"""The reference mode: risilab/cormorant's network weight for weight (``cormorant_lab.nn.reference``).

The golden fixture ``cormorant_lab/nn/reference/data/reference_fixture.npz`` (package data) holds the reference's
weights, inputs (QM9 molecules and frames of the bundled trajectories) and outputs, made by
``scripts/make_reference_fixture.py`` from the reference itself; these tests compare against it offline.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cormorant_lab.checks import check_covariance
from cormorant_lab.nn import Cormorant, ReferenceCormorant, from_reference, to_reference_state_dict
from cormorant_lab.nn.reference import reference_fixture_path

FIXTURE = reference_fixture_path()
PRESETS = ("qm9", "md17")


@pytest.fixture(scope="module")
def fixture() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return dict(data)


def reference_weights(fixture, preset: str) -> dict[str, torch.Tensor]:
    prefix = f"{preset}/weights/"
    return {k[len(prefix) :]: torch.from_numpy(v) for k, v in fixture.items() if k.startswith(prefix)}


def fixture_model(fixture, preset: str, dtype: torch.dtype) -> ReferenceCormorant:
    config = json.loads(str(fixture[f"{preset}/config"]))
    return from_reference(reference_weights(fixture, preset), preset, dtype=dtype, **config)


def batch(fixture, preset: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(fixture[f"{preset}/positions"], dtype=dtype), torch.tensor(fixture[f"{preset}/charges"])


@pytest.mark.parametrize("preset, count", [("qm9", 211_452), ("md17", 62_525)])
def test_parameter_count_is_the_reference_s(preset, count):
    model = Cormorant.from_preset(preset, reference=True)
    assert isinstance(model, Cormorant) and isinstance(model, ReferenceCormorant)
    assert sum(p.numel() for p in model.parameters()) == count
    rebuilt = Cormorant(**model.config)
    assert type(rebuilt) is ReferenceCormorant and sum(p.numel() for p in rebuilt.parameters()) == count
    assert type(Cormorant.from_preset(preset)) is Cormorant


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_outputs_equal_the_reference_s(fixture, preset, dtype, tolerance):
    model = fixture_model(fixture, preset, dtype)
    with torch.no_grad():
        energy = model(*batch(fixture, preset, dtype)).double().numpy()
    expected = fixture[f"{preset}/energy_{str(dtype).removeprefix('torch.')}"]
    assert np.isfinite(expected).all() and np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(energy, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("preset", PRESETS)
def test_forces_finite_and_equal_to_the_reference_s_finite_differences(fixture, preset):
    """The reference's autograd forces are NaN (its r^-k at the self pair); its energy's central differences are the oracle."""
    model = fixture_model(fixture, preset, torch.float64)
    model.eval()
    positions, charges = batch(fixture, preset, torch.float64)
    _, forces = model.energy_and_forces(positions, charges)
    autograd = fixture[f"{preset}/forces_autograd_float64"]
    finite = np.isfinite(autograd)
    assert torch.isfinite(forces).all()
    np.testing.assert_allclose(forces.numpy()[finite], autograd[finite], rtol=1e-10, atol=1e-10)
    oracle, kinks = fixture[f"{preset}/forces_fd_float64"], fixture[f"{preset}/forces_fd_kinks"]
    assert (
        kinks.mean() < 0.01
    )  # a LeakyReLU kink within h of the geometry: no difference quotient is a derivative there
    smooth = ~kinks & (charges.numpy() > 0)[..., None]
    error = np.abs(forces.numpy() - oracle)[smooth].max()
    assert error <= 1e-6 * np.abs(oracle).max()  # central differences, h = 1e-6 Å


@pytest.mark.parametrize("preset", PRESETS)
def test_round_trip_through_the_reference_layout(fixture, preset):
    weights = reference_weights(fixture, preset)
    model = fixture_model(fixture, preset, torch.float32)
    back = to_reference_state_dict(model)
    assert list(back) == list(weights)  # the reference's names, in its order
    assert all(torch.equal(back[k], weights[k]) for k in weights)
    config = json.loads(str(fixture[f"{preset}/config"]))
    again = from_reference(back, preset, **config)
    assert all(
        torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values(), strict=False)
    )


def test_converter_names_what_is_wrong(fixture):
    weights = reference_weights(fixture, "md17")
    config = json.loads(str(fixture["md17/config"]))
    missing = dict(weights)
    missing.pop("cormorant_cg.atom_levels.0.cat_mix.mix_reps.weights.0")
    with pytest.raises(ValueError, match=r"missing \['cormorant_cg.atom_levels.0.cat_mix.mix_reps.weights.0'\]"):
        from_reference(missing, "md17", **config)
    with pytest.raises(ValueError, match="input_func_atom.lin.weight"):
        from_reference(weights, "md17", species=[1, 6, 7, 8, 9], **config)  # 5 species: the input layer's shape differs
    with pytest.raises(ValueError, match="unknown preset"):
        from_reference(weights, "qm7", **config)


@pytest.mark.parametrize("preset", PRESETS)
def test_reference_mode_is_covariant_through_the_shipped_checker(fixture, preset):
    model = fixture_model(fixture, preset, torch.float64)
    positions, charges = batch(fixture, preset, torch.float64)
    report = check_covariance(model, positions[:3], charges[:3], n_rotations=2)
    assert report.worst <= 1e-10, report.summary()
    assert (
        set(report.covariance_errors) >= {"input", "edge_1", "atom_1"} and len(report.covariance_errors["atom_1"]) == 4
    )
    # the levels really are complex and off the reality condition F_{-m} = (-1)^m conj(F_m)
    atom = model.levels(positions[:1], charges[:1])["atom_1"].parts[1]
    assert atom.is_complex() and (atom - atom.flip(-1).conj() * torch.tensor([-1.0, 1.0, -1.0])).abs().max() > 1e-3


@pytest.mark.parametrize("preset", PRESETS)
def test_finite_forces_on_close_contacts_and_coincident_padding(preset):
    torch.manual_seed(0)
    model = Cormorant.from_preset(preset, reference=True, dtype=torch.float64, num_channels=3, num_cg_levels=2)
    positions = torch.tensor(
        [[[0.0, 0.0, 0.0], [0.02, 0.0, 0.0], [0.0, 1.1, 0.1], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], dtype=torch.float64
    )
    charges = torch.tensor([[6, 1, 8, 0, 0]])
    energy, forces = model.energy_and_forces(positions, charges)
    assert torch.isfinite(energy).all() and torch.isfinite(forces).all()
    assert forces[0, 3:].abs().max() == 0


def test_lean_levels_equal_the_textbook_form_values_and_gradients(fixture):
    model = fixture_model(fixture, "md17", torch.float64)
    positions, charges = batch(fixture, "md17", torch.float64)
    positions, charges = positions[:4], charges[:4]
    results = []
    for lean in (False, True):
        for level in [*model.atom_levels, *model.edge_levels]:
            level.lean = lean
        model.zero_grad()
        x = positions.clone().requires_grad_(True)
        energy = model(x, charges)
        energy.sum().backward()
        results.append((energy.detach(), x.grad, [p.grad.clone() for p in model.parameters()]))
    (e0, f0, g0), (e1, f1, g1) = results
    torch.testing.assert_close(e1, e0, rtol=1e-12, atol=0)
    torch.testing.assert_close(f1, f0, rtol=1e-10, atol=1e-12 * float(f0.abs().max()))
    for a, b in zip(g1, g0, strict=False):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12 * float(b.abs().max()))
