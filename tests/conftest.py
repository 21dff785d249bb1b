"""Shared fixtures: dtypes with honest tolerances, devices (CUDA when present), TF32 off."""

import pytest
import torch

# Equivariance is checked to 1e-12 in float64 and 1e-5 in float32: TF32 matmuls (on by default for some
# GPU paths) would silently round to 10 mantissa bits.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=[torch.float64, torch.float32], ids=["float64", "float32"])
def dtype(request) -> torch.dtype:
    return request.param


@pytest.fixture
def tolerance(dtype) -> float:
    """Relative error allowed for an exact identity evaluated in ``dtype``."""
    return TOLERANCE[dtype]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
