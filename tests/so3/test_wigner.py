"""Wigner-D matrices: the defining identity, the representation property, and sympy's Rotation.D."""

import numpy as np
import pytest
import torch
from sympy.physics.quantum.spin import Rotation

from cormorant_lab.so3 import euler_to_rotation, random_rotation, spherical_harmonics, wigner_d, wigner_d_all


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_rotating_the_argument_is_multiplying_by_d(basis, dtype, generator):
    rotation = random_rotation(6, generator=generator, dtype=dtype)
    vectors = torch.randn(6, 9, 3, generator=generator, dtype=torch.float64).to(dtype)
    for l in range(7):
        d = wigner_d(l, rotation, basis=basis)
        lhs = spherical_harmonics(l, vectors @ rotation.transpose(-1, -2), basis=basis)
        rhs = spherical_harmonics(l, vectors, basis=basis) @ d.transpose(-1, -2)
        tolerance = 1e-12 if dtype == torch.float64 else 2e-5
        assert (lhs - rhs).abs().max() <= tolerance, l


@pytest.mark.parametrize("basis", ["complex", "real"])
def test_unitary_and_a_representation(basis, generator):
    r1, r2 = random_rotation(2, generator=generator)
    for l in range(9):
        d1, d2, d12 = wigner_d(l, r1, basis=basis), wigner_d(l, r2, basis=basis), wigner_d(l, r1 @ r2, basis=basis)
        identity = torch.eye(2 * l + 1, dtype=d1.dtype)
        assert torch.allclose(d1 @ d1.conj().T, identity, atol=1e-12)
        assert torch.allclose(d12, d1 @ d2, atol=1e-12)
    assert wigner_d(3, r1, basis="real").dtype == torch.float64
    assert wigner_d(3, r1, basis="complex").dtype == torch.complex128


def test_agrees_with_sympy_rotation_d():
    # sympy's Rotation.D(j, m, m', α, β, γ) = <j m| exp(-iαJz) exp(-iβJy) exp(-iγJz) |j m'> (active rotations,
    # the quantum-mechanics operator acting on kets). Our D is defined on functions by Y(R r) = D(R) Y(r);
    # the two conventions differ by complex conjugation: D_ours(R(α,β,γ)) = conj(D_sympy(α,β,γ)).
    for alpha, beta, gamma in [(0.3, 1.1, -0.7), (2.0, 0.2, 1.4), (-1.3, 2.9, 0.5)]:
        rotation = euler_to_rotation(alpha, beta, gamma)
        for l in range(4):
            ours = wigner_d(l, rotation, basis="complex").numpy()
            sympy_d = np.array(
                [
                    [complex(Rotation.D(l, m, mp, alpha, beta, gamma).doit().evalf()) for mp in range(-l, l + 1)]
                    for m in range(-l, l + 1)
                ]
            )
            assert np.abs(ours - sympy_d.conj()).max() < 1e-13


def test_identity_and_z_rotation_closed_form():
    for l in range(5):
        assert torch.allclose(
            wigner_d(l, torch.eye(3, dtype=torch.float64), basis="complex"),
            torch.eye(2 * l + 1, dtype=torch.complex128),
            atol=1e-13,
        )
        # Rotating the argument about z by α shifts φ by α: Y_l^m(R r) = e^{i m α} Y_l^m(r).
        alpha = 0.8
        d = wigner_d(l, euler_to_rotation(alpha, 0.0, 0.0), basis="complex")
        m = torch.arange(-l, l + 1, dtype=torch.float64)
        assert torch.allclose(d, torch.diag(torch.exp(1j * m * alpha)), atol=1e-13)


def test_gradient_through_rotation(generator):
    angles = torch.tensor([0.4, 1.0, -0.3], dtype=torch.float64, requires_grad=True)

    def f(a):
        return wigner_d_all(3, euler_to_rotation(a[0], a[1], a[2]), basis="real")[3].sum()

    assert torch.autograd.gradcheck(f, (angles,))


def test_follows_device_and_dtype(device):
    rotation = random_rotation(dtype=torch.float32, device=device)
    d = wigner_d(4, rotation, basis="real")
    assert d.device.type == device and d.dtype == torch.float32


@pytest.mark.parametrize(
    "matrix, message",
    [
        (torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)), "det = -1"),
        (2 * torch.eye(3, dtype=torch.float64), "not orthogonal"),
        (torch.eye(2, dtype=torch.float64), r"\(\.\.\., 3, 3\)"),
    ],
)
def test_rejects_matrices_that_are_not_rotations(matrix, message):
    with pytest.raises(ValueError, match=message):
        wigner_d(1, matrix, basis="complex")
