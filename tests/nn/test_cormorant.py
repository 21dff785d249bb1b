"""The full network: symmetry, padding and batch independence, forces, stability, presets and configuration."""

import json

import pytest
import torch

from cormorant_lab.checks import check_covariance, random_molecules, saved_activation_bytes
from cormorant_lab.nn import Cormorant

PRESETS = ["qm9", "md17"]


def seeded_model(name: str, dtype=torch.float32, device="cpu", **overrides) -> Cormorant:
    torch.manual_seed(0)
    return Cormorant.from_preset(name, dtype=dtype, device=device, **overrides)


def molecules(model, batch, atoms, *, min_atoms=None, seed=1, dtype=torch.float64, device="cpu"):
    generator = torch.Generator().manual_seed(seed)
    return random_molecules(
        batch, atoms, species=model.species, min_atoms=min_atoms, generator=generator, dtype=dtype, device=device
    )


# --- symmetry -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESETS)
def test_invariant_and_covariant_at_every_level_on_molecules_of_29_atoms(preset, dtype, model_tolerance, device):
    model = seeded_model(preset, dtype, device)
    positions, charges = molecules(model, 2, 29, min_atoms=21, dtype=dtype, device=device)
    report = check_covariance(model, positions, charges, n_rotations=2)
    levels = len(model.cormorant_cg.atom_levels)
    assert levels == {"qm9": 4, "md17": 3}[preset]
    assert len(report.covariance_errors) == 1 + 2 * levels  # input, then an edge and an atom level per CG level
    assert report.passed(model_tolerance), report.summary()
    assert min(min(norms) for norms in report.level_norms.values()) > 1e-3  # errors are relative to nonzero activations


def test_per_level_hyperparameters_and_a_hard_cutoff_keep_exact_covariance():
    model = seeded_model(
        "qm9",
        torch.float64,
        num_cg_levels=3,
        max_sh=[1, 3, 2],
        maxl=[2, 1, 3],
        num_channels=[3, 4, 5, 3],
        cutoff_type=["soft", "hard"],
        hard_cut_rad=[2.5, 3.0, 9.0],
        num_mpnn_layers=2,
        charge_power=1,
    )
    assert model.cormorant_cg.channels == [(4, 4), (5, 5), (3, 3, 3, 3)]  # level 1 reaches l ≤ 1 only
    positions, charges = molecules(model, 2, 8, min_atoms=6)
    report = check_covariance(model, positions, charges, n_rotations=1)
    assert report.passed(1e-10), report.summary()
    assert [len(report.covariance_errors[f"edge_{s}"]) for s in (1, 2, 3)] == [2, 4, 3]


def test_the_checker_sees_the_symmetry_breaking_we_plant():
    """A test of the tests: break the model's covariance slightly and the invariance test above must fail."""
    model = seeded_model("md17", torch.float64)
    positions, charges = molecules(model, 2, 9)
    level = model.cormorant_cg.atom_levels[1]
    original = level.forward  # the level's output (its normalization may be fused into it)
    level.forward = lambda *args, **kwargs: original(*args, **kwargs).apply(lambda p: p + 1e-6 * p[..., :1])
    report = check_covariance(model, positions, charges, n_rotations=1)
    assert report.rotation_error > 1e-9 and report.covariance_errors["atom_2"][1] > 1e-9
    assert report.covariance_errors["atom_1"][1] < 1e-12  # levels before the planted error stay exact


def test_a_molecules_prediction_ignores_padding_and_batch_mates(dtype):
    model = seeded_model("qm9", dtype)
    positions, charges = molecules(model, 3, 8, min_atoms=5, dtype=dtype)
    sizes = [int((charges[b] != 0).sum()) for b in range(3)]
    alone = [model(positions[b : b + 1, : sizes[b]], charges[b : b + 1, : sizes[b]]) for b in range(3)]
    # More padding, scattered padding positions (one padding atom on top of a real atom), other batch mates.
    padded_positions = torch.cat([positions, torch.zeros(3, 4, 3, dtype=dtype)], dim=1)
    padded_positions[:, 8:] = torch.randn(3, 4, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64).to(
        dtype
    )
    padded_positions[:, 9] = padded_positions[:, 0]
    padded_charges = torch.cat([charges, torch.zeros(3, 4, dtype=charges.dtype)], dim=1)
    batched = model(padded_positions, padded_charges)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    for b in range(3):
        assert torch.allclose(batched[b], alone[b][0], rtol=tolerance, atol=tolerance)
    assert torch.allclose(
        model(padded_positions[1:2], padded_charges[1:2])[0], batched[1], rtol=tolerance, atol=tolerance
    )


