#!/usr/bin/env python
"""Generate the bundled MD-17-style trajectories in ``cormorant_lab/data/bundled/`` (GFN2-xTB, Langevin dynamics at 500 K).

MD-17 (Chmiela et al., Sci. Adv. 2017) sampled small molecules by ab initio molecular dynamics
at 500 K. We do the same with a semi-empirical method anyone can install from PyPI: GFN2-xTB
(Bannwarth, Ehlert & Grimme, JCTC 2019) through ``tblite``'s ASE calculator, driven by ASE's
Langevin integrator. Each molecule is first relaxed (BFGS), given Maxwell-Boltzmann velocities
at 500 K, equilibrated, and then a frame is saved every ``--save-every`` steps. The dynamics are
``cormorant_lab.data._generate.langevin_trajectory`` (notebook 08 labels other molecules with it).

Output: ``cormorant_lab/data/bundled/gfn2xtb_<molecule>.npz`` in the MD-17 layout: ``z`` (atoms,), ``R`` (frames,
atoms, 3) in Å, ``E`` (frames, 1) in kcal/mol, ``F`` (frames, atoms, 3) in kcal/mol/Å, plus
provenance keys (method, versions, seed, temperature, timestep, friction, save interval).
Energies are tblite's total energies (eV) times ``EV_TO_KCAL_PER_MOL`` (CODATA 2018).

Reproducible from the seed: run with ``OMP_NUM_THREADS=1`` (tblite sums in a different order
with more threads) and the same tblite and ASE versions.

Usage::

    OMP_NUM_THREADS=1 python scripts/generate_md_trajectories.py            # all four molecules
    OMP_NUM_THREADS=1 python scripts/generate_md_trajectories.py ethanol --frames 100
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from ase import Atoms

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a source checkout without installing

from cormorant_lab.data import write_md17_npz  # noqa: E402
from cormorant_lab.data._generate import GFN2_XTB, gfn2xtb_calculator, langevin_trajectory  # noqa: E402

GENERATOR_VERSION = "1"
METHOD = GFN2_XTB

# Starting geometries (Å): RDKit 2026.09.1 ETKDG (randomSeed=0) + MMFF94 from the SMILES shown;
# malonaldehyde's dihedrals were set to the cis-enol with its intramolecular O-H...O bond, the
# form MD-17 samples. Written out so that regeneration needs no RDKit; BFGS relaxes them with
# GFN2-xTB before the dynamics.
START_GEOMETRIES: dict[str, tuple[str, list[tuple[str, float, float, float]]]] = {
    "ethanol": (
        "CCO",
        [
            ("C", 0.9011, -0.0750, 0.0144),
            ("C", -0.5844, -0.3678, 0.0562),
            ("O", -1.3058, 0.8221, 0.3398),
            ("H", 1.2367, 0.3507, 0.9658),
            ("H", 1.1285, 0.6626, -0.7623),
            ("H", 1.4724, -0.9854, -0.1868),
            ("H", -0.8088, -1.0977, 0.8394),
            ("H", -0.9322, -0.7699, -0.9002),
            ("H", -1.1074, 1.4606, -0.3663),
        ],
    ),
    "malonaldehyde": (
        "O=C/C=C\\O",
        [
            ("O", 2.5181, -0.1828, 0.1107),
            ("C", 1.3283, -0.3751, -0.1163),
            ("C", 0.2834, 0.6080, 0.2412),
            ("C", 0.5863, 1.7671, 0.8358),
            ("O", 1.8446, 2.1842, 1.1794),
            ("H", 0.9585, -1.2930, -0.6018),
            ("H", -0.7393, 0.3480, 0.0003),
            ("H", -0.1527, 2.5096, 1.1116),
            ("H", 2.4841, 1.4847, 0.9132),
        ],
    ),
    "uracil": (
        "O=C1C=CNC(=O)N1",
        [
            ("O", 2.6150, -0.2962, 0.0340),
            ("C", 1.3983, -0.1521, 0.0181),
            ("C", 0.4956, -1.3211, 0.0245),
            ("C", -0.8230, -1.1130, 0.0066),
            ("N", -1.3324, 0.1547, -0.0174),
            ("C", -0.5573, 1.2839, -0.0247),
            ("O", -1.0475, 2.4076, -0.0464),
            ("N", 0.7926, 1.0726, -0.0063),
            ("H", 0.9458, -2.3041, 0.0437),
            ("H", -1.5391, -1.9284, 0.0101),
            ("H", -2.3343, 0.3096, -0.0310),
            ("H", 1.3864, 1.8864, -0.0112),
        ],
    ),
    "aspirin": (
        "CC(=O)Oc1ccccc1C(=O)O",
        [
            ("C", 3.0775, 1.1828, -0.8399),
            ("C", 2.0315, 0.4613, -0.0439),
            ("O", 2.1033, 0.2459, 1.1592),
            ("O", 1.0070, 0.0691, -0.8984),
            ("C", -0.0568, -0.5332, -0.2204),
            ("C", -0.1034, -1.9310, -0.2375),
            ("C", -1.1532, -2.5938, 0.3952),
            ("C", -2.1565, -1.8626, 1.0304),
            ("C", -2.1169, -0.4643, 1.0292),
            ("C", -1.0672, 0.2193, 0.3958),
            ("C", -1.0341, 1.7053, 0.3656),
            ("O", -0.2294, 2.4107, -0.2144),
            ("O", -2.0363, 2.2586, 1.0757),
            ("H", 2.6318, 2.0426, -1.3464),
            ("H", 3.5280, 0.4996, -1.5640),
            ("H", 3.8583, 1.5462, -0.1656),
            ("H", 0.6782, -2.4997, -0.7333),
            ("H", -1.1890, -3.6806, 0.3953),
            ("H", -2.9744, -2.3803, 1.5265),
            ("H", -2.9159, 0.0821, 1.5254),
            ("H", -1.8828, 3.2222, 0.9833),
        ],
    ),
}


def start_atoms(molecule: str) -> Atoms:
    """The starting geometry of ``molecule`` as ASE Atoms (Å)."""
    _, rows = START_GEOMETRIES[molecule]
    return Atoms(symbols=[r[0] for r in rows], positions=[r[1:] for r in rows])


def calculator():
    """A fresh GFN2-xTB calculator (eV, eV/Å)."""
    return gfn2xtb_calculator()


def generate(
    molecule: str,
    *,
    n_frames: int,
    save_every: int,
    n_equilibration: int,
    seed: int,
    temperature_K: float,
    timestep_fs: float,
    friction_per_fs: float,
) -> dict[str, np.ndarray]:
    """Run the dynamics for one molecule; return z, R (Å), E (kcal/mol), F (kcal/mol/Å)."""
    # One stream per molecule, derived from the seed and the molecule's name, so that generating
    # a subset of the molecules gives the same trajectories as generating them all.
    rng = np.random.default_rng([seed, sum(map(ord, molecule))])
    return langevin_trajectory(
        start_atoms(molecule),
        n_frames=n_frames,
        save_every=save_every,
        n_equilibration=n_equilibration,
        rng=rng,
        temperature_K=temperature_K,
        timestep_fs=timestep_fs,
        friction_per_fs=friction_per_fs,
        calculator=calculator(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "molecules", nargs="*", metavar="molecule", help=f"any of {list(START_GEOMETRIES)} (default: all)"
    )
    parser.add_argument("--frames", type=int, default=5000, help="frames saved per molecule")
    parser.add_argument("--save-every", type=int, default=10, help="MD steps between saved frames")
    parser.add_argument("--equilibration", type=int, default=2000, help="MD steps before the first frame")
    parser.add_argument("--seed", type=int, default=20191208)
    parser.add_argument("--temperature", type=float, default=500.0, help="K (MD-17 used 500 K)")
    parser.add_argument("--timestep", type=float, default=0.5, help="fs (MD-17 used 0.5 fs)")
    parser.add_argument("--friction", type=float, default=0.01, help="Langevin friction, 1/fs")
    parser.add_argument("--out", type=Path, default=REPO / "cormorant_lab" / "data" / "bundled")
    args = parser.parse_args(argv)
    unknown = set(args.molecules) - set(START_GEOMETRIES)
    if unknown:
        parser.error(f"unknown molecules {sorted(unknown)}; choose from {list(START_GEOMETRIES)}")

    for molecule in args.molecules or list(START_GEOMETRIES):
        t0 = time.perf_counter()
        traj = generate(
            molecule,
            n_frames=args.frames,
            save_every=args.save_every,
            n_equilibration=args.equilibration,
            seed=args.seed,
            temperature_K=args.temperature,
            timestep_fs=args.timestep,
            friction_per_fs=args.friction,
        )
        elapsed = time.perf_counter() - t0
        smiles, _ = START_GEOMETRIES[molecule]
        metadata = {
            "name": molecule,
            "smiles": smiles,
            "theory": f"{METHOD} (tblite {version('tblite')})",
            "method": METHOD,
            "tblite_version": version("tblite"),
            "ase_version": version("ase"),
            "generator": "scripts/generate_md_trajectories.py",
            "generator_version": GENERATOR_VERSION,
            "seed": args.seed,
            "temperature_K": args.temperature,
            "timestep_fs": args.timestep,
            "friction_per_fs": args.friction,
            "save_every_steps": args.save_every,
            "equilibration_steps": args.equilibration,
            "energy_unit": "kcal/mol",
            "force_unit": "kcal/mol/Angstrom",
            "length_unit": "Angstrom",
        }
        path = write_md17_npz(
            args.out / f"gfn2xtb_{molecule}.npz", traj["z"], traj["R"], traj["E"], traj["F"], metadata
        )
        print(f"{molecule}: {args.frames} frames in {elapsed:.0f} s -> {path}", flush=True)


if __name__ == "__main__":
    main()
