"""Constructor options behind the per-epoch ablations (issue 11, item 5; ``benchmarks/learning_per_epoch.py``).

Each option is checked against an independent computation of what its docstring states, and the ones that change
the forward function keep the network's symmetry (shipped checker, float64) and its float32 safety.
"""

from __future__ import annotations

import math

import pytest
import torch

from cormorant_lab.checks import check_covariance, random_molecules
from cormorant_lab.nn import Cormorant, CovariantNormalization, RadialPolyTrig, soft_normalize
from cormorant_lab.so3 import spherical_harmonics_all

# The options are measured against four levels and unscaled blocks (the md17 preset before 2026-12-07), so that each
# option's factors apply to plain weights and per-level lists have four or five entries.
BASE = {"num_cg_levels": 4, "block_gain": [1.0, 1.0, 1.0]}


def seeded(**overrides) -> Cormorant:
    torch.manual_seed(0)
    return Cormorant.from_preset("md17", dtype=torch.float64, **{**BASE, **overrides})


def molecules(model, batch=2, atoms=7):
    generator = torch.Generator().manual_seed(3)
    return random_molecules(batch, atoms, species=model.species, min_atoms=5, generator=generator, dtype=torch.float64)


def test_soft_normalize_with_scale_and_epsilon_is_the_stated_formula_and_is_bounded():
    generator = torch.Generator().manual_seed(0)
    part = 5 * torch.randn(4, 3, 6, 5, generator=generator, dtype=torch.float64)  # (..., channels, 2l+1)
    for kappa, eps in [(1.0, 1.0), (0.5, 1.0), (3.0, 1.0), (1.0, 0.25), (2.0, 4.0)]:
        out = soft_normalize(part, kappa, eps)
        for index in [(0, 0), (3, 2), (1, 1)]:  # one atom's degree, computed element by element
            block = part[index]
            q = sum(float(block[c].dot(block[c])) for c in range(block.shape[0])) / block.shape[0] / kappa**2
            torch.testing.assert_close(out[index], block / (eps + q) ** 0.5, rtol=1e-13, atol=0)
        q_out = out.pow(2).sum((-2, -1)) / out.shape[-2]
        assert bool((q_out < kappa**2).all())  # q/(ε + q/κ²) < κ²: the cap that keeps float32 finite
    torch.testing.assert_close(soft_normalize(part), soft_normalize(part, 1.0, 1.0), rtol=0, atol=0)


@pytest.mark.parametrize("bad", [{"scale": 0.0}, {"scale": -1.0}, {"epsilon": 0.0}, {"epsilon": float("nan")}])
def test_bad_normalization_parameters_are_named(bad):
    with pytest.raises(ValueError, match="normalization_(scale|epsilon)"):
        CovariantNormalization("soft", **bad)


def test_block_gain_scales_the_three_column_blocks_of_each_levels_mixing():
    plain, scaled = seeded(), seeded(block_gain=[2.0, 0.25, 0.5])
    for level, other in zip(plain.cormorant_cg.atom_levels, scaled.cormorant_cg.atom_levels, strict=True):
        in_degrees = len(level.atom_channels)
        for l, (w, v) in enumerate(zip(level.mix.weights, other.mix.weights, strict=True)):
            own = level.atom_channels[l] if l < in_degrees else 0
            square = level._square_columns[l][1] if level._square_columns[l] is not None else 0
            expected = torch.cat([2.0 * w[:, :own], 0.25 * w[:, own : own + square], 0.5 * w[:, own + square :]], 1)
            torch.testing.assert_close(v, expected, rtol=0, atol=0)
            assert w.shape[1] - own - square > 0  # the aggregate block is never empty
    with pytest.raises(ValueError, match="block_gain"):
        seeded(block_gain=[1.0, 0.5])


def test_head_level_gain_scales_each_levels_invariants_in_the_head():
    plain, scaled = seeded(), seeded(head_level_gain=[1.0, 0.5, 0.25, 0.125])
    widths = [c[0] + sum(c) for c in plain.cormorant_cg.channels]  # l = 0 values and squared norms per level
    gains = torch.cat(
        [torch.full((w,), g, dtype=torch.float64) for w, g in zip(widths, [1, 0.5, 0.25, 0.125], strict=True)]
    )
    torch.testing.assert_close(scaled.head.linear.weight, plain.head.linear.weight * gains, rtol=0, atol=0)
    with pytest.raises(ValueError, match="head_level_gain"):
        seeded(head_level_gain=[1.0] * 5)


def test_solid_harmonics_are_r_to_the_l_times_y_and_keep_the_symmetry():
    model = seeded(solid_harmonics=True)
    positions, charges = molecules(model)
    seen = {}
    original = model.cormorant_cg.forward

    def spy(inputs, geometry, **kwargs):
        seen["geometry"] = geometry
        return original(inputs, geometry, **kwargs)

    model.cormorant_cg.forward = spy
    model(positions, charges)
    relative = positions.unsqueeze(-2) - positions.unsqueeze(-3)
    r = relative.norm(dim=-1, keepdim=True)
    for l, (y, got) in enumerate(zip(spherical_harmonics_all(3, relative), seen["geometry"].harmonics, strict=True)):
        real = (charges != 0).unsqueeze(-1) & (charges != 0).unsqueeze(-2)
        if l:
            torch.testing.assert_close(got[real], (r**l * y)[real], rtol=1e-12, atol=1e-14)
    del model.cormorant_cg.forward
    report = check_covariance(model, positions, charges, n_rotations=1)
    assert report.passed(1e-10), report.summary()


