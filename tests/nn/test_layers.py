"""The building blocks of the network, one by one: covariance, masking, values, gradients."""

import math

import pytest
import torch

from cormorant_lab.nn import (
    AtomLevel,
    CovariantNormalization,
    EdgeLevel,
    RadialPolyTrig,
    SeparableEdges,
    SO3Linear,
    SoftCutoff,
    edge_activations,
    edge_geometry,
    pair_dot_products,
    pair_dot_products_plain,
    soft_normalize,
    species_features,
)
from cormorant_lab.nn._edge_level import degree_mask
from cormorant_lab.so3 import SO3Vec, cg_aggregate, cg_product, random_rotation, spherical_harmonics_all


def random_vec(batch_shape, channels, maxl, generator, dtype):
    return SO3Vec(
        [
            torch.randn(*batch_shape, c, 2 * l + 1, generator=generator, dtype=dtype)
            for l, c in zip(range(maxl + 1), channels, strict=False)
        ]
    )


def relative_error(a: SO3Vec, b: SO3Vec) -> float:
    return max(float((x - y).detach().norm() / y.detach().norm()) for x, y in zip(a.parts, b.parts, strict=False))


def geometry_of(positions, charges, max_sh=3):
    return edge_geometry(positions, charges != 0, max_sh)


# --- mixing -----------------------------------------------------------------------------------------------------
def test_mixing_commutes_with_rotations(dtype, tolerance, generator):
    mix = SO3Linear((4, 6, 5), (3, 2, 7)).to(dtype)
    vec = random_vec((2, 5), (4, 6, 5), 2, generator, dtype)
    rotation = random_rotation(generator=generator, dtype=dtype)
    assert relative_error(mix(vec.rotate(rotation)), mix(vec).rotate(rotation)) <= 10 * tolerance
    assert mix(vec).channels == (3, 2, 7)


def test_mixing_concatenates_its_inputs_and_checks_channels(generator):
    mix = SO3Linear((5, 5), 2)
    a, b = random_vec((3,), (2, 2), 1, generator, torch.float32), random_vec((3,), (3, 3), 1, generator, torch.float32)
    assert torch.allclose(mix(a, b).parts[1], mix(SO3Vec.cat([a, b])).parts[1])
    with pytest.raises(ValueError, match="channels"):
        mix(a)


def test_mixing_init_is_the_references_uniform_gain_over_max_channels():
    weight = SO3Linear((200,), 10, gain=10.0).weights[0]
    assert weight.abs().max() <= 10.0 / 200
    assert weight.abs().max() > 0.9 * 10.0 / 200  # uniform on (-gain/200, gain/200), 2000 draws


# --- normalization ----------------------------------------------------------------------------------------------
def test_normalization_is_covariant_bounded_and_near_identity_for_small_inputs(dtype, tolerance, generator):
    normalize = CovariantNormalization()
    big = random_vec((4,), (6, 6, 6), 2, generator, dtype) * 30
    rotation = random_rotation(generator=generator, dtype=dtype)
    assert relative_error(normalize(big.rotate(rotation)), normalize(big).rotate(rotation)) <= 10 * tolerance
    for part in normalize(big).parts:  # the mean squared channel norm becomes q / (1 + q) < 1
        assert (part.pow(2).sum((-2, -1)) / part.shape[-2]).max() < 1
    small = random_vec((4,), (6, 6, 6), 2, generator, dtype) * 1e-4
    assert relative_error(normalize(small), small) < 1e-7
    assert all(torch.equal(p, q) for p, q in zip(CovariantNormalization("none")(big).parts, big.parts, strict=False))


def test_normalization_maps_zero_to_zero_with_finite_gradient():
    zero = torch.zeros(3, 4, 5, requires_grad=True)
    out = soft_normalize(zero)
    out.sum().backward()
    assert torch.equal(out, torch.zeros_like(out)) and torch.isfinite(zero.grad).all()
    with pytest.raises(ValueError, match="normalization"):
        CovariantNormalization("layer")


