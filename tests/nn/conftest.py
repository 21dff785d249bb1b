"""Fixtures for the network tests: model tolerances per dtype, single-threaded runs, TF32 off."""

import pytest
import torch

# Equivariance is checked here: TF32 would round matrix products to 10 mantissa bits on GPUs.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

# Relative error allowed for the invariance/covariance of a whole network (four levels of CG products).
MODEL_TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


@pytest.fixture
def model_tolerance(dtype) -> float:
    return MODEL_TOLERANCE[dtype]


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """These tensors are small: one intra-op thread is fastest, and immune to oversubscribed CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
