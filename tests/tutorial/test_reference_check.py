"""The reference mode against the reference, as notebook 04 shows it: the packaged golden fixture, the converter
round trip with a live reference model, and finding the reference's code. No network; the reference's own code is
not needed (a stand-in package plays it where its plumbing is tested; its numbers are the fixture's)."""

import sys
import textwrap

import numpy as np
import pytest
import torch

from cormorant_lab.nn.reference import (
    fixture_batch,
    fixture_model,
    fixture_weights,
    load_reference_fixture,
    reference_fixture_path,
)
from cormorant_lab.tutorial import _reference_check, converter_check, find_reference_src, fixture_check


def test_the_fixture_is_package_data():
    path = reference_fixture_path()
    assert path.is_file() and path.parent.parent.name == "reference" and path.stat().st_size < 1_000_000
    fixture = load_reference_fixture()
    weights = fixture_weights(fixture, "md17")
    model = fixture_model(fixture, "md17", torch.float64)
    assert sum(p.numel() for p in model.parameters()) == sum(w.numel() for w in weights.values())
    positions, charges = fixture_batch(fixture, "md17", torch.float32)
    assert positions.dtype == torch.float32 and positions.shape[:2] == charges.shape


@pytest.mark.parametrize("preset, dtype, tolerance", [("qm9", torch.float64, 1e-10), ("md17", torch.float32, 1e-5)])
def test_fixture_check(preset, dtype, tolerance):
    figures = fixture_check(preset, dtype)
    assert figures["relative_difference"] <= tolerance and figures["molecules"] >= 8
    assert figures["energy_scale"] > 1e-3 and figures["parameters"] > 1000


def test_fixture_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_reference_fixture(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{"md17/config": np.array([{"code": "runs"}], dtype=object)})
    with pytest.raises(ValueError, match="not a plain-array npz"):
        load_reference_fixture(pickled)
    partial = tmp_path / "partial.npz"
    np.savez(partial, **{"qm9/positions": np.zeros((1, 2, 3))})
    with pytest.raises(ValueError, match=r"missing \['qm9/config'"):
        load_reference_fixture(partial)
    with pytest.raises(ValueError, match="presets"):
        fixture_check("qm7")
    with pytest.raises(ValueError, match="float64 and float32"):
        fixture_check("md17", torch.float16)


def test_find_reference_src(tmp_path, monkeypatch):
    monkeypatch.setattr(_reference_check, "DEFAULT_REFERENCE_SRC", tmp_path / "absent")
    assert find_reference_src({}) is None
    with pytest.raises(ValueError, match="CORMORANT_LAB_REFERENCE_SRC=.*no cormorant/models"):
        find_reference_src({"CORMORANT_LAB_REFERENCE_SRC": str(tmp_path)})
    (tmp_path / "cormorant" / "models").mkdir(parents=True)
    assert find_reference_src({"CORMORANT_LAB_REFERENCE_SRC": str(tmp_path)}) == tmp_path
    monkeypatch.setattr(_reference_check, "DEFAULT_REFERENCE_SRC", tmp_path)
    assert find_reference_src({}) == tmp_path


STANDIN = '''
"""A stand-in for risilab/cormorant's models: its constructor, state_dict layout, batch dict and chatter."""
import torch
from cormorant_lab.nn import from_reference


class _Model(torch.nn.Module):
    preset = None

    def __init__(self, num_species, charge_scale, device, dtype, **args):
        super().__init__()
        print("CGDICT 3")
        self.model_dtype, self.inner = dtype, None

    def load_state_dict(self, state_dict):
        self.inner = from_reference(state_dict, self.preset, dtype=self.model_dtype)

    def forward(self, batch):
        print("Number of scalars at top: 400")
        assert batch["one_hot"].shape[-1] == 4 and batch["positions"].dtype == self.model_dtype
        return self.inner(batch["positions"], batch["charges"].long()) * (1 + SHIFT)


class CormorantMD17(_Model):
    preset = "md17"


class CormorantQM9(_Model):
    preset = "qm9"
'''


@pytest.mark.parametrize("shift", [0.0, 1e-6])
def test_converter_check_runs_the_reference_it_is_given(tmp_path, monkeypatch, capsys, shift):
    package = tmp_path / f"src_{shift}" / "cormorant" / "models"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text(textwrap.dedent(STANDIN).replace("SHIFT", repr(shift)))
    for name in [m for m in sys.modules if m == "cormorant" or m.startswith("cormorant.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "path", list(sys.path))
    figures = converter_check("md17", reference_src=package.parent.parent, num_molecules=2)
    assert figures["round_trip_max_difference"] == 0.0
    assert figures["reference_relative_difference"] == pytest.approx(shift, rel=1e-5, abs=1e-15)  # shift / (1 + shift)
    assert capsys.readouterr().out == ""  # the reference's chatter stays out of the notebook
