"""The loop a researcher runs on their own data: ``cormorant-lab train --data FILE`` → ``Cormorant.load`` →
``.predict`` → MD in ASE with ``CormorantCalculator``, with the energy unit carried through every step."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.emt import EMT
from ase.md.verlet import VelocityVerlet
from ase.units import fs

from cormorant_lab.cli import main
from cormorant_lab.data import EV_TO_KCAL_PER_MOL
from cormorant_lab.nn import Cormorant
from cormorant_lab.train import CormorantCalculator, read_checkpoint

TINY = ["--num-cg-levels", "1", "--num-channels", "2", "--maxl", "1", "--max-sh", "1"]
WATER = np.array([[0.0, 0.0, 0.119262], [0.0, 0.763239, -0.477047], [0.0, -0.763239, -0.477047]])


def _write_emt_water_in_kcal_per_mol(path, n=40):
    """NequIP-style extended XYZ (``energy``/``forces``) of jiggled water; EMT's eV numbers written in kcal/mol."""
    rng = np.random.default_rng(0)
    lines, energies = [], []
    for _ in range(n):
        atoms = Atoms("OH2", WATER + rng.normal(scale=0.05, size=(3, 3)))
        atoms.calc = EMT()
        energy, forces = atoms.get_potential_energy() * EV_TO_KCAL_PER_MOL, atoms.get_forces() * EV_TO_KCAL_PER_MOL
        energies.append(energy)
        lines += ["3", f'Properties=species:S:1:pos:R:3:forces:R:3 energy={float(energy)!r} pbc="F F F"']
        lines += [
            " ".join([s, *(repr(float(x)) for x in (*r, *f))])
            for s, r, f in zip(atoms.get_chemical_symbols(), atoms.positions, forces, strict=True)
        ]
    path.write_text("\n".join(lines) + "\n")
    return np.array(energies)


def test_train_on_your_own_file_then_predict_and_run_md(tmp_path, capsys):
    data = tmp_path / "water.xyz"
    energies = _write_emt_water_in_kcal_per_mol(data)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--energy-unit",
                "kcal/mol",
                "--split-fractions",
                "0.5",
                "0.25",
                "0.25",
                "--epochs",
                "2",
                "--batch-size",
                "10",
                "--output",
                str(out),
                "--no-progress",
                "--threads",
                "1",
                *TINY,
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "test (10 molecules, best-on-validation model): energy MAE" in printed
    assert "kcal/mol," in printed and "kcal/mol/Å" in printed
    task = read_checkpoint(out / "best.pt")["metadata"]["task"]
    assert (
        task["dataset"] == "file"
        and task["energy_unit"] == "kcal/mol"
        and (task["n_train"], task["n_test"]) == (20, 10)
    )

    assert main(["evaluate", str(out / "best.pt"), "--split", "test"]) == 0
    assert "kcal/mol/Å" in capsys.readouterr().out

    model = Cormorant.load(out / "best.pt")
    atoms = Atoms("OH2", WATER)
    predicted = float(model.predict(atoms).reshape(()))
    # Standardization puts an untrained-ish model near the training mean, in the file's unit (kcal/mol, not eV).
    assert abs(predicted - energies.mean()) < 5 * energies.std() + 1.0

    atoms.calc = CormorantCalculator(model)
    assert atoms.get_potential_energy() == pytest.approx(predicted / EV_TO_KCAL_PER_MOL, rel=1e-5)
    start = atoms.positions.copy()
    VelocityVerlet(atoms, 0.25 * fs).run(5)
    assert np.isfinite(atoms.positions).all() and np.isfinite(atoms.get_forces()).all()
    assert not np.allclose(atoms.positions, start)


def test_data_without_energy_unit_is_refused(tmp_path, capsys):
    data = tmp_path / "water.xyz"
    _write_emt_water_in_kcal_per_mol(data, n=4)
    assert main(["train", "--data", str(data), "--output", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "--energy-unit" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--energy-unit",
                "kJ/mol",
                "--output",
                str(tmp_path / "run"),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "unknown energy_unit 'kJ/mol'" in capsys.readouterr().err
