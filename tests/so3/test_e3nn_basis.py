"""Our real basis against e3nn's: the explicit change of basis Q_l = D^l(P) of ``real_to_e3nn``, pinned to e3nn.

e3nn is an independent implementation (its own harmonics, its own Wigner-D from generators, its own 3j symbols),
so agreement here for l = 0..6 is an oracle for the map stated on the conventions page.
"""

import inspect

import pytest
import torch

from cormorant_lab import so3
from cormorant_lab.so3 import clebsch_gordan, random_rotation, real_to_e3nn, spherical_harmonics, wigner_d

o3 = pytest.importorskip("e3nn.o3")

DEGREES = range(7)


def test_l1_is_the_cyclic_permutation_and_e3nn_orders_xyz():
    q1 = real_to_e3nn(1)
    assert torch.equal(
        q1.round(), torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    )
    assert (q1 - q1.round()).abs().max() < 1e-14
    v = torch.tensor([[0.3, -1.2, 0.7]], dtype=torch.float64)
    unit = v / v.norm()
    scale = (3 / (4 * torch.pi)) ** 0.5
    # ours: (y, z, x); e3nn: (x, y, z)
    assert torch.allclose(spherical_harmonics(1, v, basis="real"), scale * unit[:, [1, 2, 0]], atol=1e-14)
    assert torch.allclose(
        o3.spherical_harmonics(1, v, normalize=True, normalization="integral"), scale * unit, atol=1e-14
    )


@pytest.mark.parametrize("l", DEGREES)
def test_harmonics_map_to_e3nn(l, generator):
    vectors = torch.randn(200, 3, generator=generator, dtype=torch.float64)
    q = real_to_e3nn(l)
    assert torch.allclose(q @ q.T, torch.eye(2 * l + 1, dtype=torch.float64), atol=1e-13)
    ours = spherical_harmonics(l, vectors, basis="real")
    theirs = o3.spherical_harmonics(l, vectors, normalize=True, normalization="integral")
    assert (ours @ q.T - theirs).abs().max() < 1e-12
    # Not vacuous: without Q (for l >= 1) the two bases disagree.
    if l >= 1:
        assert (ours - theirs).abs().max() > 0.1


@pytest.mark.parametrize("l", DEGREES)
def test_wigner_d_maps_to_e3nn(l, generator):
    rotations = random_rotation(5, generator=generator, dtype=torch.float64)
    q = real_to_e3nn(l)
    alpha, beta, gamma = o3.matrix_to_angles(rotations)
    theirs = o3.wigner_D(l, alpha, beta, gamma)
    ours = q @ wigner_d(l, rotations, basis="real") @ q.T
    # e3nn builds D from the matrix exponential of generators it stores in single precision: ~1e-6 at l = 6.
    assert (ours - theirs).abs().max() < 1e-5
    # The tight check: Q D Q^T rotates e3nn's own harmonics, Y_e3nn(R v) = (Q D Q^T) Y_e3nn(v), to 1e-12.
    vectors = torch.randn(5, 30, 3, generator=generator, dtype=torch.float64)
    lhs = o3.spherical_harmonics(l, vectors @ rotations.transpose(-1, -2), normalize=True, normalization="integral")
    rhs = o3.spherical_harmonics(l, vectors, normalize=True, normalization="integral") @ ours.transpose(-1, -2)
    assert (lhs - rhs).abs().max() < 1e-12
    if l >= 1:
        assert (wigner_d(l, rotations, basis="real") - theirs).abs().max() > 0.1


@pytest.mark.parametrize("l1,l2,l", [(1, 1, 0), (1, 1, 1), (1, 1, 2), (2, 1, 2), (2, 2, 3), (3, 2, 4), (2, 2, 4)])
def test_clebsch_gordan_maps_to_e3nn_wigner_3j(l1, l2, l):
    # Our real CG block C (C (D1 ⊗ D2) = D C, orthonormal columns) is e3nn's 3j symbol up to its normalization
    # ||W|| = 1 and an overall sign, once all three indices are carried into e3nn's basis.
    c = clebsch_gordan(l1, l2, l, basis="real")
    mapped = torch.einsum("ai,bj,ck,ijk->abc", real_to_e3nn(l1), real_to_e3nn(l2), real_to_e3nn(l), c)
    w = o3.wigner_3j(l1, l2, l, dtype=torch.float64)
    scale = (mapped * w).sum() / (mapped * mapped).sum()
    assert abs(abs(scale.item()) - (2 * l + 1) ** -0.5) < 1e-6
    assert (scale * mapped - w).abs().max() < 1e-6


def test_one_default_basis_everywhere():
    """Every public callable of cormorant_lab.so3 whose ``basis`` parameter has a default defaults to "real"
    (the lean row iterators take ``basis`` as a required argument)."""
    defaults = {}
    for name in so3.__all__:
        obj = getattr(so3, name)
        try:
            parameters = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            continue
        if "basis" in parameters and parameters["basis"].default is not inspect.Parameter.empty:
            defaults[name] = parameters["basis"].default
    assert {
        "spherical_harmonics",
        "spherical_harmonics_all",
        "wigner_d",
        "wigner_d_all",
        "clebsch_gordan",
        "SO3Vec",
    } <= set(defaults)
    assert set(defaults.values()) == {"real"}, defaults
    v = torch.randn(4, 3, dtype=torch.float64)
    assert (
        not spherical_harmonics(2, v).is_complex()
        and not wigner_d(2, random_rotation(dtype=torch.float64)).is_complex()
    )
