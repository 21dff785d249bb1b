"""Spherical harmonics against sympy's Ynm, by quadrature, the addition theorem and the real/complex map."""

import math

import numpy as np
import pytest
import sympy
import torch

from cormorant_lab.so3 import complex_to_real, spherical_harmonics, spherical_harmonics_all


def random_vectors(n, generator, dtype=torch.float64):
    return torch.randn(n, 3, generator=generator, dtype=torch.float64).to(dtype)


def sympy_ynm(l, m, vectors):
    theta, phi = sympy.symbols("theta phi", real=True)
    expression = sympy.Ynm(l, m, theta, phi).expand(func=True)
    function = sympy.lambdify((theta, phi), expression, modules="mpmath")
    x, y, z = vectors.T
    polar = np.arccos(z / np.linalg.norm(vectors, axis=1))
    azimuth = np.arctan2(y, x)
    return np.array([complex(function(t, p)) for t, p in zip(polar, azimuth, strict=False)])


@pytest.mark.parametrize("l", range(7))
def test_matches_sympy_ynm(l, generator):
    vectors = random_vectors(12, generator)
    ours = spherical_harmonics(l, vectors, basis="complex").numpy()
    for m in range(-l, l + 1):
        theirs = sympy_ynm(l, m, vectors.numpy())
        assert np.abs(ours[:, m + l] - theirs).max() <= 1e-12, (l, m)


def test_closed_forms():
    v = torch.tensor([[0.3, -0.4, 1.2]], dtype=torch.float64)
    x, y, z = (v / v.norm())[0]
    y1 = spherical_harmonics(1, v, basis="real")[0]
    assert torch.allclose(y1, math.sqrt(3 / (4 * math.pi)) * torch.stack([y, z, x]), atol=1e-15)
    y20 = spherical_harmonics(2, v, basis="complex")[0, 2]
    assert abs(y20 - math.sqrt(5 / (16 * math.pi)) * (3 * z**2 - 1)) < 1e-15
    y11 = spherical_harmonics(1, v, basis="complex")[0, 2]
    assert abs(y11 - (-math.sqrt(3 / (8 * math.pi)) * complex(x, y))) < 1e-15  # Condon–Shortley sign


def gauss_sphere_grid(max_degree):
    """Quadrature on the sphere exact for polynomials of degree <= max_degree."""
    nodes, weights = np.polynomial.legendre.leggauss(max_degree // 2 + 1)
    n_phi = max_degree + 1
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    cos_t, ph = np.meshgrid(nodes, phi, indexing="ij")
    sin_t = np.sqrt(1 - cos_t**2)
    points = np.stack([sin_t * np.cos(ph), sin_t * np.sin(ph), cos_t], -1).reshape(-1, 3)
    w = (weights[:, None] * np.full(n_phi, 2 * np.pi / n_phi)[None, :]).reshape(-1)
    return torch.from_numpy(points), torch.from_numpy(w)


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_orthonormal_by_quadrature(basis):
    max_l = 6
    points, weights = gauss_sphere_grid(2 * max_l)
    harmonics = torch.cat(spherical_harmonics_all(max_l, points, basis=basis), dim=-1)
    gram = harmonics.T.conj() @ (harmonics * weights[:, None])
    assert torch.allclose(gram, torch.eye(gram.shape[0], dtype=gram.dtype), atol=1e-12)


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_addition_theorem(basis, generator):
    u, v = random_vectors(20, generator), random_vectors(20, generator)
    cos_angle = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))
    for l in range(8):
        lhs = (spherical_harmonics(l, u, basis=basis) * spherical_harmonics(l, v, basis=basis).conj()).sum(-1)
        legendre = np.polynomial.legendre.Legendre.basis(l)(cos_angle.numpy())
        rhs = (2 * l + 1) / (4 * math.pi) * legendre
        assert np.abs(lhs.numpy() - rhs).max() < 1e-12


