"""Your own data: ``load_dataset`` on the layouts MACE, NequIP, the rMD17 release and ASE databases use.

The files are written here as text (extended XYZ exactly as MACE's and NequIP's examples look) or with numpy
(the rMD17 npz keys), so the reader is tested against the formats, not against our own writer. Every number
read back is compared with the number written, in the unit stated.
"""

from __future__ import annotations

import ase.db
import ase.io
import numpy as np
import pytest
import torch
from ase.calculators.singlepoint import SinglePointCalculator

from cormorant_lab.data import (
    EV_TO_KCAL_PER_MOL,
    DataFormatError,
    InvalidMoleculeError,
    from_ase_atoms,
    load_dataset,
    split_sizes,
)
from cormorant_lab.data._units import BOHR_TO_ANGSTROM

WATER = np.array([[0.0, 0.0, 0.119262], [0.0, 0.763239, -0.477047], [0.0, -0.763239, -0.477047]])
METHANE = np.array(
    [[0.0, 0.0, 0.0], [0.629, 0.629, 0.629], [-0.629, -0.629, 0.629], [-0.629, 0.629, -0.629], [0.629, -0.629, -0.629]]
)


def _frames(n: int = 4, seed: int = 0):
    """Alternating water and methane, jiggled; energies and forces with distinct values per frame."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        symbols, base = (["O", "H", "H"], WATER) if i % 2 == 0 else (["C", "H", "H", "H", "H"], METHANE)
        positions = base + rng.normal(scale=0.02, size=base.shape)
        out.append((symbols, positions, -1000.0 - 10.0 * i + rng.normal(), rng.normal(size=base.shape)))
    return out


def _extxyz(frames, energy_key: str, forces_key: str, extra: str = "") -> str:
    lines = []
    for symbols, positions, energy, forces in frames:
        lines.append(str(len(symbols)))
        lines.append(
            f'Properties=species:S:1:pos:R:3:{forces_key}:R:3 {energy_key}={float(energy)!r} {extra}pbc="F F F"'
        )
        for s, r, f in zip(symbols, positions, forces, strict=True):
            lines.append(" ".join([s, *(repr(float(x)) for x in (*r, *f))]))
    return "\n".join(lines) + "\n"


def _check_frames(dataset, frames, energy_scale=1.0, length_scale=1.0):
    assert len(dataset) == len(frames)
    for i, (symbols, positions, energy, forces) in enumerate(frames):
        item = dataset[i]
        assert item["charges"].tolist() == [{"O": 8, "H": 1, "C": 6}[s] for s in symbols]
        np.testing.assert_allclose(item["positions"].numpy(), positions * length_scale, rtol=0, atol=1e-12)
        assert item["energy"].item() == pytest.approx(energy * energy_scale, abs=1e-9)
        np.testing.assert_allclose(item["forces"].numpy(), forces * energy_scale / length_scale, rtol=0, atol=1e-12)
        assert item["index"].item() == i


def test_mace_layout_ref_energy_and_ref_forces(tmp_path):
    frames = _frames()
    path = tmp_path / "train.xyz"
    path.write_text(_extxyz(frames, "REF_energy", "REF_forces", extra="config_type=Default "))
    dataset, metadata = load_dataset(path, energy_unit="eV", energy_key="REF_energy", forces_key="REF_forces")
    _check_frames(dataset, frames)
    assert metadata["units"] == {"energy": "eV", "forces": "eV/Å", "positions": "Å"}
    assert metadata["has_forces"] and metadata["n_compositions"] == 2 and metadata["format"] == "extxyz"
    # The default keys are not MACE's: the error names the keys the file has and the option to use.
    with pytest.raises(DataFormatError, match=r"'energy'.*REF_energy.*--energy-key REF_energy") as error:
        load_dataset(path, energy_unit="eV")
    assert error.value.file == str(path) and error.value.molecule == 0


def test_nequip_layout_energy_and_forces_in_kcal_per_mol_are_not_rescaled(tmp_path):
    # ASE moves `energy` and `forces` into a SinglePointCalculator and calls them eV; the numbers are kcal/mol.
    frames = _frames(5, seed=1)
    path = tmp_path / "aspirin.extxyz"
    path.write_text(_extxyz(frames, "energy", "forces"))
    dataset, metadata = load_dataset(path, energy_unit="kcal/mol")
    _check_frames(dataset, frames)
    assert metadata["units"]["forces"] == "kcal/mol/Å"
    # The old silent bug: from_ase_atoms(energy_unit="kcal/mol") took these numbers for eV (x 23.06).
    atoms = ase.io.read(path, index=0)
    with pytest.raises(ValueError, match="calc_energy_unit"):
        from_ase_atoms(atoms, energy_unit="kcal/mol")
    record = from_ase_atoms(atoms, energy_unit="kcal/mol", calc_energy_unit="kcal/mol")
    assert record["energy"].item() == pytest.approx(frames[0][2], abs=1e-9)
    record = from_ase_atoms(atoms, energy_unit="eV", calc_energy_unit="kcal/mol")
    assert record["energy"].item() == pytest.approx(frames[0][2] / EV_TO_KCAL_PER_MOL, rel=1e-12)


def test_length_unit_converts_positions_and_forces(tmp_path):
    frames = [(s, r / BOHR_TO_ANGSTROM, e, f) for s, r, e, f in _frames(2)]
    path = tmp_path / "bohr.xyz"
    path.write_text(_extxyz(frames, "energy", "forces"))
    dataset, _ = load_dataset(path, energy_unit="Hartree", length_unit="bohr")
    _check_frames(dataset, frames, length_scale=BOHR_TO_ANGSTROM)


def test_rmd17_release_layout(tmp_path):
    rng = np.random.default_rng(2)
    coords = WATER + rng.normal(scale=0.02, size=(6, 3, 3))
    energies, forces = -47000.0 + rng.normal(size=6), rng.normal(size=(6, 3, 3))
    path = tmp_path / "rmd17_water.npz"
    np.savez(
        path,
        nuclear_charges=np.array([8, 1, 1]),
        coords=coords,
        energies=energies,
        forces=forces,
        old_indices=np.arange(6),
        old_energies=energies + 1,
        old_forces=forces,
    )
    dataset, metadata = load_dataset(path, energy_unit="kcal/mol")
    _check_frames(dataset, [(["O", "H", "H"], coords[i], energies[i], forces[i]) for i in range(6)])
    assert metadata["format"] == "npz" and metadata["n_compositions"] == 1


def test_npz_with_pickles_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, z=np.array([object()], dtype=object), R=np.zeros((1, 1, 3)), E=np.zeros(1), F=np.zeros((1, 1, 3)))
    with pytest.raises(DataFormatError, match="not a readable .npz"):
        load_dataset(path, energy_unit="eV")


def test_ase_database_calculator_results_and_key_value_pairs(tmp_path):
    frames = _frames(3, seed=3)
    path = tmp_path / "molecules.db"
    with ase.db.connect(path) as database:
        for symbols, positions, energy, forces in frames:
            atoms = ase.Atoms(symbols, positions)
            atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
            database.write(atoms, dft_energy=energy - 1.0, data={"dft_forces": forces * 2})
    dataset, metadata = load_dataset(path, energy_unit="eV")
    _check_frames(dataset, frames)
    shifted, _ = load_dataset(path, energy_unit="eV", energy_key="dft_energy", forces_key="dft_forces")
    _check_frames(shifted, [(s, r, e - 1.0, 2 * f) for s, r, e, f in frames])
    energies_only, metadata = load_dataset(path, energy_unit="eV", energy_key="dft_energy", forces_key=None)
    assert energies_only.atom_property_names == [] and not metadata["has_forces"]


def test_partial_forces_and_bad_structures_are_named(tmp_path):
    frames = _frames(3)
    text = _extxyz(frames[:2], "energy", "forces")
    symbols, positions, energy, _ = frames[2]
    text += f'3\nProperties=species:S:1:pos:R:3 energy={float(energy)!r} pbc="F F F"\n'
    text += "\n".join(f"{s} {r[0]} {r[1]} {r[2]}" for s, r in zip(symbols, positions, strict=True)) + "\n"
    path = tmp_path / "mixed.xyz"
    path.write_text(text)
    with pytest.raises(DataFormatError, match="structure 2 has no forces"):
        load_dataset(path, energy_unit="eV")
    clash = [(s, r.copy(), e, f) for s, r, e, f in _frames(3)]
    clash[1][1][1] = clash[1][1][0] + 0.01
    path = tmp_path / "clash.xyz"
    path.write_text(_extxyz(clash, "energy", "forces"))
    with pytest.raises(InvalidMoleculeError, match=r"molecule 1.*atoms 0 and 1.*on_invalid='skip'"):
        load_dataset(path, energy_unit="eV")
    with pytest.warns(UserWarning, match="skipped 1 invalid"):
        dataset, metadata = load_dataset(path, energy_unit="eV", on_invalid="skip")
    assert len(dataset) == 2 and metadata["skipped"] == 1 and dataset.index.tolist() == [0, 2]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(energy_unit="kJ/mol"), ValueError, "unknown energy_unit 'kJ/mol'; choose one of eV"),
        (dict(energy_unit="eV", length_unit="pm"), ValueError, "unknown length_unit 'pm'"),
        (dict(energy_unit="eV", format="cif"), ValueError, "unsupported format 'cif'"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, message):
    path = tmp_path / "a.xyz"
    path.write_text(_extxyz(_frames(1), "energy", "forces"))
    with pytest.raises(error, match=message):
        load_dataset(path, **kwargs)


def test_unknown_suffix_and_missing_file(tmp_path):
    path = tmp_path / "a.pdb"
    path.write_text("")
    with pytest.raises(DataFormatError, match=r"suffix '\.pdb'"):
        load_dataset(path, energy_unit="eV")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_dataset(tmp_path / "missing.xyz", energy_unit="eV")


def test_dataset_feeds_the_batching(tmp_path):
    from cormorant_lab.data import make_dataloader

    path = tmp_path / "a.xyz"
    path.write_text(_extxyz(_frames(4), "energy", "forces"))
    dataset, _ = load_dataset(path, energy_unit="eV", dtype=torch.float32)
    batch = next(iter(make_dataloader(dataset, batch_size=4, shuffle=False)))
    assert batch["charges"].shape == (4, 5) and batch["forces"].dtype == torch.float32


def test_split_sizes_from_counts_and_fractions():
    assert split_sizes(1000) == (800, 100, 100)
    assert split_sizes(1000, 0.8, 0.1, 100) == (800, 100, 100)
    assert split_sizes(10, 5, 2, 3) == (5, 2, 3)
    assert split_sizes(7, 0.5, 0.25, 0.25) == (3, 1, 1)  # rounds down
    with pytest.raises(ValueError, match="exceeds the 10 structures"):
        split_sizes(10, 8, 2, 1)
    with pytest.raises(ValueError, match="fraction outside"):
        split_sizes(10, 1.5)
    with pytest.raises(ValueError, match="non-negative"):
        split_sizes(10, -1)


def test_load_md17_points_to_load_dataset(tmp_path):
    from cormorant_lab.data import load_md17

    path = tmp_path / "rmd17_aspirin.xyz"
    path.write_text(_extxyz(_frames(1), "energy", "forces"))
    with pytest.raises(DataFormatError, match="load_dataset"):
        load_md17("aspirin", source="rmd17", path=path)
    with pytest.raises(ValueError, match=r"unknown MD-17 molecule 'my_ethanol'.*load_dataset"):
        load_md17("my_ethanol", source="md17", path=tmp_path / "x.npz")