# --- geometry, radial functions, cutoff ---------------------------------------------------------------------------
def test_geometry_harmonics_are_those_of_the_pair_directions(generator):
    """Y_l(r̂_ij) on neighbour pairs (against ``spherical_harmonics_all`` of the raw vectors), only Y_0 elsewhere
    (i = j and padding, wherever the padding atoms sit), with finite first and second derivatives."""
    positions = torch.randn(2, 5, 3, generator=generator, dtype=torch.float64)
    positions[1, 4] = positions[1, 2]  # a padding atom on top of a real one
    charges = torch.tensor([[6, 1, 8, 1, 1], [6, 6, 1, 0, 0]])
    geometry = geometry_of(positions, charges)
    relative = positions.unsqueeze(-2) - positions.unsqueeze(-3)
    expected = spherical_harmonics_all(3, relative)
    neighbours = geometry.neighbour_mask
    for l, (got, want) in enumerate(zip(geometry.harmonics, expected, strict=True)):
        assert torch.allclose(got[neighbours], want[neighbours], rtol=1e-13, atol=1e-14)
        off = got[~neighbours]
        assert torch.all(off == (1 / math.sqrt(4 * math.pi) if l == 0 else 0.0))
    positions.requires_grad_(True)
    harmonics = geometry_of(positions, charges).harmonics
    (first,) = torch.autograd.grad(sum((y * y.detach()).sum() for y in harmonics), positions, create_graph=True)
    (second,) = torch.autograd.grad(first.square().sum(), positions)
    assert torch.isfinite(first).all() and torch.isfinite(second).all()
    assert first[1, :3].abs().max() > 0 and first[1, 3:].abs().max() == 0  # padding: no gradient


def test_geometry_masks_and_distances():
    positions = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0], [0.0, 0, 0]]], dtype=torch.float64)
    charges = torch.tensor([[6, 1, 0]])
    geometry = geometry_of(positions, charges)
    assert geometry.pair_mask.tolist() == [[[True, True, False], [True, True, False], [False, False, False]]]
    assert geometry.neighbour_mask.tolist() == [[[False, True, False], [True, False, False], [False, False, False]]]
    assert geometry.distances[0, 0, 1] == 1.0 and geometry.distances[0, 0, 0] == 0.0
    y1 = geometry.harmonics[1][0, 1, 0]  # direction r_1 - r_0 = +x: real l = 1 harmonics are sqrt(3/4pi) (y, z, x)
    assert torch.allclose(y1, math.sqrt(3 / (4 * math.pi)) * torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))


def test_radial_functions_match_the_formula_and_vanish_off_neighbours():
    radial = RadialPolyTrig((3, 3)).double()
    assert radial.num_functions == 32
    positions = torch.tensor([[[0.0, 0, 0], [0.0, 0.7, 0], [5.0, 5, 5]]], dtype=torch.float64)
    charges = torch.tensor([[6, 1, 0]])
    values = radial(geometry_of(positions, charges))  # (1, 32, 3, 3), index t * 4 + k
    r = 0.7
    expected = []
    for t in range(8):
        frequency, phase = t % 4, (math.pi / 2 if t >= 4 or t == 0 else 0.0)
        expected += [math.sin(2 * math.pi * frequency * r + phase) * r**-k for k in range(4)]
    assert torch.allclose(values[0, :, 0, 1], torch.tensor(expected, dtype=torch.float64), atol=1e-12)
    assert values[0, :, 0, 0].abs().max() == 0 and values[0, :, 0, 2].abs().max() == 0


def test_radial_gradients_are_finite_at_self_and_padding_pairs():
    radial = RadialPolyTrig((3, 3)).double()
    positions = torch.tensor(
        [[[0.0, 0, 0], [0.0, 0.9, 0], [0.0, 0, 0], [0.0, 0, 0]]], dtype=torch.float64, requires_grad=True
    )
    charges = torch.tensor([[8, 1, 0, 0]])  # padding atoms on top of a real atom and of each other
    radial(geometry_of(positions, charges)).sum().backward()
    assert torch.isfinite(positions.grad).all() and positions.grad[0, 2:].abs().max() == 0
    assert torch.isfinite(radial.frequencies.grad).all() and torch.isfinite(radial.phases.grad).all()


def test_soft_cutoff_values_masks_and_learnable_parameters():
    positions = torch.tensor([[[0.0, 0, 0], [1.73, 0, 0], [3.0, 0, 0], [0.0, 0, 0]]], dtype=torch.float64)
    charges = torch.tensor([[6, 6, 6, 0]])
    geometry = geometry_of(positions, charges)
    soft = SoftCutoff(3).double()
    mask = soft(geometry)  # (1, 3, 4, 4)
    assert torch.allclose(mask[0, :, 0, 1], torch.full((3,), 0.5, dtype=torch.float64))  # sigmoid(0) at the radius
    assert mask[0, :, 0, 3].abs().max() == 0  # padding
    assert {name for name, _ in soft.named_parameters()} == {"radius", "width"}
    hard = SoftCutoff(3, cutoff_type=("soft", "hard"), hard_cut_rad=2.0).double()
    assert not list(hard.parameters())
    assert hard(geometry)[0, 0, 0, 2] == 0 and hard(geometry)[0, 0, 0, 1] > 0
    with pytest.raises(ValueError, match="cutoff_type"):
        SoftCutoff(3, cutoff_type=("smooth",))


