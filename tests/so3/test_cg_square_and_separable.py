"""The distinct CG square and the separable neighbour aggregate: equal to the full forms, with exact gradients."""

import math

import pytest
import torch

from cormorant_lab.so3 import (
    SO3Vec,
    cg_aggregate,
    cg_aggregate_separable,
    cg_product,
    cg_square,
    cg_square_expansion,
    clebsch_gordan,
    random_rotation,
    spherical_harmonics_all,
)


def random_vec(batch, channels, maxl, generator, dtype=torch.float64):
    return SO3Vec([torch.randn(*batch, channels, 2 * l + 1, generator=generator, dtype=dtype) for l in range(maxl + 1)])


def relative_error(x: SO3Vec, y: SO3Vec) -> float:
    num = sum(float((a - b).pow(2).sum()) for a, b in zip(x, y, strict=False))
    return math.sqrt(num / sum(float(b.pow(2).sum()) for b in y))


@pytest.mark.parametrize("max_l, maxl", [(0, 0), (1, 2), (2, 4), (3, 3), (3, 6)])
@pytest.mark.parametrize("basis", ["real", "complex"])
def test_square_expands_to_the_full_product(max_l, maxl, basis, generator):
    a = random_vec((4, 2), 5, max_l, generator)
    if basis == "complex":
        a = SO3Vec([p + 1j * torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in a], basis="complex")
    full, distinct = cg_product(a, a, maxl), cg_square(a, maxl)
    expansion = cg_square_expansion(5, max_l, maxl)
    for f, e, d in zip(full, expansion, distinct, strict=True):
        assert torch.allclose(f, e.to(d.dtype) @ d, atol=1e-13)


def test_square_keeps_76_of_156_components_per_channel_at_l3(generator):
    a = random_vec((2,), 1, 3, generator)
    count = lambda vec: sum(c * (2 * l + 1) for l, c in enumerate(vec.channels))
    assert (count(cg_product(a, a, 3)), count(cg_square(a, 3))) == (156, 76)


@pytest.mark.parametrize("basis", ["real", "complex"])
def test_square_symmetry_signs_come_from_the_tables(basis):
    # The fold uses <l2 m2; l1 m1|l m> = (-1)^(l1+l2-l) <l1 m1; l2 m2|l m>; check it on the tables directly.
    for l1 in range(4):
        for l2 in range(4):
            for l in range(abs(l1 - l2), l1 + l2 + 1):
                swapped = clebsch_gordan(l2, l1, l, basis=basis).transpose(0, 1)
                assert torch.allclose(
                    swapped, (-1) ** (l1 + l2 - l) * clebsch_gordan(l1, l2, l, basis=basis), atol=1e-14
                )


def test_square_is_covariant(dtype, tolerance, generator):
    a = random_vec((3, 4), 5, 3, generator, dtype)
    rotation = random_rotation(generator=generator, dtype=dtype)
    assert relative_error(cg_square(a.rotate(rotation), 3), cg_square(a, 3).rotate(rotation)) <= tolerance


def separable_inputs(generator, batch=2, atoms=5, channels=3, max_sh=3, atom_maxl=2):
    vectors = torch.randn(batch, atoms, atoms, 3, generator=generator, dtype=torch.float64)
    harmonics = spherical_harmonics_all(max_sh, vectors)
    scalars = [
        torch.randn(batch, channels, atoms, atoms, generator=generator, dtype=torch.float64) for _ in range(max_sh + 1)
    ]
    return scalars, list(harmonics), random_vec((batch, atoms), channels, atom_maxl, generator)


def materialized(scalars, harmonics) -> SO3Vec:
    return SO3Vec([g.movedim(-3, -1).unsqueeze(-1) * y.unsqueeze(-2) for g, y in zip(scalars, harmonics, strict=False)])


