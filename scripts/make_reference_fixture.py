"""Run the reference implementation (risilab/cormorant) and save its weights, inputs and outputs as a test fixture.

The reference's code is never part of this repository. Fetch and run it from outside, e.g.::

    git clone https://github.com/risilab/cormorant /tmp/cormorant_ref      # runs unmodified on torch 2.x
    python -W ignore scripts/make_reference_fixture.py --reference /tmp/cormorant_ref/src

(``-W ignore`` silences its SyntaxWarnings; ``scipy`` is its only extra dependency.) The script

1. builds ``CormorantQM9`` and ``CormorantMD17`` at small channel counts (so the fixture stays small), perturbs
   their initial weights (so no two channels are alike), and runs them in float64 and float32 on real geometries:
   QM9 molecules (``qm9pack``) and frames of the bundled trajectories (``data/``), padded into one batch;
2. computes the reference's forces by autograd (NaN wherever two positions coincide: the self pair r = 0
   enters ``r^-k``) and by central finite differences of its float64 energy (finite everywhere), the oracle for
   our forces;
3. writes ``cormorant_lab/nn/reference/data/reference_fixture.npz`` — package data, so it ships in the wheel and
   ``cormorant_lab.nn.reference.load_reference_fixture`` reads it — with weights as float32 (exact in both dtypes)
   under the reference's names, prefixed ``qm9/`` or ``md17/``;
4. with ``--check``, loads the weights into ``cormorant_lab.nn.from_reference`` and prints the relative
   differences, also for the **default-size** presets (211,452 and 62,525 parameters), which are not stored.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "cormorant_lab" / "nn" / "reference" / "data" / "reference_fixture.npz"
SMALL = {"qm9": {"num_cg_levels": 2, "num_channels": 3}, "md17": {"num_cg_levels": 3, "num_channels": 4}}
SPECIES = {"qm9": [1, 6, 7, 8, 9], "md17": [1, 6, 7, 8]}
TRAJECTORIES = ["ethanol", "malonaldehyde", "uracil", "aspirin"]


def reference_model(preset: str, dtype: torch.dtype, **small):
    """A reference ``CormorantQM9``/``CormorantMD17`` with the reference's command-line defaults (``engine/args.py``)."""
    from cormorant_lab.nn.reference import reference_implementation_model

    return reference_implementation_model(preset, SPECIES[preset], dtype=dtype, **small)


def reference_inputs(positions: np.ndarray, charges: np.ndarray, species: list[int], dtype: torch.dtype) -> dict:
    from cormorant_lab.nn.reference import reference_implementation_inputs

    return reference_implementation_inputs(torch.tensor(positions), torch.tensor(charges), species, dtype)


def molecules(preset: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """QM9 molecules and trajectory frames the preset knows, padded into one batch: positions, charges, names."""
    sys.path.insert(0, str(ROOT))
    from cormorant_lab.data import bundled_path
    from cormorant_lab.data._qm9pack import iter_qm9pack_rows, parse_qm9pack_row, qm9pack_data_dir

    found, names = [], []
    wanted = {1, 30, 100, 1000, 5000, 20000} if preset == "qm9" else {1, 30, 100, 1000}
    for path, line, row in iter_qm9pack_rows(qm9pack_data_dir()):
        if int(row["Index"]) in wanted:
            record = parse_qm9pack_row(row, file=path, line=line)
            if set(record["charges"].tolist()) <= set(SPECIES[preset]):
                found.append((record["positions"], record["charges"]))
                names.append(f"qm9:{record['index']}")
        if len(found) == len(wanted) or int(row["Index"]) > max(wanted):
            break
    for name in TRAJECTORIES:
        data = np.load(bundled_path(name))
        for frame in (7, 4321):
            found.append((data["R"][frame], data["z"]))
            names.append(f"{name}:{frame}")
    atoms = max(len(c) for _, c in found)
    positions = np.zeros((len(found), atoms, 3))
    charges = np.zeros((len(found), atoms), dtype=np.int64)
    for k, (r, z) in enumerate(found):
        positions[k, : len(z)], charges[k, : len(z)] = r, z
    return positions, charges, names


def perturb(model, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator, dtype=p.dtype))


def energies_and_forces(model, inputs: dict) -> tuple[np.ndarray, np.ndarray]:
    positions = inputs["positions"].clone().requires_grad_(True)
    energy = model({**inputs, "positions": positions})
    (gradient,) = torch.autograd.grad(energy.sum(), positions)
    return energy.detach().numpy(), -gradient.numpy()


