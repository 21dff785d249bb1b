"""The l = 1 and l = 2 glyph maps: conventions against the package's harmonics, and exact covariance under D(R)."""

import math

import pytest
import torch

from cormorant_lab.so3 import random_rotation, spherical_harmonics, wigner_d
from cormorant_lab.viz import (
    L2_BASIS,
    L2_HARMONIC_SCALE,
    ellipsoid_axes,
    ellipsoid_matrix,
    ellipsoid_mesh,
    l1_to_vector,
    l2_to_tensor,
    tensor_to_l2,
    unit_sphere_mesh,
    vector_to_l1,
)


def test_l1_map_is_the_harmonics_order(generator):
    # Y_1(r) ∝ (y, z, x): so the vector of the harmonic coefficients of r is r itself.
    r = torch.randn(20, 3, generator=generator, dtype=torch.float64)
    harmonics = spherical_harmonics(1, r, basis="real", normalize=False)
    assert torch.allclose(l1_to_vector(harmonics) / math.sqrt(3 / (4 * math.pi)), r, atol=1e-14)
    assert torch.allclose(vector_to_l1(l1_to_vector(harmonics)), harmonics, atol=1e-15)


def test_l2_basis_is_the_harmonics_quadratic_forms(generator):
    r = torch.randn(20, 3, generator=generator, dtype=torch.float64)
    forms = torch.einsum("ni,mij,nj->nm", r, L2_BASIS, r)
    assert torch.allclose(
        L2_HARMONIC_SCALE * forms, spherical_harmonics(2, r, basis="real", normalize=False), atol=1e-13
    )


def test_l2_basis_is_orthonormal_symmetric_traceless():
    gram = torch.einsum("aij,bij->ab", L2_BASIS, L2_BASIS)
    assert torch.allclose(gram, torch.eye(5, dtype=torch.float64), atol=1e-15)
    assert torch.allclose(L2_BASIS, L2_BASIS.transpose(-1, -2))
    assert L2_BASIS.diagonal(dim1=-2, dim2=-1).sum(-1).abs().max() < 1e-15


def test_l2_map_is_an_isometry_with_an_inverse(generator):
    f = torch.randn(10, 5, generator=generator, dtype=torch.float64)
    t = l2_to_tensor(f)
    assert torch.allclose(t.flatten(-2).norm(dim=-1), f.norm(dim=-1), atol=1e-14)
    assert torch.allclose(tensor_to_l2(t), f, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_glyphs_rotate_as_d_of_r_says(dtype, generator):
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    rotation = random_rotation(8, generator=generator)
    f1 = torch.randn(8, 3, generator=generator, dtype=torch.float64)
    f2 = torch.randn(8, 5, generator=generator, dtype=torch.float64)
    d1, d2 = wigner_d(1, rotation, basis="real"), wigner_d(2, rotation, basis="real")
    r, f1, f2, d1, d2 = (x.to(dtype) for x in (rotation, f1, f2, d1, d2))
    rotated_f1 = (d1 @ f1.unsqueeze(-1)).squeeze(-1)
    rotated_f2 = (d2 @ f2.unsqueeze(-1)).squeeze(-1)
    # glyph(D(R) f) == R glyph(f) (l = 1) and R glyph(f) Rᵀ (l = 2)
    assert (l1_to_vector(rotated_f1) - (r @ l1_to_vector(f1).unsqueeze(-1)).squeeze(-1)).abs().max() < tolerance
    expected = r @ l2_to_tensor(f2) @ r.transpose(-1, -2)
    assert (l2_to_tensor(rotated_f2) - expected).abs().max() < tolerance
    m, m_rotated = (
        ellipsoid_matrix(l2_to_tensor(f2), radius=0.3, scale=1.0),
        ellipsoid_matrix(l2_to_tensor(rotated_f2), radius=0.3, scale=1.0),
    )
    assert (m_rotated - r @ m @ r.transpose(-1, -2)).abs().max() < 10 * tolerance


def test_a_wrong_convention_would_be_caught(generator):
    # The test above is not vacuous: the e3nn-style order (x, y, z) instead of (y, z, x) fails it.
    rotation = random_rotation(generator=generator)
    f1 = torch.randn(3, generator=generator, dtype=torch.float64)
    rotated = wigner_d(1, rotation, basis="real") @ f1
    assert (rotated - rotation @ f1).abs().max() > 1e-3


def test_ellipsoid_shape():
    # T = diag(-1, -1, 2)/√6 · c: elongated along z, volume of a sphere of radius rho.
    t = l2_to_tensor(torch.tensor([0.0, 0.0, 0.6, 0.0, 0.0], dtype=torch.float64))
    axes, directions = ellipsoid_axes(t, radius=0.3, scale=0.5)
    assert torch.allclose(axes.prod(), torch.tensor(0.3**3, dtype=torch.float64))
    assert axes[2] > axes[1] and torch.allclose(axes[0], axes[1])
    assert torch.allclose(directions[:, 2].abs(), torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), atol=1e-12)
    matrix = ellipsoid_matrix(t, radius=0.3, scale=0.5)
    assert torch.allclose(torch.linalg.eigvalsh(matrix), axes)
    with pytest.raises(ValueError):
        ellipsoid_matrix(t, radius=0.3, scale=0.0)


def test_mesh_lies_on_the_ellipsoid_and_rotates_with_it(generator):
    vertices, faces = unit_sphere_mesh(8)
    assert torch.allclose(vertices.norm(dim=-1), torch.ones(len(vertices), dtype=torch.float64))
    assert faces.min() == 0 and faces.max() == len(vertices) - 1
    # every triangle's outward orientation: (b - a) × (c - a) points away from the centre
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    assert (torch.linalg.cross(b - a, c - a) * (a + b + c)).sum(-1).min() > 0
    t = l2_to_tensor(torch.randn(5, generator=generator, dtype=torch.float64))
    rotation = random_rotation(generator=generator)
    center = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    m = ellipsoid_matrix(t, radius=0.4, scale=0.7)
    points, normals, _ = ellipsoid_mesh(center, m, 8)
    inverse = torch.linalg.inv(m @ m)
    on_surface = lambda p, inv: torch.einsum("ni,ij,nj->n", p, inv, p)  # noqa: E731
    assert torch.allclose(on_surface(points - center, inverse), torch.ones(len(points), dtype=torch.float64))
    assert torch.allclose(normals.norm(dim=-1), torch.ones(len(points), dtype=torch.float64))
    # the rotated mesh lies on the ellipsoid of R T Rᵀ
    m_rotated = ellipsoid_matrix(rotation @ t @ rotation.T, radius=0.4, scale=0.7)
    rotated_points = (points - center) @ rotation.T
    assert torch.allclose(
        on_surface(rotated_points, torch.linalg.inv(m_rotated @ m_rotated)),
        torch.ones(len(points), dtype=torch.float64),
    )


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        l1_to_vector(torch.zeros(4, 5))
    with pytest.raises(ValueError):
        l2_to_tensor(torch.zeros(4, 3))