# --- forces ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESETS)
def test_forces_are_minus_the_gradient_by_finite_differences(preset, device):
    model = seeded_model(preset, torch.float64).eval().to(device)
    positions, charges = (t.to(device) for t in molecules(model, 2, 5))
    charges[1, 4] = 0  # one padding atom
    energy, forces = model.energy_and_forces(positions, charges)
    assert energy.shape == (2,) and forces.shape == (2, 5, 3)
    step = 1e-5
    numerical = torch.zeros_like(forces)
    with torch.no_grad():
        for atom in range(5):
            for axis in range(3):
                shift = torch.zeros_like(positions)
                shift[:, atom, axis] = step
                numerical[:, atom, axis] = -(model(positions + shift, charges) - model(positions - shift, charges)) / (
                    2 * step
                )
    scale = float(forces.abs().max())
    assert scale > 1e-6  # a real check, not zeros compared with zeros
    assert torch.allclose(forces, numerical, rtol=1e-6, atol=1e-7 * scale)
    assert torch.all(forces[charges == 0] == 0)


def test_forces_are_finite_at_self_pairs_padding_and_coinciding_padding(dtype):
    model = seeded_model("qm9", dtype).eval()
    positions, charges = molecules(model, 2, 6, min_atoms=4, dtype=dtype)
    charges[0, 4:] = 0
    positions[0, 4:] = positions[0, 0]  # padding atoms on top of a real atom and of each other
    energy, forces = model.energy_and_forces(positions, charges)
    assert torch.isfinite(energy).all() and torch.isfinite(forces).all()
    assert forces[0, 4:].abs().max() == 0
    assert not forces.requires_grad  # in eval mode no graph is kept
    model.train()
    assert model.energy_and_forces(positions, charges)[1].requires_grad  # in training the forces' graph is kept


# --- stability --------------------------------------------------------------------------------------------------------
def close_contact_batch(model):
    """The issue's test: 32 molecules of 18 atoms uniform in a 4 Å box, plus contacts at 0.1 Å and 0.01 Å."""
    generator = torch.Generator().manual_seed(0)
    positions = 4 * torch.rand(32, 18, 3, generator=generator)
    positions[0, 1] = positions[0, 0] + torch.tensor([0.1, 0.0, 0.0])
    positions[1, 1] = positions[1, 0] + torch.tensor([0.0, 0.01, 0.0])
    species = torch.tensor(model.species)
    return positions, species[torch.randint(0, len(species), (32, 18), generator=generator)]


@pytest.mark.parametrize("preset", PRESETS)
def test_close_contacts_stay_finite_in_float32(preset):
    model = seeded_model(preset, torch.float32)
    positions, charges = close_contact_batch(model)
    with torch.no_grad():
        levels = model.compute_levels(positions, charges)
    scales = [level.normalize.scale for level in model.cormorant_cg.atom_levels]
    assert len(scales) == len(levels.atoms)
    for level, scale in zip(levels.atoms, scales, strict=True):  # the normalization keeps each |F_c|² below κ² τ_l
        assert all((part.pow(2).sum(-1) < scale**2 * part.shape[-2]).all() for part in level.parts)
    energy, forces = model.energy_and_forces(positions, charges)
    assert torch.isfinite(energy).all() and torch.isfinite(forces).all()


def test_without_normalization_the_references_blow_up_returns():
    """What the normalization prevents (and why the stability test above can fail): growth ~10^3, 10^7, 10^21."""
    model = seeded_model("qm9", torch.float32, normalization="none")
    positions, charges = close_contact_batch(model)
    with torch.no_grad():
        outputs = model(positions, charges)
    assert not torch.isfinite(outputs).all()


# --- interface ----------------------------------------------------------------------------------------------------------
def test_presets_have_the_references_defaults():
    qm9, md17 = Cormorant.from_preset("qm9"), Cormorant.from_preset("md17")
    for model, levels_and_channels in ((qm9, [4, 10]), (md17, [3, 16])):  # md17: three levels of 16 (the preset's)
        config = model.config
        values = [config[key] for key in ("num_cg_levels", "maxl", "max_sh", "num_channels", "charge_power")]
        assert values == [levels_and_channels[0], 3, 3, levels_and_channels[1], 2]
        assert (
            config["cutoff_type"] == ["learn"] and len(list(model.cormorant_cg.edge_levels[0].cutoff.parameters())) == 2
        )
    assert qm9.species == [1, 6, 7, 8, 9] and qm9.config["input"] == "mpnn" and qm9.config["top"] == "pmlp"
    assert md17.config["input"] == "linear" and md17.config["top"] == "linear"
    with pytest.raises(ValueError, match="preset"):
        Cormorant.from_preset("qm7")


