"""Clebsch–Gordan coefficients against sympy's exact values, orthogonality, symmetry and intertwining."""

import itertools
import math
import random

import numpy as np
import pytest
import sympy
import torch
from sympy.physics.quantum.cg import CG

from cormorant_lab.so3 import (
    clebsch_gordan,
    clebsch_gordan_exact,
    clebsch_gordan_squared,
    random_rotation,
    wigner_d,
)


def all_triples(max_l, max_out=None):
    max_out = 2 * max_l if max_out is None else max_out
    for l1, l2 in itertools.product(range(max_l + 1), repeat=2):
        for l in range(abs(l1 - l2), min(l1 + l2, max_out) + 1):
            yield l1, l2, l


def test_closed_forms():
    # Textbook values (e.g. the PDG table of Clebsch–Gordan coefficients).
    assert clebsch_gordan_exact(1, 1, 1, -1, 2, 0) == 1 / sympy.sqrt(6)
    assert clebsch_gordan_exact(1, 0, 1, 0, 0, 0) == -1 / sympy.sqrt(3)
    assert clebsch_gordan_exact(1, 1, 1, 0, 2, 1) == 1 / sympy.sqrt(2)
    assert clebsch_gordan_exact(1, 1, 1, 0, 1, 1) == 1 / sympy.sqrt(2)
    assert clebsch_gordan_exact(1, 0, 1, 1, 1, 1) == -1 / sympy.sqrt(2)
    assert clebsch_gordan_exact(2, 1, 1, 0, 3, 1) == sympy.sqrt(sympy.Rational(8, 15))
    assert clebsch_gordan_exact(1, 1, 1, 1, 2, 2) == 1
    assert clebsch_gordan_exact(1, 1, 1, 1, 2, 1) == 0  # m1 + m2 != m


def test_exactly_equal_to_sympy_for_all_degrees_up_to_4():
    for l1, l2, l in all_triples(4):
        for m1 in range(-l1, l1 + 1):
            for m2 in range(-l2, l2 + 1):
                m = m1 + m2
                if abs(m) > l:
                    continue
                ours = clebsch_gordan_exact(l1, m1, l2, m2, l, m)
                theirs = CG(l1, m1, l2, m2, l, m).doit()
                assert sympy.simplify(ours - theirs) == 0, (l1, m1, l2, m2, l, m, ours, theirs)


def test_random_sample_up_to_10_equals_sympy():
    rng = random.Random(7)
    for _ in range(60):
        l1, l2 = rng.randint(0, 10), rng.randint(0, 10)
        l = rng.randint(abs(l1 - l2), min(l1 + l2, 10))
        m1 = rng.randint(-l1, l1)
        m2 = rng.randint(max(-l2, -l - m1), min(l2, l - m1))
        ours = clebsch_gordan_exact(l1, m1, l2, m2, l, m1 + m2)
        theirs = CG(l1, m1, l2, m2, l, m1 + m2).doit()
        assert sympy.nsimplify(theirs**2) == ours**2 and sympy.sign(theirs) == sympy.sign(ours), (l1, m1, l2, m2, l)
        block = clebsch_gordan(l1, l2, l, basis="complex")
        assert block[m1 + l1, m2 + l2, m1 + m2 + l].item() == pytest.approx(float(theirs), abs=1e-15)


def test_squared_form_is_exact_fraction():
    sign, square = clebsch_gordan_squared(2, 1, 1, 0, 2, 1)
    assert sign * math.sqrt(square) == pytest.approx(float(CG(2, 1, 1, 0, 2, 1).doit()), abs=1e-16)
    assert (
        square.denominator > 0
        and sympy.Rational(square.numerator, square.denominator) == CG(2, 1, 1, 0, 2, 1).doit() ** 2
    )