def test_real_is_unitary_map_of_complex(generator):
    vectors = random_vectors(15, generator)
    for l in range(7):
        u = complex_to_real(l)
        assert torch.allclose(u @ u.conj().T, torch.eye(2 * l + 1, dtype=u.dtype), atol=1e-15)
        complex_y = spherical_harmonics(l, vectors, basis="complex")
        real_y = spherical_harmonics(l, vectors, basis="real")
        assert torch.allclose(complex_y @ u.T, real_y.to(u.dtype), atol=1e-13)
        assert real_y.dtype == torch.float64 and complex_y.dtype == torch.complex128


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_solid_harmonics_are_r_to_the_l_times_harmonics(basis, generator):
    vectors = 3 * random_vectors(10, generator)
    r = vectors.norm(dim=-1, keepdim=True)
    for l in range(7):
        solid = spherical_harmonics(l, vectors, basis=basis, normalize=False)
        assert torch.allclose(solid, r**l * spherical_harmonics(l, vectors, basis=basis), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("normalize", [True, False])
def test_origin_has_defined_values_and_finite_gradients(normalize):
    vectors = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    harmonics = spherical_harmonics_all(4, vectors, basis="real", normalize=normalize)
    assert torch.allclose(harmonics[0], torch.full_like(harmonics[0], 1 / math.sqrt(4 * math.pi)))
    for h in harmonics[1:]:
        assert torch.equal(h, torch.zeros_like(h))
    total = sum((h * torch.arange(1, h.shape[-1] + 1)).sum() for h in harmonics)
    (gradient,) = torch.autograd.grad(total, vectors)
    assert torch.isfinite(gradient).all()


def test_gradient_matches_finite_differences(generator):
    vectors = random_vectors(4, generator).requires_grad_(True)

    def f(v):
        return sum(
            (h**2 * torch.linspace(0.5, 2.0, h.shape[-1], dtype=h.dtype)).sum()
            for h in spherical_harmonics_all(5, v, basis="real")
        )

    assert torch.autograd.gradcheck(f, (vectors,), eps=1e-6, atol=1e-8)


def test_float32_agrees_with_float64(generator, device):
    vectors = random_vectors(50, generator)
    for l in range(7):
        h64 = spherical_harmonics(l, vectors.to(device), basis="real")
        h32 = spherical_harmonics(l, vectors.to(device, torch.float32), basis="real")
        assert h32.dtype == torch.float32 and h32.device.type == device
        assert (h32.double() - h64).abs().max() < 1e-5


@pytest.mark.parametrize(
    "bad, message", [(torch.zeros(4, 2), r"\(\.\.\., 3\)"), (torch.zeros(4, 3, dtype=torch.int64), "floating")]
)
def test_bad_vectors_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        spherical_harmonics(1, bad, basis="complex")


@pytest.mark.parametrize("l", [-1, 2.0, "2"])
def test_bad_degree_raises(l):
    with pytest.raises(ValueError, match="non-negative integer"):
        spherical_harmonics(l, torch.ones(1, 3), basis="complex")


@pytest.mark.parametrize("max_l", range(1, 6))
@pytest.mark.parametrize("normalize", [True, False])
def test_matrix_form_equals_the_recurrence_with_first_and_second_derivatives(max_l, normalize, generator):
    from cormorant_lab.so3 import spherical_harmonics_recurrence

    vectors = random_vectors(40, generator) * 2.0
    vectors[0] = 0.0  # r = 0: Y_0 kept, l > 0 zero, zero gradients
    vectors[1] = torch.tensor([0.0, 0.0, 1e-3], dtype=torch.float64)  # near a pole, tiny r
    vectors.requires_grad_(True)
    weights = [torch.randn(40, 2 * l + 1, generator=generator, dtype=torch.float64) for l in range(max_l + 1)]
    results = []
    for form in (spherical_harmonics_all, spherical_harmonics_recurrence):
        harmonics = form(max_l, vectors, normalize=normalize)
        loss = sum(((w * h).sum(-1) ** 2).sum() for w, h in zip(weights, harmonics, strict=True))
        (grad,) = torch.autograd.grad(loss, vectors, create_graph=True)
        (second,) = torch.autograd.grad((grad * grad).sum(), vectors)
        results.append([h.detach() for h in harmonics] + [grad.detach(), second])
    for lean, plain in zip(*results, strict=True):
        assert torch.allclose(lean, plain, rtol=1e-12, atol=1e-12), (lean - plain).abs().max()
    if normalize:
        harmonics, grad = results[0][: max_l + 1], results[0][max_l + 1]
        assert harmonics[0][0, 0] == pytest.approx(1 / math.sqrt(4 * math.pi), rel=1e-15)
        assert all((h[0] == 0).all() for h in harmonics[1:])
        assert (grad[0] == 0).all() and torch.isfinite(grad).all()


def test_matrix_form_holds_exact_polynomial_coefficients():
    from cormorant_lab.so3 import harmonics_coefficients

    matrix = harmonics_coefficients(2)  # rows: 1, (x, y, z), (xx, xy, xz, yx, yy, yz, zx, zy, zz)
    assert matrix.shape == (13, 9)
    c = math.sqrt(3 / (4 * math.pi))
    assert matrix[0, 0] == pytest.approx(1 / math.sqrt(4 * math.pi), rel=1e-15)
    expected = torch.tensor([[0, 0, c], [c, 0, 0], [0, c, 0]], dtype=torch.float64)  # Y_1 = c (y, z, x)
    assert torch.allclose(matrix[1:4, 1:4], expected, rtol=1e-15, atol=0)
    # r^2 Y_20 = sqrt(5/16π) (2 z² - x² - y²), on the entries xx, yy, zz; the entries yx, zx, zy are left 0
    y20 = matrix[4:, 6]
    d = math.sqrt(5 / (16 * math.pi))
    assert y20.tolist() == pytest.approx([-d, 0, 0, 0, -d, 0, 0, 0, 2 * d], rel=1e-15, abs=0)
    assert (matrix[4:, 1:4] == 0).all() and (matrix[1:4, 4:] == 0).all()  # each degree on its own tensor power
