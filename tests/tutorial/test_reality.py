"""The tutorial helpers for the complex form: the two bases, the reality condition, the split F = P + iQ and the
reference's four invariants (float64 oracles: plain real arithmetic on independently drawn P, Q), the converter check."""

import pytest
import torch

from cormorant_lab.checks import random_molecules
from cormorant_lab.nn import Cormorant
from cormorant_lab.nn.reference._output import reference_invariants
from cormorant_lab.so3 import SO3Vec, cg_product, complex_to_real, random_rotation, spherical_harmonics_all
from cormorant_lab.tutorial import (
    complex_invariants,
    converter_check,
    part_reality_defect,
    reality_defect,
    reality_split,
    to_basis,
)


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


def _random_real_vector(generator, channels=3, maxl=3, batch=(4,)):
    return SO3Vec(
        [torch.randn(*batch, channels, 2 * l + 1, dtype=torch.float64, generator=generator) for l in range(maxl + 1)]
    )


def _complex_from_real_by_hand(real: SO3Vec) -> list[torch.Tensor]:
    """F^c = U^† F^r column-wise, written out here with complex_to_real only (the oracle for to_basis)."""
    return [
        torch.einsum("nm,...n->...m", complex_to_real(l).conj(), part.to(torch.complex128))
        for l, part in enumerate(real)
    ]


def test_to_basis_round_trip_and_covariance():
    generator = torch.Generator().manual_seed(1)
    real = _random_real_vector(generator)
    complex_ = to_basis(real, "complex")
    for mine, oracle in zip(complex_, _complex_from_real_by_hand(real), strict=True):
        torch.testing.assert_close(mine, oracle, rtol=1e-14, atol=1e-14)
    back = to_basis(complex_, "real")
    assert back.basis == "real" and not back[1].is_complex()
    for a, b in zip(back, real, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)
    # rotating in either basis is the same rotation
    rotation = random_rotation(generator=generator, dtype=torch.float64)
    for a, b in zip(to_basis(complex_.rotate(rotation), "real"), real.rotate(rotation), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)
    # float32 stays single precision
    assert to_basis(real.to(torch.float32), "complex").dtype == torch.complex64


def test_to_basis_refuses_a_vector_off_the_reality_condition():
    broken = SO3Vec([torch.randn(2, 1, 2 * l + 1, dtype=torch.complex128) for l in range(3)], basis="complex")
    with pytest.raises(ValueError, match=r"part l=0 has no real-basis form.*reality_split"):
        to_basis(broken, "real")
    with pytest.raises(ValueError, match="basis must be"):
        to_basis(broken, "spherical")
    with pytest.raises(TypeError, match="SO3Vec"):
        to_basis([torch.zeros(1, 1)], "real")