def test_radial_frequency_scale_starts_every_radial_basis_at_n_times_s():
    """``radial_frequency_scale`` s: the PolyTrig functions start as sin(2π n s r + φ) r^−k, in every level and input."""
    from cormorant_lab.nn._geometry import edge_geometry

    scale = 0.8
    model = Cormorant.from_preset("qm9", dtype=torch.float64, basis_set=[3, 2], radial_frequency_scale=scale)
    radials = [m for m in model.modules() if isinstance(m, RadialPolyTrig)]
    assert len(radials) == 1 + len(model.cormorant_cg.edge_levels)  # the MPNN input's and every edge level's
    expected_frequencies = torch.tensor([0.0, 0.8, 1.6, 2.4] * 2, dtype=torch.float64)
    for radial in radials:  # made in the default dtype (float32), then converted
        torch.testing.assert_close(radial.frequencies.detach(), expected_frequencies, rtol=1e-7, atol=0)
    positions, charges = molecules(model)
    geometry = edge_geometry(positions, charges != 0, 3)
    with torch.no_grad():
        got = radials[1](geometry)  # (B, 2·4·3, N, N), index t·K + k
    b, i, j = 1, 0, 2
    r = float((positions[b, i] - positions[b, j]).norm())
    phases = radials[1].phases.tolist()  # π/2, 0, 0, 0 (sines; the constant a cosine), then π/2 (cosines)
    torch.testing.assert_close(torch.tensor(phases), torch.tensor([math.pi / 2, 0.0, 0.0, 0.0] + [math.pi / 2] * 4))
    for t, (a, phase) in enumerate(zip(radials[1].frequencies.tolist(), phases, strict=True)):
        for k in range(3):
            value = math.sin(2 * math.pi * a * r + phase) * r**-k
            assert abs(float(got[b, 3 * t + k, i, j]) - value) <= 1e-13 * max(1.0, abs(value))
    md17 = Cormorant.from_preset("md17").cormorant_cg.edge_levels[0].radial  # the preset's smoother functions
    torch.testing.assert_close(md17.frequencies.detach(), 0.8 * torch.tensor([0.0, 1.0, 2.0, 3.0] * 2))
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="frequency_scale"):
            seeded(radial_frequency_scale=bad)


def test_the_options_keep_close_contacts_finite_in_float32():
    torch.manual_seed(0)
    model = Cormorant.from_preset("md17", normalization_scale=0.5, block_gain=[1, 0.2, 1], solid_harmonics=True)
    generator = torch.Generator().manual_seed(0)
    positions = 4 * torch.rand(8, 12, 3, generator=generator)
    positions[0, 1] = positions[0, 0] + torch.tensor([0.01, 0.0, 0.0])
    charges = torch.tensor(model.species)[torch.randint(0, 4, (8, 12), generator=generator)]
    energy, forces = model.energy_and_forces(positions, charges)
    assert torch.isfinite(energy).all() and torch.isfinite(forces).all()


def test_normalization_scale_per_level_reaches_the_input_and_each_level():
    model = seeded(normalization_scale=[1.0, 0.9, 0.8, 0.7, 0.6], normalization_epsilon=0.5)
    modules = [model.input_normalization] + [level.normalize for level in model.cormorant_cg.atom_levels]
    assert [m.scale for m in modules] == [1.0, 0.9, 0.8, 0.7, 0.6] and {m.epsilon for m in modules} == {0.5}
    assert [
        m.scale for m in [seeded(normalization_scale=[1.0, 0.5]).cormorant_cg.atom_levels[i].normalize for i in (0, 3)]
    ] == [0.5, 0.5]
    with pytest.raises(ValueError, match="normalization_scale"):
        seeded(normalization_scale=[1.0] * 6)


def test_the_benchmarks_parameter_scaling_multiplies_exactly_the_named_parameters_and_rejects_unknown_names():
    """``learning_per_epoch.py --scale``: the ablations of the initial scale of one group of weights."""
    benchmark = _learning_per_epoch()
    before = dict(seeded().named_parameters())
    after = dict(
        benchmark.scale_parameters(seeded(), {"head.linear.weight": 0.0, "mix.weights": 0.5}).named_parameters()
    )
    for name, value in after.items():
        factor = 0.0 if "head.linear.weight" in name else 0.5 if "mix.weights" in name else 1.0
        torch.testing.assert_close(value, before[name] * factor, rtol=0, atol=0)
    assert any("mix.weights" in name for name in after)
    with pytest.raises(SystemExit, match="match no parameter"):
        benchmark.scale_parameters(seeded(), {"head.linaer": 0.0})


