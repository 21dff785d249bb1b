"""Fixtures for the visualization tests: a small float64 Cormorant and a bundled ethanol frame."""

import pytest
import torch

pytest.importorskip("py3Dmol", reason="the notebooks extra (py3Dmol, plotly, ipywidgets) is not installed")
pytest.importorskip("plotly", reason="the notebooks extra is not installed")
pytest.importorskip("ipywidgets", reason="the notebooks extra is not installed")

from cormorant_lab.checks import random_molecules  # noqa: E402
from cormorant_lab.nn import Cormorant  # noqa: E402

SMALL = dict(num_cg_levels=2, maxl=2, max_sh=2, num_channels=3)


@pytest.fixture(scope="session")
def small_model() -> Cormorant:
    torch.manual_seed(0)
    return Cormorant.from_preset("md17", dtype=torch.float64, **SMALL).eval()


@pytest.fixture(scope="session")
def molecule() -> tuple[torch.Tensor, torch.Tensor]:
    """A 7-atom random molecule of H, C, N, O: positions (7, 3), charges (7,)."""
    positions, charges = random_molecules(1, 7, species=(1, 6, 7, 8), generator=torch.Generator().manual_seed(3))
    return positions[0], charges[0]