def test_config_rebuilds_the_model_and_the_state_dict_restores_it():
    model = seeded_model("qm9", num_targets=2, num_channels=[6, 6, 5, 4, 4], maxl=[2, 3])
    model.target_mean.fill_(1.5)
    config = json.loads(json.dumps(model.config))
    rebuilt = Cormorant(**config)
    rebuilt.load_state_dict(model.state_dict())
    positions, charges = molecules(model, 2, 6, dtype=torch.float32)
    assert torch.equal(rebuilt(positions, charges), model(positions, charges))
    assert model(positions, charges).shape == (2, 2)


def test_target_scaling_and_species_reference_hooks():
    model = seeded_model("md17", torch.float64)
    positions, charges = molecules(model, 2, 5)
    raw = model(positions, charges)
    model.target_std.fill_(2.0)
    model.target_mean.fill_(-1.0)
    model.species_reference[:, 0] = torch.tensor([10.0, 20.0, 30.0, 40.0])  # H, C, N, O
    counts = torch.stack([(charges == z).sum(1) for z in model.species], dim=1).double()
    expected = 2 * raw - 1 + counts @ torch.tensor([10.0, 20.0, 30.0, 40.0], dtype=torch.float64)
    assert torch.allclose(model(positions, charges), expected)


def test_double_precision_by_preset_or_by_to():
    positions, charges = molecules(Cormorant.from_preset("md17"), 1, 4)
    assert Cormorant.from_preset("md17", dtype=torch.float64)(positions, charges).dtype == torch.float64
    assert Cormorant.from_preset("md17").to(torch.float64)(positions, charges).dtype == torch.float64


def test_unknown_species_and_bad_inputs_raise_clear_errors():
    model = Cormorant.from_preset("qm9")
    positions, charges = molecules(model, 2, 5, dtype=torch.float32)
    charges[1, 3] = 17
    with pytest.raises(ValueError, match=r"charge 17 at \(molecule 1, atom 3\)"):
        model(positions, charges)
    with pytest.raises(ValueError, match="integer"):
        model(positions, charges.float())
    with pytest.raises(ValueError, match="shape"):
        model(positions[..., :2], charges)
    with pytest.raises(ValueError, match="one target"):
        Cormorant.from_preset("qm9", num_targets=3).energy_and_forces(positions, charges.clamp(max=9))


def test_levels_are_named_and_shaped_for_the_checker():
    model = Cormorant.from_preset("md17")
    positions, charges = molecules(model, 2, 5, dtype=torch.float32)
    levels = model.levels(positions, charges)
    assert list(levels) == ["input", "edge_1", "atom_1", "edge_2", "atom_2", "edge_3", "atom_3"]  # three levels
    assert levels["input"].batch_shape == (2, 5) and levels["input"].maxl == 0
    assert levels["edge_2"].batch_shape == (2, 5, 5) and levels["atom_3"].channels == (16, 16, 16, 16)


def test_a_training_step_keeps_little_for_the_backward_pass():
    """With the recomputation the levels keep g, Y and F, not G = gY, the CG bracket or the edge inputs.

    The qm9 preset kept 2.9 MiB per 18-atom molecule before; now 0.7. The bound fails if any of them comes back.
    """
    model = seeded_model("qm9")
    model.recompute_in_backward = True
    positions, charges = molecules(model, 8, 18, dtype=torch.float32)
    saved = saved_activation_bytes(lambda: model(positions, charges).square().sum(), ignore=model.parameters())
    assert saved / 8 < 1.0 * 2**20


def test_saved_activation_bytes_counts_each_storage_once():
    x = torch.randn(1000, requires_grad=True)
    assert saved_activation_bytes(lambda: (x.exp() * x.exp()).sum(), ignore=[x]) == 2 * 4000  # two exp outputs
    assert saved_activation_bytes(lambda: (x * x).sum()) == 4000  # x twice, one storage


def test_recomputing_in_the_backward_pass_changes_no_gradient(device):
    model = seeded_model("qm9", torch.float64).to(device)
    positions, charges = (t.to(device) for t in molecules(model, 3, 7))
    gradients = []
    for recompute in (True, False):
        model.recompute_in_backward = recompute
        model.zero_grad(set_to_none=True)
        model(positions, charges).square().sum().backward()
        gradients.append([p.grad.clone() for p in model.parameters()])
    for lean, plain in zip(*gradients, strict=False):
        assert torch.allclose(lean, plain, rtol=1e-11, atol=1e-14)
    # ... and the default keeps the activations (faster), the recomputation keeps less
    saved = {}
    for recompute in (None, False, True):
        model.recompute_in_backward = recompute
        saved[recompute] = saved_activation_bytes(lambda: model(positions, charges).sum(), ignore=model.parameters())
    assert saved[None] == saved[False] > saved[True]