def test_float_blocks_match_exact_values_up_to_10():
    rng = random.Random(3)
    for l1, l2, l in rng.sample(list(all_triples(10, 10)), 40):
        block = clebsch_gordan(l1, l2, l, basis="complex").numpy()
        for m1 in range(-l1, l1 + 1):
            m2_range = range(max(-l2, -l - m1), min(l2, l - m1) + 1)
            for m2 in m2_range:
                sign, square = clebsch_gordan_squared(l1, m1, l2, m2, l, m1 + m2)
                assert block[m1 + l1, m2 + l2, m1 + m2 + l] == pytest.approx(sign * math.sqrt(square), abs=2e-16)


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_orthogonality_up_to_10(basis):
    for l1, l2 in itertools.product(range(11), repeat=2):
        # Stacking every l in the triangle gives a square orthogonal matrix (d1 d2) x (d1 d2).
        columns = [
            clebsch_gordan(l1, l2, l, basis=basis).reshape((2 * l1 + 1) * (2 * l2 + 1), -1)
            for l in range(abs(l1 - l2), l1 + l2 + 1)
        ]
        matrix = torch.cat(columns, dim=1)
        assert matrix.shape[0] == matrix.shape[1]
        identity = torch.eye(matrix.shape[0], dtype=matrix.dtype)
        assert torch.allclose(matrix.T @ matrix, identity, atol=1e-13)
        assert torch.allclose(matrix @ matrix.T, identity, atol=1e-13)


def test_symmetry_relations_up_to_10():
    for l1, l2, l in all_triples(10, 10):
        block = clebsch_gordan(l1, l2, l, basis="complex")
        phase = (-1) ** (l1 + l2 - l)
        # <l1 m1; l2 m2 | l m> = (-1)^(l1+l2-l) <l2 m2; l1 m1 | l m>
        assert torch.equal(block, phase * clebsch_gordan(l2, l1, l, basis="complex").transpose(0, 1))
        # <l1 -m1; l2 -m2 | l -m> = (-1)^(l1+l2-l) <l1 m1; l2 m2 | l m>
        assert torch.equal(block.flip(0, 1, 2), phase * block)


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_blocks_intertwine_wigner_matrices(basis, generator):
    rotation = random_rotation(generator=generator)
    for l1, l2, l in all_triples(4, 6):
        c = clebsch_gordan(l1, l2, l, basis=basis)
        if basis == "complex":
            c = c.to(torch.complex128)
        d1, d2, d = (wigner_d(k, rotation, basis=basis) for k in (l1, l2, l))
        # sum_{m1 m2} C[m1, m2, m] (D1 a)_{m1} (D2 b)_{m2} = (D C(a ⊗ b))_m  for all a, b:
        lhs = torch.einsum("ijk,ia,jb->abk", c, d1, d2)
        rhs = torch.einsum("abn,kn->abk", c, d)
        assert torch.allclose(lhs, rhs, atol=1e-12), (l1, l2, l)


def test_real_basis_blocks_are_real_and_cached_copies():
    block = clebsch_gordan(1, 1, 1, basis="real")
    assert block.dtype == torch.float64 and not block.is_complex()
    # The real l=1 x l=1 -> l=1 coupling is the cross product, up to normalisation: (y, z, x) order.
    a = torch.tensor([0.3, -1.2, 0.5], dtype=torch.float64)  # (y, z, x) components
    b = torch.tensor([1.1, 0.4, -0.7], dtype=torch.float64)
    coupled = torch.einsum("ijk,i,j->k", block, a, b)
    ax, bx = a[[2, 0, 1]], b[[2, 0, 1]]  # to (x, y, z)
    cross = torch.linalg.cross(ax, bx)[[1, 2, 0]]
    ratio = coupled / cross
    assert (
        torch.allclose(ratio, ratio[0].expand(3), atol=1e-14) and abs(abs(ratio[0].item()) - 1 / math.sqrt(2)) < 1e-14
    )
    block[0, 0, 0] = 99.0
    assert clebsch_gordan(1, 1, 1, basis="real")[0, 0, 0] != 99.0


def test_dtype_and_device_follow_arguments(device):
    block = clebsch_gordan(2, 3, 4, dtype=torch.float32, device=device, basis="complex")
    assert block.dtype == torch.float32 and block.device.type == device
    assert np.allclose(block.cpu().numpy(), clebsch_gordan(2, 3, 4, basis="complex").numpy(), atol=1e-7)


@pytest.mark.parametrize(
    "args, message",
    [
        ((-1, 1, 1), "non-negative"),
        ((1.5, 1, 1), "integer"),
        ((1, 1, 3), "triangle"),
        ((4, 1, 2), "triangle"),
        ((True, 1, 1), "integer"),
    ],
)
def test_bad_degrees_raise_value_error(args, message):
    with pytest.raises(ValueError, match=message):
        clebsch_gordan(*args, basis="complex")
    with pytest.raises(ValueError, match=message):
        clebsch_gordan_exact(args[0], 0, args[1], 0, args[2], 0)


def test_bad_basis_raises():
    with pytest.raises(ValueError, match="basis"):
        clebsch_gordan(1, 1, 1, basis="spherical")
