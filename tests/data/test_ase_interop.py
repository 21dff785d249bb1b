"""Records to and from ase.Atoms, and any file ASE reads into a dataset."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
import torch
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator

from cormorant_lab.data import (
    EV_TO_KCAL_PER_MOL,
    InvalidMoleculeError,
    MoleculeDataset,
    collate_molecules,
    from_ase_atoms,
    load_md17,
    make_dataloader,
    to_ase_atoms,
)


def test_round_trip_keeps_structure_and_converts_energy_units():
    atoms = molecule("CH3CH2OH")
    forces = np.random.default_rng(0).normal(size=(len(atoms), 3))
    atoms.calc = SinglePointCalculator(atoms, energy=-10.0, forces=forces)
    record = from_ase_atoms(atoms, energy_unit="kcal/mol", calc_energy_unit="eV")
    assert record["charges"].dtype == torch.int64 and record["positions"].dtype == torch.float64
    assert record["energy"].item() == pytest.approx(-10.0 * EV_TO_KCAL_PER_MOL)
    back = to_ase_atoms(record, energy_unit="kcal/mol")
    assert back.get_chemical_symbols() == atoms.get_chemical_symbols()
    np.testing.assert_array_equal(back.positions, atoms.positions)
    assert back.get_potential_energy() == pytest.approx(-10.0, abs=1e-12)
    np.testing.assert_allclose(back.get_forces(), forces, atol=1e-12)


def test_padding_is_dropped_and_extras_kept():
    batch = collate_molecules(
        [
            {"charges": torch.tensor([8, 1, 1]), "positions": torch.eye(3), "mu": torch.tensor(1.85)},
            {"charges": torch.tensor([1, 1]), "positions": torch.eye(3)[:2] * 0.74, "mu": torch.tensor(0.0)},
        ]
    )
    record = {key: value[1] for key, value in batch.items()}
    atoms = to_ase_atoms(record)
    assert atoms.get_chemical_symbols() == ["H", "H"] and atoms.info["mu"] == 0.0


def test_md17_frame_to_ase(tmp_path, md17_helpers):
    z, R, E, F = md17_helpers.harmonic_trajectory(5)
    np.savez(tmp_path / "md17_ethanol.npz", E=E[:, None], F=F, R=R, z=z)
    dataset, metadata = load_md17("ethanol", source="md17", path=tmp_path / "md17_ethanol.npz")
    atoms = to_ase_atoms(dataset[2], energy_unit=metadata["units"]["energy"])
    assert atoms.get_potential_energy() == pytest.approx(E[2] / EV_TO_KCAL_PER_MOL)
    assert atoms.info["index"] == 2


def test_any_file_ase_reads_becomes_a_dataset(tmp_path):
    frames = [molecule(name) for name in ("H2O", "CH4", "NH3")]
    for i, atoms in enumerate(frames):
        atoms.info["U0"] = -float(i)
    ase.io.write(tmp_path / "molecules.xyz", frames, format="extxyz")
    records = [from_ase_atoms(a) for a in ase.io.read(tmp_path / "molecules.xyz", index=":")]
    dataset = MoleculeDataset.from_records(records)
    assert len(dataset) == 3 and dataset.target_names == ["U0"]
    batch = next(iter(make_dataloader(dataset, batch_size=3, shuffle=False)))
    assert batch["charges"].tolist() == [[8, 1, 1, 0, 0], [6, 1, 1, 1, 1], [7, 1, 1, 1, 0]]


def test_invalid_atoms_are_rejected():
    atoms = molecule("H2O")
    atoms.positions[2] = atoms.positions[0] + [0.0, 0.0, 0.05]
    with pytest.raises(InvalidMoleculeError, match="atoms 0 and 2"):
        from_ase_atoms(atoms)
    atoms = molecule("H2O")
    atoms.positions[1, 0] = np.nan
    with pytest.raises(InvalidMoleculeError, match="non-finite"):
        from_ase_atoms(atoms)
    with pytest.raises(ValueError, match="unknown energy unit"):
        to_ase_atoms({"charges": torch.tensor([1]), "positions": torch.zeros(1, 3), "energy": 1.0}, energy_unit="erg")
