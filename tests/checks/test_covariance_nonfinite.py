"""A model whose output is not finite fails the covariance check (``max(0.0, nan)`` used to say 0.0)."""

import math

import torch

from cormorant_lab.checks import check_covariance
from cormorant_lab.so3 import SO3Vec


def _batch():
    return torch.randn(2, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)), torch.ones(
        2, 4, dtype=torch.long
    )


def test_nan_output_fails():
    positions, charges = _batch()
    report = check_covariance(lambda x, z: torch.full((x.shape[0],), math.nan, dtype=x.dtype), positions, charges)
    assert report.invariance_error == math.inf and report.worst == math.inf
    assert not report.passed(1e-10) and not report.passed(math.inf)


def test_nan_level_fails_and_finite_invariant_passes():
    positions, charges = _batch()

    def nan_levels(x, z):
        return SO3Vec([x.norm(dim=-1, keepdim=True).unsqueeze(-1), torch.full_like(x, math.nan).unsqueeze(-2)])

    report = check_covariance(nan_levels, positions, charges)
    assert report.covariance_errors["output"][1] == math.inf and not report.passed(1.0)
    assert report.covariance_errors["output"][0] < 1e-12
    assert check_covariance(lambda x, z: torch.cdist(x, x).sum((-1, -2)), positions, charges).passed(1e-12)
