"""Fuzz tests (hypothesis): the parsers (QM9 xyz, MD-17 npz, checkpoints) and the model's inputs raise nothing but
the project's documented errors, and whatever they accept is well formed.

Documented errors: :class:`~cormorant_lab.data.DataFormatError` (and its :class:`InvalidMoleculeError`) for data
files, :class:`~cormorant_lab.train.CheckpointError` for checkpoints, ``ValueError`` / ``TypeError`` (saying what is
expected) for model inputs. The examples are derandomized so CI sees the same inputs on every run; set
``CORMORANT_LAB_FUZZ_EXAMPLES`` (e.g. 2000) and ``CORMORANT_LAB_FUZZ_RANDOM=1`` to search longer and wider.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from cormorant_lab.data import DataFormatError  # noqa: E402
from cormorant_lab.data._md17 import load_md17, read_md17_npz  # noqa: E402
from cormorant_lab.data._qm9_xyz import QM9_PROPERTY_NAMES, parse_qm9_xyz  # noqa: E402
from cormorant_lab.nn import Cormorant  # noqa: E402
from cormorant_lab.train import CheckpointError, load_model, read_checkpoint  # noqa: E402

FIXTURES = Path(__file__).parent / "data" / "fixtures"
SCALE = int(os.environ.get("CORMORANT_LAB_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int):
    return settings(
        max_examples=SCALE or examples,
        deadline=None,
        derandomize=not os.environ.get("CORMORANT_LAB_FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        database=None,
    )


# --- QM9 xyz --------------------------------------------------------------------------------------------------
METHANE = (FIXTURES / "dsgdb9nsd_000001.xyz").read_text()
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "1.2*^-5", "*^", "", "0x10", "1_000", "--1", "1e", "\u0661"]),
    st.integers(-(10**30), 10**30).map(str),
)
TOKENS = st.one_of(NUMBERS, st.text(max_size=8), st.sampled_from(["C", "H", "Xx", "gdb", "InChI=", "\t", " ", "\r"]))


@st.composite
def mutated_xyz(draw) -> str:
    lines = METHANE.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["token", "delete", "insert", "truncate", "duplicate"]))
        if not lines:
            break
        row = draw(st.integers(0, len(lines) - 1))
        if kind == "token":
            fields = lines[row].split("\t") if "\t" in lines[row] else lines[row].split()
            fields = fields or [""]
            fields[draw(st.integers(0, len(fields) - 1))] = draw(TOKENS)
            lines[row] = "\t".join(fields)
        elif kind == "delete":
            del lines[row]
        elif kind == "insert":
            lines.insert(row, draw(st.text(max_size=40)))
        elif kind == "duplicate":
            lines.insert(row, lines[row])
        else:
            lines = lines[:row]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # distances of 1e300 Å coordinates
@fuzz(400)
@given(st.one_of(mutated_xyz(), st.text(max_size=300)))
def test_fuzz_qm9_xyz(text):
    try:
        record = parse_qm9_xyz(text, file="fuzz.xyz")
    except DataFormatError as exc:
        assert "fuzz.xyz" in str(exc)
        return
    n = len(record["charges"])
    assert n >= 1 and record["positions"].shape == (n, 3) and np.isfinite(record["positions"]).all()
    assert all(math.isfinite(record[name]) for name in QM9_PROPERTY_NAMES)


# --- MD-17 npz ------------------------------------------------------------------------------------------------
ETHANOL_Z = np.array([6, 6, 8, 1, 1, 1, 1, 1, 1])
DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint8, np.bool_, np.complex64, "U3"])


@st.composite
def md17_arrays(draw) -> dict[str, np.ndarray]:
    frames, atoms = draw(st.integers(0, 4)), draw(st.sampled_from([0, 1, 2, 9, 9, 9]))
    layout = draw(st.sampled_from([("z", "R", "E", "F"), ("nuclear_charges", "coords", "energies", "forces")]))
    shapes = {
        0: (atoms,),
        1: (frames, atoms, 3),
        2: draw(st.sampled_from([(frames,), (frames, 1)])),
        3: (frames, atoms, 3),
    }
    arrays = {}
    for i, key in enumerate(layout):
        if draw(st.integers(0, 14)) == 0:
            continue  # a missing key
        shape = shapes[i] if draw(st.integers(0, 5)) else tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
        dtype = (np.int64 if i == 0 else np.float64) if draw(st.integers(0, 4)) else draw(DTYPES)
        if i == 0 and shape == (9,) and np.dtype(dtype).kind in "iu" and draw(st.booleans()):
            arrays[key] = ETHANOL_Z.astype(dtype)
            continue
        if np.dtype(dtype).kind in "iub":
            elements = st.integers(-3, 120) if np.dtype(dtype).kind == "i" else st.integers(0, 120)
            if np.dtype(dtype) in (np.int8, np.uint8):
                elements = st.integers(0, 120)
            arrays[key] = draw(
                hnp.arrays(dtype, shape, elements=elements if np.dtype(dtype).kind != "b" else st.booleans())
            )
        elif np.dtype(dtype).kind == "U":
            arrays[key] = draw(hnp.arrays(dtype, shape, elements=st.text(max_size=3)))
        else:
            arrays[key] = draw(
                hnp.arrays(
                    dtype,
                    shape,
                    elements=st.floats(-50, 50, allow_nan=False, width=32)
                    | st.sampled_from([math.nan, math.inf, 6.7, 0.0]),
                )
            )
    return arrays


def _npz_bytes(arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@fuzz(250)
@given(arrays=md17_arrays(), cut=st.one_of(st.none(), st.integers(0, 400)), molecule=st.sampled_from([None, "ethanol"]))
def test_fuzz_md17_npz(arrays, cut, molecule):
    raw = _npz_bytes(arrays)
    if cut is not None:
        raw = raw[:cut]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "md17_fuzz.npz"
        path.write_bytes(raw)
        try:
            data = read_md17_npz(path, molecule)
        except DataFormatError as exc:
            assert "md17_fuzz.npz" in str(exc)
            return
        assert data["R"].shape == (len(data["E"]), len(data["z"]), 3) == data["F"].shape and data["z"].dtype == np.int64
        try:
            dataset, _ = load_md17("ethanol", source="md17", path=path)
        except DataFormatError:  # InvalidMoleculeError included: NaN, unknown elements, overlapping atoms
            return
        for i in range(len(dataset)):
            item = dataset[i]
            assert torch.isfinite(item["positions"]).all() and torch.isfinite(item["energy"]).all()


# --- checkpoints ----------------------------------------------------------------------------------------------
TINY = {"num_cg_levels": 1, "num_channels": 2, "maxl": 1, "max_sh": 1}


@pytest.fixture(scope="module")
def checkpoint_payload():
    torch.manual_seed(0)
    model = Cormorant.from_preset("md17", **TINY)
    return {
        "format": "cormorant_lab/2",
        "model_config": model.config,
        "model_state": model.state_dict(),
        "metadata": {"task": {"dataset": "md17"}, "units": {"target": "energy"}},
    }


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats()
    | st.text(max_size=6)
    | st.builds(lambda n: torch.zeros(n), st.integers(0, 3)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_checkpoint(draw, base):
    payload = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(["format", "model_config", "model_state", "metadata", "top"]))
        if section == "top":
            payload = draw(PLAIN)
            break
        if section == "format":
            payload["format"] = draw(
                st.sampled_from(["cormorant_lab/1", "cormorant_lab/3", "cormorant_lab/x", None, 2])
            )
        elif section == "model_config":
            key = draw(st.sampled_from(sorted(payload["model_config"]) + ["bogus"]))
            payload["model_config"][key] = draw(PLAIN | st.integers(-2, 3))
        elif section == "model_state":
            key = draw(st.sampled_from(sorted(payload["model_state"])))
            payload["model_state"][key] = draw(
                PLAIN | st.builds(lambda s: torch.ones(s), st.lists(st.integers(0, 3), max_size=2))
            )
        else:
            payload["metadata"] = draw(PLAIN)
    return payload


@fuzz(120)
@given(data=st.data(), cut=st.one_of(st.none(), st.none(), st.integers(0, 3000)), noise=st.binary(max_size=64))
def test_fuzz_checkpoints(checkpoint_payload, data, cut, noise):
    payload = data.draw(mutated_checkpoint(checkpoint_payload))
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    raw = buffer.getvalue()
    if cut is not None:
        raw = raw[:cut] + noise
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.pt"
        path.write_bytes(raw)
        try:
            model = load_model(path)
        except CheckpointError as exc:
            assert "fuzz.pt" in str(exc)
            return
        assert isinstance(model, Cormorant) and isinstance(read_checkpoint(path), dict)


# --- model inputs ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return Cormorant.from_preset(
        "qm9", dtype=torch.float64, num_cg_levels=1, num_channels=2, maxl=1, max_sh=1, mlp_width=8, num_mixed=4
    )


COORDINATES = st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([math.nan, math.inf, -math.inf, 1e300, 0.0])


@st.composite
def model_inputs(draw):
    batch, atoms = draw(st.integers(0, 3)), draw(st.integers(0, 6))
    shape = (batch, atoms, 3) if draw(st.integers(0, 6)) else tuple(draw(st.lists(st.integers(0, 3), max_size=4)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.complex64, np.bool_, "U2"]))
    if np.dtype(dtype).kind == "f":
        positions = draw(
            hnp.arrays(
                dtype,
                shape,
                elements=COORDINATES.map(lambda x: float(np.dtype(dtype).type(x)))
                if np.dtype(dtype) != np.float16
                else st.floats(-100, 100, width=16),
            )
        )
    elif np.dtype(dtype).kind == "U":
        positions = np.full(shape, "1")
    else:
        positions = np.zeros(shape, dtype=dtype)
    charge_shape = shape[:2] if draw(st.integers(0, 6)) else tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    charge_dtype = draw(st.sampled_from([np.int64, np.int64, np.int32, np.uint8, np.float64, np.bool_]))
    charges = draw(
        hnp.arrays(
            charge_dtype,
            charge_shape,
            elements=st.sampled_from([0, 0, 1, 6, 7, 8, 9, 2, 92])
            if np.dtype(charge_dtype).kind in "iuf"
            else st.booleans(),
        )
    )
    if draw(st.booleans()):
        positions = torch.from_numpy(np.ascontiguousarray(positions)) if np.dtype(dtype).kind != "U" else positions
        charges = torch.from_numpy(np.ascontiguousarray(charges))
    return positions, charges


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # casting 1e300 to float32 (then refused)
@fuzz(150)
@given(model_inputs())
def test_fuzz_model_inputs(small_model, inputs):
    positions, charges = inputs
    try:
        output = small_model(positions, charges)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    assert output.shape == (np.shape(positions)[0],) and output.dtype == torch.float64
    assert torch.isfinite(output).all(), (
        positions,
        charges,
        output,
    )  # accepted inputs (|x| <= 1e6 Å) give finite energies
