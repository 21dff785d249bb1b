r"""The golden fixture: the reference implementation's own weights, inputs and outputs, shipped in the package.

``data/reference_fixture.npz`` (~300 KiB, in the wheel) was made by ``scripts/make_reference_fixture.py``, which ran
risilab/cormorant from a clone outside this repository. For each preset ``p`` in ``("qm9", "md17")`` it holds

* ``p/weights/<name>``: a small reference model's ``state_dict`` under the reference's names (float32, exact in
  both dtypes), its size in ``p/config`` (JSON: ``num_cg_levels``, ``num_channels``);
* ``p/positions`` ``(B, N, 3)`` Å and ``p/charges`` ``(B, N)`` (0 = padding): QM9 molecules and frames of the
  bundled trajectories, named in ``p/names``;
* ``p/energy_float64``, ``p/energy_float32`` ``(B,)``: the reference's outputs for that batch; its autograd forces
  (``p/forces_autograd_*``, NaN where it divides by r = 0) and central finite differences of its float64 energy
  (``p/forces_fd_float64``, ``p/forces_fd_kinks``).

Plain arrays only: it is read with ``allow_pickle=False``, so the file cannot run code. Comparing
:func:`fixture_model`'s outputs with ``p/energy_*`` is the offline check that the reference mode computes the
reference's function, weight for weight (``tests/nn/test_reference_mode.py``, and notebook 04 through
:func:`cormorant_lab.tutorial.fixture_check`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._convert import from_reference
from ._network import ReferenceCormorant

FIXTURE_PRESETS = ("qm9", "md17")


def reference_fixture_path() -> Path:
    """Where the golden fixture is: ``cormorant_lab/nn/reference/data/reference_fixture.npz`` (package data)."""
    return Path(__file__).resolve().parent / "data" / "reference_fixture.npz"


def load_reference_fixture(path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """The fixture's arrays by name (see the module docstring); ``path`` defaults to :func:`reference_fixture_path`.

    Raises ``FileNotFoundError`` naming the path when the file is absent, ``ValueError`` when it holds objects
    (pickles are never loaded) or lacks a preset's entries.
    """
    path = Path(path) if path is not None else reference_fixture_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"the reference fixture {path} is missing; it ships with cormorant_lab (package data) and "
            "scripts/make_reference_fixture.py remakes it"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            fixture = {name: data[name] for name in data.files}
    except ValueError as error:
        raise ValueError(f"{path}: not a plain-array npz ({error})") from None
    for preset in FIXTURE_PRESETS:
        needed = [f"{preset}/{key}" for key in ("config", "positions", "charges", "energy_float64", "energy_float32")]
        missing = [key for key in needed if key not in fixture]
        if missing or not any(name.startswith(f"{preset}/weights/") for name in fixture):
            raise ValueError(f"{path}: not a reference fixture; missing {missing or [preset + '/weights/...']}")
    return fixture


def _check_preset(preset: str) -> str:
    if preset not in FIXTURE_PRESETS:
        raise ValueError(f"the fixture has presets {FIXTURE_PRESETS}, not {preset!r}")
    return preset


def fixture_weights(fixture: dict[str, np.ndarray], preset: str) -> dict[str, torch.Tensor]:
    """The reference model's ``state_dict`` stored for ``preset``, under the reference's names, in its order."""
    prefix = f"{_check_preset(preset)}/weights/"
    return {name[len(prefix) :]: torch.from_numpy(value) for name, value in fixture.items() if name.startswith(prefix)}


def fixture_config(fixture: dict[str, np.ndarray], preset: str) -> dict[str, Any]:
    """The fixture model's size for ``preset`` (``num_cg_levels``, ``num_channels``), as constructor overrides."""
    return json.loads(str(fixture[f"{_check_preset(preset)}/config"]))


def fixture_model(fixture: dict[str, np.ndarray], preset: str, dtype: torch.dtype) -> ReferenceCormorant:
    """A reference-mode model carrying the fixture's weights for ``preset`` (:func:`~cormorant_lab.nn.from_reference`)."""
    return from_reference(fixture_weights(fixture, preset), preset, dtype=dtype, **fixture_config(fixture, preset))


def fixture_batch(fixture: dict[str, np.ndarray], preset: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixture's molecules for ``preset``: positions ``(B, N, 3)`` in ``dtype`` and charges ``(B, N)``."""
    preset = _check_preset(preset)
    return torch.tensor(fixture[f"{preset}/positions"], dtype=dtype), torch.tensor(fixture[f"{preset}/charges"])