def test_species_features_are_one_hot_times_charge_powers():
    charges = torch.tensor([[6, 1, 0]])
    features = species_features(charges, torch.tensor([1, 6]), 2, 6.0, torch.float64)
    assert features.tolist() == [[[0, 0, 0, 1, 1, 1], [1, 1 / 6, 1 / 36, 0, 0, 0], [0, 0, 0, 0, 0, 0]]]


# --- edge and atom levels -----------------------------------------------------------------------------------------
def test_pair_dot_products_are_the_real_basis_dot_products(dtype, tolerance, generator):
    atoms = random_vec((2, 5), (3, 3), 1, generator, dtype)
    dots = pair_dot_products(atoms)  # (2, 6, 5, 5)
    expected = torch.einsum("bicm,bjcm->bcij", atoms.parts[1], atoms.parts[1])
    assert torch.allclose(dots[:, 3:], expected, atol=10 * tolerance)
    rotated = pair_dot_products(atoms.rotate(random_rotation(generator=generator, dtype=dtype)))
    assert float((rotated - dots).norm() / dots.norm()) <= 10 * tolerance


def test_edge_activations_turn_with_the_wigner_matrices(dtype, tolerance, generator):
    positions = torch.randn(2, 6, 3, generator=generator, dtype=dtype)
    charges = torch.tensor([[1, 6, 7, 8, 9, 1], [6, 6, 1, 1, 0, 0]])
    scalars = [torch.randn(2, 4, 6, 6, generator=generator, dtype=dtype) for _ in range(4)]
    rotation = random_rotation(generator=generator, dtype=dtype)
    edges = edge_activations(scalars, geometry_of(positions, charges))
    rotated = edge_activations(scalars, geometry_of(positions @ rotation.T, charges))
    assert edges.batch_shape == (2, 6, 6) and edges.channels == (4, 4, 4, 4)
    assert relative_error(rotated, edges.rotate(rotation)) <= 10 * tolerance


@pytest.mark.parametrize("atom_maxl", [0, 2])
def test_atom_level_is_covariant(atom_maxl, dtype, tolerance, generator):
    level = AtomLevel((5,) * (atom_maxl + 1), max_sh=3, maxl=3, channels_out=4).to(dtype)
    atoms = random_vec((2, 6), (5,) * (atom_maxl + 1), atom_maxl, generator, dtype)
    edges = random_vec((2, 6, 6), (5,) * 4, 3, generator, dtype)
    rotation = random_rotation(generator=generator, dtype=dtype)
    out = level(atoms, edges)
    assert out.channels == (4, 4, 4, 4)
    assert (
        relative_error(level(atoms.rotate(rotation), edges.rotate(rotation)), out.rotate(rotation)) <= 100 * tolerance
    )


def test_atom_level_drops_degrees_nothing_reaches(generator):
    level = AtomLevel((5,), max_sh=1, maxl=3, channels_out=4)
    assert level.maxl == 1 and level.channels_out == (4, 4)


# --- the lean forms of the levels equal their textbook forms, gradients included ------------------------------
def _textbook_atom_level(level: AtomLevel, atoms: SO3Vec, edges: SO3Vec) -> SO3Vec:
    """N(W [F ⊕ F⊗F ⊕ ΣG⊗F]) with the full square and plain autograd: what the level must equal."""
    bracket = (atoms.truncate(level.maxl), cg_product(atoms, atoms, level.maxl), cg_aggregate(edges, atoms, level.maxl))
    return level.normalize(level.mix(*bracket))


def _separable_edges(generator, batch=2, atoms=5, channels=4, max_sh=3):
    positions = torch.randn(batch, atoms, 3, generator=generator, dtype=torch.float64)
    geometry = geometry_of(positions, torch.ones(batch, atoms, dtype=torch.long), max_sh)
    scalars = [
        torch.randn(batch, channels, atoms, atoms, generator=generator, dtype=torch.float64) for _ in range(max_sh + 1)
    ]
    return SeparableEdges.of(scalars, geometry)


@pytest.mark.parametrize("atom_maxl, multiplier", [(0, 1.0), (3, 1.0), (0, 3.0), (3, 3.0)])
def test_atom_level_equals_its_textbook_form_with_gradients(atom_maxl, multiplier, generator, device):
    level = AtomLevel((4,) * (atom_maxl + 1), max_sh=3, maxl=3, channels_out=3, gain=1.0, weight_multiplier=multiplier)
    level = level.to(torch.float64).to(device)
    atoms = random_vec((2, 5), (4,) * (atom_maxl + 1), atom_maxl, generator, torch.float64).to(device)
    edges = _separable_edges(generator)
    edges = SeparableEdges(tuple(g.to(device) for g in edges.scalars), tuple(y.to(device) for y in edges.harmonics))
    leaves = [p.requires_grad_(True) for p in (*atoms.parts, *edges.scalars)]
    outputs, gradients = [], []
    for form in ("lean", "textbook"):
        out = level(atoms, edges) if form == "lean" else _textbook_atom_level(level, atoms, edges.materialize())
        loss = sum(
            (part * torch.linspace(-1, 1, part.numel(), dtype=part.dtype).view_as(part)).sum() ** 2 for part in out
        )
        outputs.append(out)
        gradients.append(torch.autograd.grad(loss, [*leaves, *level.parameters()]))
    assert relative_error(outputs[0], outputs[1]) <= 1e-13
    for lean, textbook in zip(*gradients, strict=False):
        assert torch.allclose(lean, textbook, rtol=1e-11, atol=1e-13)


