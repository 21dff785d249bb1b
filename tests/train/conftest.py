"""Fixtures for the trainer tests: a tiny Cormorant and a few dozen frames of the bundled ethanol trajectory."""

import pytest
import torch

from cormorant_lab.nn import Cormorant
from cormorant_lab.train import TrainConfig, load_task, seed_everything

TINY = {"num_cg_levels": 1, "num_channels": 2, "maxl": 1, "max_sh": 1}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def task():
    """40 training, 10 validation and 10 test frames of bundled ethanol (energies in kcal/mol, forces)."""
    return load_task("md17", molecule="ethanol", n_train=40, n_valid=10, n_test=10)


def make_tiny_model(seed: int = 0, **overrides) -> Cormorant:
    seed_everything(seed)
    return Cormorant.from_preset("md17", **{**TINY, **overrides})


def make_quick_config(**overrides) -> TrainConfig:
    values = dict(epochs=2, batch_size=10, progress=False, log_every=1, device="cpu", force_weight=1.0)
    return TrainConfig(**{**values, **overrides})


@pytest.fixture
def tiny_model():
    """A factory: ``tiny_model(seed=0, **overrides)``, a 1-level md17 Cormorant initialised from ``seed``."""
    return make_tiny_model


@pytest.fixture
def quick_config():
    """A factory: ``quick_config(**overrides)``, 2 epochs of batches of 10 on the CPU, energies + forces."""
    return make_quick_config