def test_split_into_two_real_vectors_and_the_reference_s_four_invariants():
    """F = P + iQ from two independent real vectors; the oracle is plain real arithmetic on P and Q."""
    generator = torch.Generator().manual_seed(2)
    p_real, q_real = _random_real_vector(generator), _random_real_vector(generator)
    f = SO3Vec(
        [
            a + 1j * b
            for a, b in zip(_complex_from_real_by_hand(p_real), _complex_from_real_by_hand(q_real), strict=True)
        ],
        basis="complex",
    )
    assert min(reality_defect(f)) > 0.1
    p, q = reality_split(f)
    assert max(reality_defect(p) + reality_defect(q)) < 1e-14
    for mine, oracle in ((p, p_real), (q, q_real)):
        for a, b in zip(to_basis(mine, "real"), oracle, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)
    invariants = complex_invariants(f)
    torch.testing.assert_close(invariants["re_l0"], p_real[0][..., 0], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(invariants["im_l0"], q_real[0][..., 0], rtol=1e-13, atol=1e-13)
    for l in range(f.maxl + 1):
        pp, qq = (v[l].square().sum(-1) for v in (p_real, q_real))
        torch.testing.assert_close(invariants["bilinear"][l], pp - qq, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(invariants["squared_norm"][l], pp + qq, rtol=1e-12, atol=1e-12)
    # the same numbers as the reference mode's head input (its own layout: Re/Im of l = 0, then (bilinear, norm))
    head = reference_invariants([f.parts])
    mine = [torch.stack([invariants["re_l0"], invariants["im_l0"]], -1).flatten(-2)]
    mine += [
        torch.stack([b, n], -1).flatten(-2)
        for b, n in zip(invariants["bilinear"], invariants["squared_norm"], strict=True)
    ]
    torch.testing.assert_close(head, torch.cat(mine, -1), rtol=1e-13, atol=1e-13)
    # a real vector is its own P, and its two invariants per degree coincide
    p_only, q_zero = reality_split(to_basis(p_real, "complex"))
    assert max(float(part.abs().max()) for part in q_zero) < 1e-14
    real_invariants = complex_invariants(p_real)
    for b, n in zip(real_invariants["bilinear"], real_invariants["squared_norm"], strict=True):
        torch.testing.assert_close(b, n, rtol=1e-13, atol=1e-13)


def test_split_commutes_with_rotations():
    generator = torch.Generator().manual_seed(3)
    f = SO3Vec(
        [torch.randn(2, 3, 2 * l + 1, dtype=torch.complex128, generator=generator) for l in range(4)], basis="complex"
    )
    rotation = random_rotation(generator=generator, dtype=torch.float64)
    for turned, split in zip(reality_split(f.rotate(rotation)), reality_split(f), strict=True):
        for a, b in zip(turned, split.rotate(rotation), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)


def test_cg_pieces_keep_the_condition_up_to_the_phase_i_on_odd_pieces():
    """⟨l1 −m1; l2 −m2 | l −m⟩ = (−1)^(l1+l2−l) ⟨l1 m1; l2 m2 | l m⟩: odd pieces are i times a real vector."""
    generator = torch.Generator().manual_seed(4)
    f, g = (to_basis(_random_real_vector(generator, channels=1, maxl=2), "complex") for _ in range(2))
    product = cg_product(f, g, maxl=2)
    for l, part in enumerate(product):
        pairs = [(l1, l2) for l1 in range(3) for l2 in range(3) if abs(l1 - l2) <= l <= l1 + l2]
        assert part.shape[-2] == len(pairs)
        for k, (l1, l2) in enumerate(pairs):
            piece = part[..., k : k + 1, :]
            if (l1 + l2 + l) % 2 == 0:
                assert part_reality_defect(piece) < 1e-14
            else:  # F_{-m} = −(−1)^m conj(F_m): the defect is exactly 2
                assert abs(part_reality_defect(piece) - 2) < 1e-12 and part_reality_defect(-1j * piece) < 1e-14
    with pytest.raises(ValueError, match="2l\\+1"):
        part_reality_defect(torch.zeros(3, 4))


def test_float32_split_and_invariants_to_single_precision():
    generator = torch.Generator().manual_seed(5)
    f = SO3Vec(
        [torch.randn(3, 2, 2 * l + 1, dtype=torch.complex64, generator=generator) for l in range(4)], basis="complex"
    )
    p, q = reality_split(f)
    assert p.dtype == torch.complex64 and max(reality_defect(p) + reality_defect(q)) < 1e-6
    for a, b, c in zip(f, p, q, strict=True):
        torch.testing.assert_close(b + 1j * c, a, rtol=1e-6, atol=1e-6)
    exact = complex_invariants(f.to(torch.complex128))
    single = complex_invariants(f)
    for key in ("bilinear", "squared_norm"):
        for a, b in zip(single[key], exact[key], strict=True):
            assert a.dtype == torch.float32
            torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-5)
    real32 = to_basis(p, "real")  # single precision: the default tolerance is 1e-5
    assert real32.dtype == torch.float32
    with pytest.raises(ValueError, match="part l=0"):
        to_basis(f, "real")
