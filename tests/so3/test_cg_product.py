"""The CG product: covariance, agreement with a direct sum over m, SH coupling, and the neighbour aggregate."""

import math

import pytest
import torch

from cormorant_lab.so3 import (
    SO3Vec,
    cg_aggregate,
    cg_product,
    clebsch_gordan,
    complex_to_real,
    output_channels,
    random_rotation,
    spherical_harmonics_all,
)


def random_vec(batch, channels, maxl, dtype, generator, basis="real"):
    parts = [
        torch.randn(*batch, channels, 2 * l + 1, generator=generator, dtype=torch.float64) for l in range(maxl + 1)
    ]
    if basis == "complex":
        parts = [p + 1j * torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in parts]
    return SO3Vec(
        [
            p.to(dtype if basis == "real" else (torch.complex128 if dtype == torch.float64 else torch.complex64))
            for p in parts
        ],
        basis=basis,
    )


def relative_error(x: SO3Vec, y: SO3Vec) -> float:
    num = sum(float((a - b).abs().pow(2).sum()) for a, b in zip(x, y, strict=False))
    den = sum(float(b.abs().pow(2).sum()) for b in y)
    return math.sqrt(num / den)


@pytest.mark.parametrize("maxl", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("basis", ["real", "complex"])
def test_covariance(maxl, basis, dtype, tolerance, generator):
    a = random_vec((3, 4), 5, maxl, dtype, generator, basis)
    b = random_vec((3, 4), 5, maxl, dtype, generator, basis)
    rotation = random_rotation(generator=generator, dtype=dtype)
    lhs = cg_product(a.rotate(rotation), b.rotate(rotation), maxl)
    rhs = cg_product(a, b, maxl).rotate(rotation)
    assert relative_error(lhs, rhs) <= tolerance


def test_matches_direct_sum_over_m(generator):
    a = random_vec((2,), 3, 3, torch.float64, generator)
    b = random_vec((2,), 3, 2, torch.float64, generator)
    out = cg_product(a, b, maxl=4)
    assert out.channels == output_channels(3, 3, 2, 4)
    expected = [[] for _ in range(5)]
    for l1 in range(4):
        for l2 in range(3):
            for l in range(abs(l1 - l2), min(l1 + l2, 4) + 1):
                c = clebsch_gordan(l1, l2, l, basis="real")
                piece = torch.zeros(2, 3, 2 * l + 1, dtype=torch.float64)
                for m1 in range(2 * l1 + 1):
                    for m2 in range(2 * l2 + 1):
                        piece += c[m1, m2][None, None, :] * (a[l1][..., m1] * b[l2][..., m2])[..., None]
                expected[l].append(piece)
    for l in range(5):
        assert torch.allclose(out[l], torch.cat(expected[l], dim=-2), atol=1e-13)


def test_real_and_complex_products_agree(generator):
    a = random_vec((4,), 2, 3, torch.float64, generator)
    b = random_vec((4,), 2, 3, torch.float64, generator)
    to_complex = lambda v: SO3Vec(
        [p.to(torch.complex128) @ complex_to_real(l).conj() for l, p in enumerate(v)], basis="complex"
    )
    real_out = cg_product(a, b, 3)
    complex_out = cg_product(to_complex(a), to_complex(b), 3)
    # Pieces of pairs with odd l1 + l2 + l carry the phase -i of the real-basis convention.
    for l in range(4):
        pairs = [(l1, l2) for l1 in range(4) for l2 in range(4) if abs(l1 - l2) <= l <= l1 + l2]
        for index, (l1, l2) in enumerate(pairs):
            phase = -1j if (l1 + l2 + l) % 2 else 1
            real_piece = real_out[l][:, 2 * index : 2 * index + 2].to(torch.complex128)
            complex_piece = complex_out[l][:, 2 * index : 2 * index + 2] @ complex_to_real(l).T
            assert torch.allclose(real_piece, phase * complex_piece, atol=1e-13), (l1, l2, l)


def test_product_of_harmonics_is_a_harmonic(generator):
    # Y_{l1}(r) ⊗cg Y_{l2}(r) = sqrt((2l1+1)(2l2+1) / (4π(2l+1))) <l1 0; l2 0|l 0> Y_l(r)
    vectors = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    harmonics = spherical_harmonics_all(3, vectors, basis="real")
    y = SO3Vec([h.unsqueeze(-2) for h in harmonics])
    out = cg_product(y, y, 3)
    for l in range(4):
        pairs = [(l1, l2) for l1 in range(4) for l2 in range(4) if abs(l1 - l2) <= l <= l1 + l2]
        for index, (l1, l2) in enumerate(pairs):
            c000 = clebsch_gordan(l1, l2, l, basis="complex")[l1, l2, l].item()
            factor = math.sqrt((2 * l1 + 1) * (2 * l2 + 1) / (4 * math.pi * (2 * l + 1))) * c000
            assert torch.allclose(out[l][:, index], factor * harmonics[l], atol=1e-13), (l1, l2, l)


def test_aggregate_equals_explicit_neighbour_sum(dtype, tolerance, generator):
    edges = random_vec((2, 5, 5), 3, 3, dtype, generator)
    atoms = random_vec((2, 5), 3, 2, dtype, generator)
    aggregated = cg_aggregate(edges, atoms, 3)
    explicit = cg_product(edges, atoms.apply(lambda p: p.unsqueeze(-4)), 3)
    summed = SO3Vec([p.sum(-3) for p in explicit])
    assert relative_error(aggregated, summed) <= 10 * tolerance
    rotation = random_rotation(generator=generator, dtype=dtype)
    rotated = cg_aggregate(edges.rotate(rotation), atoms.rotate(rotation), 3)
    assert relative_error(rotated, aggregated.rotate(rotation)) <= 10 * tolerance


def test_broadcast_single_channel_and_gradients(generator):
    a = random_vec((3,), 4, 2, torch.float64, generator)
    b = random_vec((3,), 1, 2, torch.float64, generator)
    out = cg_product(a, b, 2)
    assert out.channels == output_channels(4, 2, 2, 2)
    inputs = [p.detach().requires_grad_(True) for p in a]
    assert torch.autograd.gradcheck(
        lambda *ps: sum(q.pow(2).sum() for q in cg_product(SO3Vec(list(ps)), b, 2)), tuple(inputs)
    )


def test_bad_inputs_raise(generator):
    a = random_vec((3,), 4, 2, torch.float64, generator)
    with pytest.raises(ValueError, match="channel-wise"):
        cg_product(a, random_vec((3,), 3, 2, torch.float64, generator))
    with pytest.raises(ValueError, match="same number of channels"):
        cg_product(a, SO3Vec([torch.zeros(3, 4, 1, dtype=torch.float64), torch.zeros(3, 2, 3, dtype=torch.float64)]))
    with pytest.raises(ValueError, match="one basis"):
        cg_product(a, random_vec((3,), 4, 2, torch.float64, generator, basis="complex"))
    with pytest.raises(ValueError, match="maxl"):
        cg_product(a, a, maxl=-1)
    with pytest.raises(ValueError, match="batch shape"):
        cg_aggregate(a, a)


def test_follows_device_and_dtype(device, dtype, generator):
    a = random_vec((2,), 3, 2, dtype, generator).to(device)
    out = cg_product(a, a, 3)
    assert out.device.type == device and out.dtype == dtype


def test_second_derivatives_for_forces(generator):
    # Training on forces differentiates the CG product and the aggregate twice.
    atoms = tuple(p.detach().requires_grad_(True) for p in random_vec((1, 3), 2, 2, torch.float64, generator))
    edges = tuple(p.detach().requires_grad_(True) for p in random_vec((1, 3, 3), 2, 1, torch.float64, generator))

    def f(*parts):
        a, g = SO3Vec(list(parts[:3])), SO3Vec(list(parts[3:]))
        square, message = cg_product(a, a, 3), cg_aggregate(g, a, 2)
        return sum(q.pow(2).sum() for q in square) + sum(q.pow(2).sum() for q in message)

    assert torch.autograd.gradgradcheck(f, atoms + edges)
