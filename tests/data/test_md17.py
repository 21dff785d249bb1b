"""MD-17 / rMD17 layouts, writing, bad frames, splits and the bundled GFN2-xTB trajectories."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cormorant_lab.data import (
    BUNDLED_MOLECULES,
    DataFormatError,
    InvalidMoleculeError,
    _md17,
    load_md17,
    md17_splits,
    read_md17_npz,
    write_md17_npz,
)


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_both_layouts_read_the_same(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(12)
    md17 = _save(tmp_path / "md17.npz", E=E[:, None], F=F, R=R, z=z.astype(np.uint8))
    rmd17 = _save(tmp_path / "rmd17.npz", nuclear_charges=z, coords=R, energies=E, forces=F)
    a, b = read_md17_npz(md17), read_md17_npz(rmd17)
    for key in "zRFE":
        np.testing.assert_array_equal(a[key], b[key])
    assert a["z"].dtype == np.int64 and a["E"].shape == (12,)


def test_local_path_dataset_items(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(12)
    path = _save(tmp_path / "md17_ethanol.npz", E=E[:, None], F=F, R=R, z=z)
    dataset, metadata = load_md17("ethanol", source="md17", path=path)
    assert len(dataset) == 12 and metadata["n_atoms"] == 9 and metadata["skipped"] == 0
    item = dataset[5]
    assert item["charges"].tolist() == z.tolist()
    np.testing.assert_array_equal(item["positions"].numpy(), R[5])
    np.testing.assert_array_equal(item["forces"].numpy(), F[5])
    assert item["energy"].item() == E[5] and item["index"].item() == 5
    assert metadata["units"] == {"energy": "kcal/mol", "forces": "kcal/mol/Å", "positions": "Å"}


def test_write_then_read_round_trip(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(7)
    path = write_md17_npz(tmp_path / "out.npz", z, R, E, F, {"theory": "harmonic", "temperature_K": 500.0})
    raw = np.load(path)
    assert raw["E"].shape == (7, 1)  # MD-17's own layout
    data = read_md17_npz(path)
    np.testing.assert_array_equal(data["R"], R)
    assert str(data["theory"]) == "harmonic" and float(data["temperature_K"]) == 500.0


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(E=np.zeros((3, 1)), R=np.zeros((3, 2, 3)), z=np.ones(2)), "neither the MD-17 keys"),
        (dict(E=np.zeros((3, 1)), F=np.zeros((3, 2, 3)), R=np.zeros((3, 3, 3)), z=np.ones(2)), "R has shape"),
        (dict(E=np.zeros((4, 1)), F=np.zeros((3, 2, 3)), R=np.zeros((3, 2, 3)), z=np.ones(2)), "E has shape"),
        (dict(E=np.zeros((3, 1)), F=np.zeros((3, 2, 2)), R=np.zeros((3, 2, 3)), z=np.ones(2)), "F has shape"),
    ],
)
def test_malformed_npz_names_file_and_molecule(tmp_path, arrays, message):
    path = _save(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataFormatError, match=message) as info:
        read_md17_npz(path, "ethanol")
    assert str(path) in str(info.value) and "molecule ethanol" in str(info.value)


def test_truncated_npz_names_the_file(tmp_path, md17_helpers):
    path = tmp_path / "md17_ethanol.npz"
    path.write_bytes(md17_helpers.md17_npz_bytes()[:3000])
    with pytest.raises(DataFormatError, match="md17_ethanol.npz"):
        load_md17("ethanol", source="md17", path=path)


def _with_bad_frames(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(20)
    R[3, 2, 1] = np.nan
    R[11, 4] = R[11, 0] + 0.05  # two atoms 0.05 Å apart
    F[15, 0, 0] = np.inf
    return _save(tmp_path / "md17_ethanol.npz", E=E[:, None], F=F, R=R, z=z)


def test_bad_frames_raise_with_frame_and_atom(tmp_path, md17_helpers):
    path = _with_bad_frames(tmp_path, md17_helpers)
    with pytest.raises(InvalidMoleculeError, match=r"frame 3, atom 2: non-finite coordinate \(3 invalid frames"):
        load_md17("ethanol", source="md17", path=path)


def test_bad_frames_skipped_with_a_count(tmp_path, md17_helpers):
    path = _with_bad_frames(tmp_path, md17_helpers)
    with pytest.warns(UserWarning, match="skipped 3 invalid frames"):
        dataset, metadata = load_md17("ethanol", source="md17", path=path, on_invalid="skip")
    assert metadata["skipped"] == 3 and len(dataset) == 17
    assert {3, 11, 15}.isdisjoint(dataset.index.tolist())


def test_unknown_element_and_close_atoms_reasons(md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(4)
    bad, reasons = _md17.invalid_frames(np.array([1, 200, *z[2:]]), R)
    assert bad.all() and "unknown element with atomic number 200" in reasons[0]
    R[2, 1] = R[2, 0]
    bad, reasons = _md17.invalid_frames(z, R)
    assert bad.tolist() == [False, False, True, False] and "atoms 0 and 1 are 0.0000 Å apart" in reasons[0]


def test_write_refuses_invalid_frames(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(4)
    E[1] = np.nan
    with pytest.raises(InvalidMoleculeError, match="frame 1: non-finite energy"):
        write_md17_npz(tmp_path / "x.npz", z, R, E, F)
    assert not (tmp_path / "x.npz").exists()


def test_unknown_source_and_molecule():
    with pytest.raises(ValueError, match="source must be"):
        load_md17("ethanol", source="md22")
    with pytest.raises(ValueError, match="no bundled trajectory for 'benzene'"):
        load_md17("benzene")
    with pytest.raises(ValueError, match="unknown rMD17 molecule"):
        load_md17("water", source="rmd17")


def test_md17_splits():
    splits = md17_splits(100_000)
    assert {k: len(v) for k, v in splits.items()} == {"train": 50_000, "valid": 10_000, "test": 10_000}
    assert len(np.unique(np.concatenate(list(splits.values())))) == 70_000
    small = md17_splits(100_000, n_train=1000)
    np.testing.assert_array_equal(small["train"], splits["train"][:1000])
    np.testing.assert_array_equal(small["test"], splits["test"])
    with pytest.raises(ValueError, match="exceeds"):
        md17_splits(5000)


# ---------------------------------------------------------------- the bundled trajectories


@pytest.mark.parametrize("molecule", BUNDLED_MOLECULES)
def test_bundled_trajectory(molecule):
    if not _md17.bundled_path(molecule).exists():
        pytest.fail(f"bundled file {_md17.bundled_path(molecule)} is missing; run scripts/generate_md_trajectories.py")
    dataset, metadata = load_md17(molecule)
    assert len(dataset) >= 2000 and metadata["skipped"] == 0
    assert metadata["temperature_K"] == 500.0 and metadata["timestep_fs"] == 0.5
    assert metadata["method"] == "GFN2-xTB" and metadata["energy_unit"] == "kcal/mol"
    assert {"seed", "tblite_version", "generator_version", "save_every_steps"} <= set(metadata)
    raw = read_md17_npz(_md17.bundled_path(molecule))
    # Forces are -dE/dR of an isolated molecule: they sum to zero (no external field).
    assert np.abs(raw["F"].sum(axis=1)).max() < 1e-6
    # 500 K: energy fluctuates by a few kcal/mol (MD-17's 500 K sets: 2-6 kcal/mol), bonds stay intact.
    assert 0.5 < raw["E"].std() < 15.0
    assert np.linalg.norm(raw["R"][:, :, None] - raw["R"][:, None], axis=-1).max() < 12.0
    # Equipartition: <sum F^2> is finite and molecules are not frozen (positions move between frames).
    assert np.abs(np.diff(raw["R"], axis=0)).mean() > 1e-3


def test_bundled_data_is_small():
    total = sum(p.stat().st_size for p in _md17.bundled_data_dir().glob("*") if p.is_file())
    assert total < 25 * 2**20


@pytest.mark.skipif(importlib.util.find_spec("tblite") is None, reason="tblite (the datagen extra) is not installed")
def test_generator_reproduces_the_first_frames(tmp_path):
    """Regenerate ethanol's first frames from the recorded seed and compare with the bundled file."""
    bundled = read_md17_npz(_md17.bundled_path("ethanol"))
    script = Path(__file__).resolve().parents[2] / "scripts" / "generate_md_trajectories.py"
    args = ["ethanol", "--frames", "3", "--out", str(tmp_path), "--seed", str(int(bundled["seed"]))]
    args += [
        "--save-every",
        str(int(bundled["save_every_steps"])),
        "--equilibration",
        str(int(bundled["equilibration_steps"])),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: the bundled files were made so
    subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True, timeout=300, env=env)
    fresh = read_md17_npz(tmp_path / "gfn2xtb_ethanol.npz")
    np.testing.assert_allclose(fresh["R"], bundled["R"][:3], rtol=0, atol=1e-8)
    np.testing.assert_allclose(fresh["E"], bundled["E"][:3], rtol=0, atol=1e-6)