def _learning_per_epoch():
    """``benchmarks/learning_per_epoch.py`` as a module (the benchmarks are scripts, not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_per_epoch.py"
    spec = importlib.util.spec_from_file_location("learning_per_epoch", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark


def _level_weights(model: Cormorant) -> dict[str, torch.Tensor]:
    """The weight matrices of the atom and edge levels (the ones ``weight_multiplier`` reparametrizes)."""
    return {
        name: value
        for name, value in model.named_parameters()
        if name.startswith("cormorant_cg.") and (".mix.weights." in name or ".shared" in name or ".previous." in name)
    }


@pytest.mark.parametrize("multiplier", [2.0, 3.0])
def test_weight_multiplier_stores_w_over_c_and_computes_the_same_function(multiplier):
    plain, multiplied = seeded(weight_multiplier=1.0), seeded(weight_multiplier=multiplier)
    weights, stored = _level_weights(plain), _level_weights(multiplied)
    levels = len(plain.cormorant_cg.atom_levels)  # shared and four previous per edge level (none at the first), mixing
    assert len(weights) == levels * 5 - 4 + levels * 4 and stored.keys() == weights.keys()
    # V = W / C, drawn in float32 (the default dtype) before the cast: exact for a power of two, else rounded once
    exact = multiplier == 2.0
    for name, value in stored.items():
        torch.testing.assert_close(value * multiplier, weights[name], rtol=0 if exact else 1.2e-7, atol=0)
    for name, value in multiplied.named_parameters():  # everything else untouched
        if name not in stored:
            torch.testing.assert_close(value, dict(plain.named_parameters())[name], rtol=0, atol=0)
    with torch.no_grad():  # V = W / C in float64, so the comparison below sees only the reparametrization
        for name, value in stored.items():
            value.copy_(weights[name] / multiplier)
    positions, charges = molecules(plain)
    (e_plain, f_plain), (e_mult, f_mult) = (m.energy_and_forces(positions, charges) for m in (plain, multiplied))
    torch.testing.assert_close(e_mult, e_plain, rtol=0 if exact else 1e-13, atol=0)
    torch.testing.assert_close(f_mult, f_plain, rtol=0 if exact else 1e-11, atol=0 if exact else 1e-13)
    # dL/dV = C dL/dW: the chain rule through W = C·V
    grads = [
        torch.autograd.grad(m(positions, charges).sum(), list(_level_weights(m).values())) for m in (plain, multiplied)
    ]
    for g_plain, g_mult in zip(*grads, strict=True):
        torch.testing.assert_close(g_mult, multiplier * g_plain, rtol=1e-10, atol=1e-13)
    assert Cormorant(**multiplied.config).cormorant_cg.atom_levels[0].mix.multiplier == multiplier  # config round trip


def test_weight_multiplier_makes_adams_steps_c_times_larger_relative_to_w():
    """Adam's first step is ``lr·sign(g)`` per entry: on V, W = C·V then moves by ``C·lr`` (the option's purpose)."""
    moved = {}
    for multiplier in (1.0, 4.0):
        model = seeded(weight_multiplier=multiplier)
        positions, charges = molecules(model)
        before = {k: multiplier * v.detach().clone() for k, v in _level_weights(model).items()}
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-30)
        model(positions, charges).pow(2).sum().backward()
        optimizer.step()
        moved[multiplier] = {k: multiplier * v.detach() - before[k] for k, v in _level_weights(model).items()}
    for name, step in moved[4.0].items():
        nonzero = moved[1.0][name] != 0
        assert bool(nonzero.any())
        torch.testing.assert_close(step[nonzero], 4.0 * moved[1.0][name][nonzero], rtol=1e-6, atol=0)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), float("inf")])
def test_bad_weight_multiplier_is_named(bad):
    with pytest.raises(ValueError, match="multiplier"):
        seeded(weight_multiplier=bad)


def test_the_benchmarks_summary_counts_the_cells_where_the_default_preset_is_behind():
    """``learning_per_epoch.py --seeds``: item 5's criterion, cell by cell, from the rows ``train`` returns."""
    benchmark = _learning_per_epoch()
    results = {
        "reference": {0: [(1, 2.0, 1.0), (2, 1.5, 2.0)], 1: [(1, 2.4, 1.0), (2, 1.6, 2.0)]},
        "default": {0: [(1, 1.8, 0.5), (2, 1.5, 1.0)], 1: [(1, 2.5, 0.5), (2, 1.4, 1.0)]},
    }
    summary = benchmark.summarize(results).splitlines()
    assert summary[0] == "reference: mean test MAE after epochs [1, 2] over seeds [0, 1]: 2.200 / 1.550"
    assert summary[1] == "default: mean test MAE after epochs [1, 2] over seeds [0, 1]: 2.150 / 1.450"
    assert summary[2] == (
        "default at least as accurate as the reference mode in 3 of 4 (seed, epoch) cells; "
        "behind: seed 1 epoch 1 (2.500 > 2.400)"
    )
