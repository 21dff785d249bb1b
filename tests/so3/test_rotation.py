"""Euler angles, and that random_rotation samples the Haar measure (and uniform Euler angles do not)."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from cormorant_lab.so3 import check_rotation, euler_to_rotation, random_rotation, rotation_to_euler


def test_euler_zyz_closed_form():
    rz = euler_to_rotation(math.pi / 2, 0.0, 0.0)
    assert torch.allclose(
        rz @ torch.tensor([1.0, 0, 0], dtype=torch.float64), torch.tensor([0.0, 1, 0], dtype=torch.float64), atol=1e-15
    )
    ry = euler_to_rotation(0.0, math.pi / 2, 0.0)
    assert torch.allclose(
        ry @ torch.tensor([0.0, 0, 1], dtype=torch.float64), torch.tensor([1.0, 0, 0], dtype=torch.float64), atol=1e-15
    )


def test_euler_roundtrip_including_poles(generator):
    rotations = torch.cat(
        [
            random_rotation(20, generator=generator),
            euler_to_rotation(
                torch.tensor([0.3, -2.0], dtype=torch.float64),
                torch.tensor([0.0, math.pi], dtype=torch.float64),
                torch.tensor([0.0, 0.0], dtype=torch.float64),
            ),
        ]
    )
    alpha, beta, gamma = rotation_to_euler(rotations)
    assert torch.allclose(euler_to_rotation(alpha, beta, gamma), rotations, atol=1e-12)


def angle_of(rotations):
    trace = rotations.diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.arccos(((trace - 1) / 2).clamp(-1, 1)).numpy()


def haar_pvalues(rotations):
    z_of_ez = rotations[:, 2, 2].numpy()  # z component of R e_z: uniform on [-1, 1] under Haar
    p_axis = stats.kstest(z_of_ez, stats.uniform(loc=-1, scale=2).cdf).pvalue
    # The rotation angle θ has density (1 - cos θ)/π on [0, π], CDF (θ - sin θ)/π.
    p_angle = stats.kstest(angle_of(rotations), lambda t: (t - np.sin(t)) / np.pi).pvalue
    return p_axis, p_angle


def test_random_rotation_is_haar():
    rotations = random_rotation(4000, generator=torch.Generator().manual_seed(0))
    check_rotation(rotations)
    assert min(haar_pvalues(rotations)) > 0.01


def test_uniform_euler_angles_fail_the_same_test():
    g = torch.Generator().manual_seed(0)
    alpha, beta, gamma = (
        torch.rand(4000, generator=g, dtype=torch.float64) * s for s in (2 * math.pi, math.pi, 2 * math.pi)
    )
    assert min(haar_pvalues(euler_to_rotation(alpha, beta, gamma))) < 1e-6


def test_shapes_dtype_device(device):
    assert random_rotation().shape == (3, 3)
    r = random_rotation(5, dtype=torch.float32, device=device)
    assert r.shape == (5, 3, 3) and r.dtype == torch.float32 and r.device.type == device


def test_check_rotation_messages():
    check_rotation(torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="det = -1"):
        check_rotation(-torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="not orthogonal"):
        check_rotation(torch.ones(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="floating point"):
        check_rotation(torch.eye(3, dtype=torch.int64))