@pytest.mark.parametrize("maxl", [1, 3, 5])
def test_separable_aggregate_equals_the_materialized_one(maxl, generator):
    scalars, harmonics, atoms = separable_inputs(generator)
    expected = cg_aggregate(materialized(scalars, harmonics), atoms, maxl)
    assert relative_error(cg_aggregate_separable(scalars, harmonics, atoms, maxl), expected) <= 1e-14


def test_separable_aggregate_first_and_second_derivatives(generator):
    scalars, harmonics, atoms = separable_inputs(generator, batch=1, atoms=4, channels=2, max_sh=3, atom_maxl=1)
    inputs = tuple(t.detach().requires_grad_(True) for t in (*scalars, *harmonics, *atoms.parts))

    def loss(*tensors):
        out = cg_aggregate_separable(tensors[:4], tensors[4:8], SO3Vec(list(tensors[8:])), 3)
        return sum(part.pow(2).sum() for part in out)

    assert torch.autograd.gradcheck(loss, inputs)
    assert torch.autograd.gradgradcheck(loss, inputs)


def test_separable_aggregate_rejects_bad_inputs(generator):
    scalars, harmonics, atoms = separable_inputs(generator)
    with pytest.raises(ValueError, match="one scalar and one harmonic"):
        cg_aggregate_separable(scalars[:2], harmonics, atoms)
    with pytest.raises(ValueError, match="l1=1"):
        cg_aggregate_separable(scalars, [harmonics[0], harmonics[2], *harmonics[2:]], atoms)
    with pytest.raises(ValueError, match="real tensors"):
        cg_aggregate_separable(scalars, harmonics, SO3Vec([p.to(torch.complex128) for p in atoms], basis="complex"))


def test_follow_device_and_dtype(device, dtype, generator):
    scalars, harmonics, atoms = separable_inputs(generator)
    scalars, harmonics = [t.to(device, dtype) for t in scalars], [t.to(device, dtype) for t in harmonics]
    atoms = atoms.apply(lambda p: p.to(device, dtype))
    for out in (cg_square(atoms, 3), cg_aggregate_separable(scalars, harmonics, atoms, 3)):
        assert out.device.type == device and out.dtype == dtype


def test_separable_aggregate_in_row_blocks_equals_the_materialized_one(generator, monkeypatch):
    """Large molecules go a block of rows at a time: values, first and second derivatives as the plain form."""
    from cormorant_lab.so3 import _cg_aggregate

    scalars, harmonics, atoms = separable_inputs(generator, batch=1, atoms=5, channels=2, max_sh=3, atom_maxl=1)
    # 2 rows of the l1 = 3 block per row block: blocks of 2, 2 and 1 rows (more for smaller l1)
    monkeypatch.setattr(_cg_aggregate, "TEMPORARY_BYTES", 2 * 2 * 7 * 5 * 8)
    assert _cg_aggregate._rows_per_block(scalars[3], 7) == 2
    inputs = tuple(t.detach().requires_grad_(True) for t in (*scalars, *harmonics, *atoms.parts))

    def lean(*tensors):
        return cg_aggregate_separable(tensors[:4], tensors[4:8], SO3Vec(list(tensors[8:])), 3)

    def plain(*tensors):
        return cg_aggregate(materialized(tensors[:4], tensors[4:8]), SO3Vec(list(tensors[8:])), 3)

    weights = [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in plain(*inputs)]
    results = []
    for form in (lean, plain):
        loss = sum((w * p).sum() for w, p in zip(weights, form(*inputs), strict=False))
        grads = torch.autograd.grad(loss, inputs, create_graph=True)
        second = torch.autograd.grad(sum((g * g).sum() for g in grads), inputs)
        results.append((form(*inputs).apply(torch.detach), grads, second))
    (out, grads, second), (expected, expected_grads, expected_second) = results
    assert relative_error(out, expected) <= 1e-13
    for got, want in zip((*grads, *second), (*expected_grads, *expected_second), strict=False):
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)