def finite_difference_forces(model, inputs: dict, step: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """-dE/dr by central differences (float64), every coordinate of every molecule at once (molecules are independent).

    Also returns where the two one-sided differences disagree by more than 1e-4 of the largest force: a kink of a
    LeakyReLU within ``step`` of the geometry, where no difference quotient is a derivative.
    """
    positions = inputs["positions"]
    forces, kinks = torch.zeros_like(positions), torch.zeros_like(positions, dtype=torch.bool)
    with torch.no_grad():
        center = model(inputs)
        spread = torch.zeros_like(positions)
        for atom, axis in itertools.product(range(positions.shape[1]), range(3)):
            shift = torch.zeros_like(positions)
            shift[:, atom, axis] = step
            plus = model({**inputs, "positions": positions + shift})
            minus = model({**inputs, "positions": positions - shift})
            forces[:, atom, axis] = -(plus - minus) / (2 * step)
            spread[:, atom, axis] = ((plus - center) - (center - minus)).abs() / step
        kinks = spread > 1e-4 * forces.abs().max()
    mask = inputs["atom_mask"].unsqueeze(-1)
    return (forces * mask).numpy(), (kinks & mask).numpy()


def make(preset: str, seed: int) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    model = reference_model(preset, torch.float32, **SMALL[preset])
    perturb(model, seed + 1)
    weights = {name: t.detach().clone() for name, t in model.state_dict().items()}
    positions, charges, names = molecules(preset)
    out = {f"{preset}/weights/{name}": t.numpy() for name, t in weights.items()}
    out[f"{preset}/positions"], out[f"{preset}/charges"] = positions, charges
    out[f"{preset}/names"] = np.array(names)
    for dtype, tag in ((torch.float64, "float64"), (torch.float32, "float32")):
        model = reference_model(preset, dtype, **SMALL[preset])
        model.load_state_dict({k: v.to(dtype) for k, v in weights.items()})
        inputs = reference_inputs(positions, charges, SPECIES[preset], dtype)
        energy, forces = energies_and_forces(model, inputs)
        out[f"{preset}/energy_{tag}"], out[f"{preset}/forces_autograd_{tag}"] = energy, forces
        if dtype == torch.float64:
            out[f"{preset}/forces_fd_float64"], out[f"{preset}/forces_fd_kinks"] = finite_difference_forces(
                model, inputs
            )
    out[f"{preset}/config"] = np.array(json.dumps(SMALL[preset]))
    return out


def check(fixture: dict[str, np.ndarray]) -> None:
    """Our reference mode against the reference: the fixture's small models, then the default-size presets."""
    sys.path.insert(0, str(ROOT))
    from cormorant_lab.nn import Cormorant, from_reference

    def relative(a, b):
        return float(np.abs(a - b).max() / np.abs(b).max())

    for preset in ("qm9", "md17"):
        prefix = f"{preset}/weights/"
        state = {k[len(prefix) :]: torch.from_numpy(v) for k, v in fixture.items() if k.startswith(prefix)}
        for tag, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            ours = from_reference(state, preset, dtype=dtype, **SMALL[preset])
            energy = ours(
                torch.tensor(fixture[f"{preset}/positions"], dtype=dtype), torch.tensor(fixture[f"{preset}/charges"])
            )
            difference = relative(energy.detach().numpy(), fixture[f"{preset}/energy_{tag}"])
            print(f"{preset} small {tag}: max relative energy difference {difference:.2e}")
        torch.manual_seed(0)
        weights = reference_model(preset, torch.float32)
        perturb(weights, 3)
        weights = weights.state_dict()  # float32: exact in both dtypes
        results = {}
        for dtype, tag in ((torch.float64, "float64"), (torch.float32, "float32")):
            reference = reference_model(preset, dtype)
            reference.load_state_dict({k: v.to(dtype) for k, v in weights.items()})
            ours = from_reference(reference.state_dict(), preset)
            count = sum(p.numel() for p in reference.parameters())
            inputs = reference_inputs(
                fixture[f"{preset}/positions"], fixture[f"{preset}/charges"], SPECIES[preset], dtype
            )
            with torch.no_grad():
                theirs = reference(inputs).double().numpy()
                mine = ours(inputs["positions"], torch.tensor(fixture[f"{preset}/charges"])).double().numpy()
            results[tag] = theirs
            print(
                f"{preset} default size ({count} parameters, ours {sum(p.numel() for p in ours.parameters())}) {tag}: "
                f"max relative energy difference {relative(mine, theirs):.2e}"
            )
        print(
            f"{preset} default size: the reference's own float32 vs its float64: {relative(results['float32'], results['float64']):.2e}"
        )
        assert isinstance(Cormorant.from_preset(preset, reference=True), Cormorant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--reference", default="/tmp/cormorant_ref/src", help="the reference's src/ folder (default: %(default)s)"
    )
    parser.add_argument("--output", default=str(FIXTURE))
    parser.add_argument(
        "--check", action="store_true", help="compare cormorant_lab's reference mode and print the figures"
    )
    parser.add_argument("--check-only", action="store_true", help="only --check, against the existing fixture")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    torch.set_num_threads(1)
    if args.check_only:
        with np.load(args.output) as stored:
            check(dict(stored))
        return
    fixture = {}
    for preset in ("qm9", "md17"):
        fixture.update(make(preset, args.seed))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **fixture)
    print(f"wrote {args.output} ({Path(args.output).stat().st_size / 1024:.0f} KiB)")
    if args.check:
        check(fixture)


if __name__ == "__main__":
    main()