def test_atom_level_second_derivatives(generator):
    level = AtomLevel((2, 2), max_sh=2, maxl=2, channels_out=2, gain=1.0).to(torch.float64)
    atoms = random_vec((1, 3), (2, 2), 1, generator, torch.float64)
    edges = _separable_edges(generator, batch=1, atoms=3, channels=2, max_sh=2)
    inputs = tuple(t.detach().requires_grad_(True) for t in (*atoms.parts, *edges.scalars))

    def loss(*tensors):
        out = level(SO3Vec(list(tensors[:2])), SeparableEdges(tensors[2:], edges.harmonics))
        return sum(part.pow(2).sum() for part in out)

    assert torch.autograd.gradgradcheck(loss, inputs)


def test_edge_level_gradients_first_and_second(generator):
    level = EdgeLevel((2, 2), (2, 2), channels=2, max_sh=1, basis_set=(1, 1)).to(torch.float64)
    positions = torch.randn(1, 3, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    charges = torch.tensor([[1, 6, 8]])
    parts = tuple(
        torch.randn(1, 3, 2, 2 * l + 1, generator=generator, dtype=torch.float64, requires_grad=True) for l in range(2)
    )
    previous = tuple(
        torch.randn(1, 2, 3, 3, generator=generator, dtype=torch.float64, requires_grad=True) for _ in range(2)
    )
    params = tuple(level.parameters())

    def loss(positions, *tensors):
        geometry = geometry_of(positions, charges, max_sh=1)
        out = level(SO3Vec(list(tensors[:2])), tensors[2:4], geometry)
        return sum((g * g.detach().sign()).sum() ** 2 for g in out)  # depends on every output, nonlinearly

    inputs = (positions, *parts, *previous)
    assert torch.autograd.gradcheck(loss, inputs)
    assert torch.autograd.gradgradcheck(loss, inputs)
    # The weights, radial and cutoff parameters: gradcheck perturbs these very tensors, which the loss reads.
    assert torch.autograd.gradcheck(lambda *_: loss(*inputs), params)


def test_pair_dot_products_equal_their_plain_form_with_gradients(generator):
    """One padded matrix product over every degree = the per-degree products: values, first and second derivatives."""
    atoms = random_vec((2, 5), (3, 3, 3), 2, generator, torch.float64)
    inputs = tuple(p.detach().requires_grad_(True) for p in atoms.parts)
    weight = torch.randn(2, 9, 5, 5, generator=generator, dtype=torch.float64)
    results = []
    stacked_input = torch.cat(inputs, dim=-1).detach().requires_grad_(True)  # a vector made stacked: no copy
    forms = {
        "padded": lambda parts: pair_dot_products(SO3Vec(list(parts))),
        "masked": lambda parts: pair_dot_products(SO3Vec(list(parts)), mask=degree_mask(2).to(torch.float64)),
        "masked, stacked": lambda parts: pair_dot_products(
            SO3Vec.from_stacked(stacked_input), mask=degree_mask(2).to(torch.float64)
        ),
        "plain": lambda parts: pair_dot_products_plain(SO3Vec(list(parts))),
    }
    for name, form in forms.items():
        if name == "masked, stacked":  # the same values, differentiated through the stacked tensor
            dots = form(inputs)
            (grad,) = torch.autograd.grad((weight * dots).pow(2).sum(), stacked_input, create_graph=True)
            (second,) = torch.autograd.grad(grad.pow(2).sum(), stacked_input)
            splits = [2 * l + 1 for l in range(3)]
            results.append((dots.detach(), *grad.detach().split(splits, -1), *second.split(splits, -1)))
            continue
        dots = form(inputs)
        grads = torch.autograd.grad((weight * dots).pow(2).sum(), inputs, create_graph=True)
        second = torch.autograd.grad(sum(g.pow(2).sum() for g in grads), inputs)
        results.append((dots.detach(), *grads, *second))
    for lean in results[:-1]:
        for a, b in zip(lean, results[-1], strict=True):
            assert torch.allclose(a, b, rtol=1e-13, atol=1e-13)
