"""MD-17, revised MD-17 and the project's bundled GFN2-xTB trajectories: one loader, one layout.

Layouts read (energies in kcal/mol, forces in kcal/mol/Å, positions in Å in all three):

* MD-17 (Chmiela et al., Sci. Adv. 2017; sGDML site, ``md17_<molecule>.npz``): ``E`` (frames, 1),
  ``F`` (frames, atoms, 3), ``R`` (frames, atoms, 3), ``z`` (atoms,).
* rMD17 (Christensen & von Lilienfeld 2020, figshare 12672038, ``rmd17/npz_data/rmd17_<molecule>.npz``
  inside ``rmd17.tar.bz2``): ``energies`` (frames,), ``forces``, ``coords``, ``nuclear_charges``.
* bundled (package data in ``cormorant_lab/data/bundled/``, written by ``scripts/generate_md_trajectories.py``): the
  MD-17 layout plus provenance keys.

Splits follow the paper (50,000 train, 10,000 valid, 10,000 test from a fixed seed); see
:func:`~cormorant_lab.data.md17_splits`.
"""

from __future__ import annotations

import os
import tarfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._catalog import BUNDLED_MOLECULES, MD17_MOLECULES, RMD17_MOLECULES  # noqa: F401 (re-exported)
from ._cache import atomic_path, cache_dir, load_npz, save_npz_atomic
from ._dataset import MoleculeDataset
from ._download import RemoteFile, fetch, verify_file
from ._errors import DataFormatError, InvalidMoleculeError
from ._validation import MAX_ATOMIC_NUMBER, MIN_INTERATOMIC_DISTANCE

#: Units of every MD source.
MD17_UNITS = {"energy": "kcal/mol", "forces": "kcal/mol/Å", "positions": "Å"}

_MD17_BASE_URL = "http://www.quantum-machine.org/gdml/data/npz/"
# The sGDML site publishes no checksums and we found none in public code (torch_geometric,
# schnetpack, torchmd-net, sgdml, load-atoms all download these files unverified), so these
# entries have sha256=None and are used with an UnverifiedDownloadWarning.
_MD17_FILES = {
    "aspirin": "md17_aspirin.npz",
    "benzene": "md17_benzene2017.npz",
    "ethanol": "md17_ethanol.npz",
    "malonaldehyde": "md17_malonaldehyde.npz",
    "naphthalene": "md17_naphthalene.npz",
    "salicylic_acid": "md17_salicylic.npz",
    "toluene": "md17_toluene.npz",
    "uracil": "md17_uracil.npz",
}
MD17_REMOTE = {
    name: RemoteFile(filename, _MD17_BASE_URL + filename, size=None, sha256=None, provenance="none published")
    for name, filename in _MD17_FILES.items()
}

RMD17_ARCHIVE = RemoteFile(
    "rmd17.tar.bz2",
    "https://figshare.com/ndownloader/files/23950376",
    size=1_066_301_513,
    # Full SHA-256 and size as recorded from the figshare record 12672038 v3 in a public dataset
    # manifest (MD5 cb1a927628d96f2e966025da4fb63d18 there matches figshare's own); its first 12
    # hex digits agree with load-atoms' registry (jla-gardner/load-atoms,
    # src/load_atoms/database/importers/rmd17.py: expected_hash="cddeea2ec2c4").
    sha256="cddeea2ec2c4b22a9de16a9a65a3eeedac5b29da9c99c20bbff0153912bf922b",
    provenance="figshare 12672038 v3 metadata via a public manifest; prefix confirmed by load-atoms",
)

#: Chemical formulas (atomic number -> count) of the MD-17 / rMD17 molecules: a file given for one molecule
#: that holds another is refused instead of being labelled wrongly.
MD17_FORMULAS = {
    "aspirin": {6: 9, 1: 8, 8: 4},
    "azobenzene": {6: 12, 1: 10, 7: 2},
    "benzene": {6: 6, 1: 6},
    "ethanol": {6: 2, 1: 6, 8: 1},
    "malonaldehyde": {6: 3, 1: 4, 8: 2},
    "naphthalene": {6: 10, 1: 8},
    "paracetamol": {6: 8, 1: 9, 7: 1, 8: 2},
    "salicylic_acid": {6: 7, 1: 6, 8: 3},
    "toluene": {6: 7, 1: 8},
    "uracil": {6: 4, 1: 4, 7: 2, 8: 2},
}

_ALIASES = {"salicylic": "salicylic_acid", "salicylic acid": "salicylic_acid", "malondialdehyde": "malonaldehyde"}


def _canonical(molecule: str) -> str:
    name = molecule.strip().lower()
    return _ALIASES.get(name, name)


def _rmd17_member(molecule: str) -> str:
    stem = "salicylic" if molecule == "salicylic_acid" else molecule
    return f"rmd17/npz_data/rmd17_{stem}.npz"


def bundled_data_dir() -> Path:
    """The package folder ``cormorant_lab/data/bundled/`` holding the bundled trajectories (shipped in the wheel)."""
    return Path(__file__).resolve().parent / "bundled"


def bundled_path(molecule: str) -> Path:
    """Path of a bundled trajectory, ``cormorant_lab/data/bundled/gfn2xtb_<molecule>.npz``."""
    return bundled_data_dir() / f"gfn2xtb_{_canonical(molecule)}.npz"


def read_md17_npz(path: str | os.PathLike, molecule: str | None = None) -> dict[str, np.ndarray]:
    """Read an MD-17, rMD17 or bundled npz into ``z`` (atoms,), ``R``, ``F`` (frames, atoms, 3), ``E`` (frames,).

    Units are those of the file (kcal/mol, kcal/mol/Å, Å for all three sources). Other keys
    (provenance, ``name``, ``theory``) are returned unchanged. Raises :class:`DataFormatError`
    naming the file and molecule for a truncated file, missing keys or inconsistent shapes.
    """
    raw = load_npz(path)
    label = molecule or Path(path).stem
    if {"nuclear_charges", "coords", "energies", "forces"} <= raw.keys():
        keys = {"z": "nuclear_charges", "R": "coords", "E": "energies", "F": "forces"}
    elif {"z", "R", "E", "F"} <= raw.keys():
        keys = {"z": "z", "R": "R", "E": "E", "F": "F"}
    else:
        raise DataFormatError(
            f"neither the MD-17 keys (E, F, R, z) nor the rMD17 keys (nuclear_charges, coords, energies, "
            f"forces) are all present; found {sorted(raw)}",
            file=path,
            molecule=label,
        )
    out = {k: v for k, v in raw.items() if k not in keys.values()}
    for name in keys.values():
        if raw[name].dtype.kind not in "iuf":
            raise DataFormatError(f"{name} holds {raw[name].dtype} values, expected numbers", file=path, molecule=label)
    z_raw = np.asarray(raw[keys["z"]]).reshape(-1)
    if z_raw.dtype.kind == "f":
        fractional = np.flatnonzero(~np.isfinite(z_raw) | (z_raw != np.round(z_raw)))
        if fractional.size:
            atom = int(fractional[0])
            raise DataFormatError(
                f"{keys['z']}[{atom}] = {z_raw[atom]} is not an atomic number (an integer)",
                file=path,
                molecule=label,
                atom=atom,
            )
    z = z_raw.astype(np.int64)
    R = np.asarray(raw[keys["R"]], dtype=np.float64)
    F = np.asarray(raw[keys["F"]], dtype=np.float64)
    E = np.asarray(raw[keys["E"]], dtype=np.float64)
    n_frames = R.shape[0] if R.ndim == 3 else -1
    if R.shape != (n_frames, len(z), 3):
        raise DataFormatError(
            f"{keys['R']} has shape {R.shape}, expected (frames, {len(z)}, 3)", file=path, molecule=label
        )
    if F.shape != R.shape:
        raise DataFormatError(f"{keys['F']} has shape {F.shape}, expected {R.shape}", file=path, molecule=label)
    if E.reshape(-1).shape != (n_frames,) or E.ndim > 2:
        raise DataFormatError(
            f"{keys['E']} has shape {E.shape}, expected ({n_frames},) or ({n_frames}, 1)", file=path, molecule=label
        )
    if n_frames == 0 or len(z) == 0:
        raise DataFormatError(
            f"the trajectory holds {n_frames} frames of {len(z)} atoms; nothing to load", file=path, molecule=label
        )
    formula = MD17_FORMULAS.get(_canonical(molecule)) if molecule else None
    found = {int(k): int(v) for k, v in zip(*np.unique(z, return_counts=True), strict=False)}
    if formula is not None and found != formula:
        raise DataFormatError(
            f"the file holds {_formula(found)}, not {molecule} ({_formula(formula)})", file=path, molecule=label
        )
    out.update(z=z, R=R, F=F, E=E.reshape(-1))
    return out


def _formula(counts: Mapping[int, int]) -> str:
    from ase.data import chemical_symbols

    order = sorted(counts, key=lambda z: (z != 6, z != 1, z))  # Hill order: C, H, then by atomic number
    symbol = lambda z: chemical_symbols[z] if 0 < z < len(chemical_symbols) else f"Z{z}"  # noqa: E731
    return "".join(f"{symbol(z)}{counts[z] if counts[z] > 1 else ''}" for z in order)


def invalid_frames(
    z: np.ndarray,
    R: np.ndarray,
    F: np.ndarray | None = None,
    E: np.ndarray | None = None,
    *,
    min_distance: float = MIN_INTERATOMIC_DISTANCE,
    chunk: int = 4096,
) -> tuple[np.ndarray, list[str]]:
    """Find unusable frames of a trajectory.

    Returns a (frames,) bool mask, True for a bad frame, and one reason per bad frame
    (``"frame 12, atom 3: non-finite coordinate"``, ``"frame 7: atoms 0 and 4 are 0.05 Å apart"``).
    An unknown element makes every frame bad.
    """
    n_frames = R.shape[0]
    bad = np.zeros(n_frames, dtype=bool)
    reasons: dict[int, str] = {}
    unknown = np.flatnonzero((z < 1) | (z > MAX_ATOMIC_NUMBER))
    if unknown.size:
        reason = f"atom {unknown[0]}: unknown element with atomic number {int(z[unknown[0]])}"
        return np.ones(n_frames, dtype=bool), [f"frame {i}, {reason}" for i in range(n_frames)]
    nonfinite = ~np.isfinite(R).all(axis=2)
    for frame in np.flatnonzero(nonfinite.any(axis=1)):
        bad[frame] = True
        reasons[int(frame)] = f"frame {frame}, atom {int(np.argmax(nonfinite[frame]))}: non-finite coordinate"
    for name, values in (("forces", F), ("energy", E)):
        if values is not None:
            flat = ~np.isfinite(values.reshape(n_frames, -1)).all(axis=1)
            for frame in np.flatnonzero(flat & ~bad):
                bad[frame] = True
                reasons[int(frame)] = f"frame {frame}: non-finite {name}"
    n = len(z)
    if n > 1:
        iu = np.triu_indices(n, k=1)
        for start in range(0, n_frames, chunk):
            block = np.nan_to_num(R[start : start + chunk], nan=0.0, posinf=0.0, neginf=0.0)
            d = np.linalg.norm(block[:, iu[0]] - block[:, iu[1]], axis=-1)  # (frames, pairs)
            close = d < min_distance
            for k in np.flatnonzero(close.any(axis=1)):
                i = start + int(k)
                if bad[i]:
                    continue
                p = int(np.argmax(close[k]))
                bad[i] = True
                reasons[i] = (
                    f"frame {i}: atoms {iu[0][p]} and {iu[1][p]} are {d[k, p]:.4f} Å apart "
                    f"(closer than {min_distance} Å)"
                )
    return bad, [reasons[i] for i in sorted(reasons)]


def write_md17_npz(
    path: str | os.PathLike,
    z: np.ndarray,
    R: np.ndarray,
    E: np.ndarray,
    F: np.ndarray,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a trajectory in the MD-17 layout, atomically, after checking it.

    Args:
        z: (atoms,) atomic numbers.
        R: (frames, atoms, 3) positions in Å.
        E: (frames,) energies in kcal/mol; stored as (frames, 1) like MD-17.
        F: (frames, atoms, 3) forces (minus the energy gradient) in kcal/mol/Å.
        metadata: extra scalar entries (strings, numbers) stored beside the arrays.
    """
    z = np.asarray(z, dtype=np.int64)
    R = np.asarray(R, dtype=np.float64)
    F = np.asarray(F, dtype=np.float64)
    E = np.asarray(E, dtype=np.float64).reshape(-1, 1)
    if R.shape != (E.shape[0], len(z), 3) or F.shape != R.shape:
        raise ValueError(f"inconsistent shapes: z {z.shape}, R {R.shape}, E {E.shape}, F {F.shape}")
    bad, reasons = invalid_frames(z, R, F, E)
    if bad.any():
        raise InvalidMoleculeError(f"{int(bad.sum())} invalid frames, first: {reasons[0]}", file=path)
    arrays = {"z": z, "R": R, "E": E, "F": F}
    for key, value in (metadata or {}).items():
        arrays[key] = np.asarray(value)
    return save_npz_atomic(path, arrays)


def _extract_rmd17(archive: Path, molecule: str, target: Path) -> Path:
    member = _rmd17_member(molecule)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:  # stream: the archive is 1 GB of bzip2
                if info.name == member:
                    source = tar.extractfile(info)
                    if source is None:
                        break
                    with atomic_path(target) as tmp, open(tmp, "wb") as out:
                        while chunk := source.read(1 << 20):
                            out.write(chunk)
                    return target
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataFormatError(f"cannot read the rMD17 archive ({exc})", file=archive, molecule=molecule) from exc
    raise DataFormatError(f"archive has no member {member!r}", file=archive, molecule=molecule)


def _locate(
    molecule: str,
    source: str,
    root: str | os.PathLike | None,
    path: str | os.PathLike | None,
    download: bool,
    mirror: str | None,
    sha256: str | None = None,
) -> Path:
    if source == "bundled":
        if molecule not in BUNDLED_MOLECULES:
            raise ValueError(f"no bundled trajectory for {molecule!r}; bundled: {BUNDLED_MOLECULES}")
        file = Path(path) if path is not None else bundled_path(molecule)
        if not file.exists():
            raise FileNotFoundError(
                f"bundled trajectory {file} not found: the bundled data ship inside the package "
                "(cormorant_lab/data/bundled/); reinstall it, regenerate with scripts/generate_md_trajectories.py "
                "or pass path="
            )
        return file
    if source == "md17":
        if molecule not in MD17_REMOTE:
            raise ValueError(
                f"unknown MD-17 molecule {molecule!r}; known: {sorted(MD17_REMOTE)} "
                "(for a file of your own, use load_dataset(path, energy_unit=...))"
            )
        if path is not None:
            return Path(path)
        remote = MD17_REMOTE[molecule]
        local = cache_dir(root) / "md17" / remote.filename
        if local.exists() or download:
            return fetch(
                remote,
                local.parent,
                mirror=mirror,
                sha256=sha256,
                download=download,
                validate=lambda file: read_md17_npz(file, molecule),
            )
        raise FileNotFoundError(f"{local} not found (not downloaded yet; load_md17(..., download=True) fetches it)")
    if source == "rmd17":
        if molecule not in RMD17_MOLECULES:
            raise ValueError(f"unknown rMD17 molecule {molecule!r}; known: {RMD17_MOLECULES}")
        folder = cache_dir(root) / "rmd17"
        if path is not None and not tarfile.is_tarfile(path):
            return Path(path)  # a single rmd17_<molecule>.npz
        extracted = folder / Path(_rmd17_member(molecule)).name
        if path is None and extracted.exists():
            return extracted
        if path is not None:
            archive = Path(path)
            if archive.stat().st_size == RMD17_ARCHIVE.size:
                verify_file(archive, RMD17_ARCHIVE, delete=False)  # the user's copy: report, never delete
        elif download or (folder / RMD17_ARCHIVE.filename).exists():
            archive = fetch(RMD17_ARCHIVE, folder, mirror=mirror, sha256=sha256)
        else:
            raise FileNotFoundError(
                f"{extracted} not found (not downloaded yet; load_md17(..., download=True) fetches it)"
            )
        return _extract_rmd17(archive, molecule, extracted)
    raise ValueError(f"source must be 'bundled', 'md17' or 'rmd17', not {source!r}")


def load_md17(
    molecule: str,
    *,
    root: str | os.PathLike | None = None,
    source: str = "bundled",
    path: str | os.PathLike | None = None,
    download: bool = True,
    mirror: str | None = None,
    on_invalid: str = "raise",
    dtype: torch.dtype = torch.float64,
    sha256: str | None = None,
) -> tuple[MoleculeDataset, dict[str, Any]]:
    """Load one molecule's trajectory as a dataset of frames.

    Args:
        molecule: e.g. ``"aspirin"`` (``salicylic_acid`` also accepts ``salicylic``).
        root: cache folder (default :func:`~cormorant_lab.data.cache_dir`).
        source: ``"bundled"`` (this repository, no network), ``"md17"`` (sGDML site) or
            ``"rmd17"`` (figshare archive, verified by size and SHA-256).
        path: a local npz (any of the three layouts) or, for rMD17, the ``rmd17.tar.bz2`` archive.
        download: fetch the file into the cache if it is not there.
        mirror: base URL replacing the publisher's host (also ``CORMORANT_LAB_MIRROR``).
        on_invalid: ``"raise"`` on the first bad frame, or ``"skip"`` bad frames (counted in
            ``metadata["skipped"]`` and warned about).
        dtype: floating dtype of the returned tensors.
        sha256: pin the file's SHA-256 (the sGDML site publishes none): a download or cached file that does not
            match is deleted (:class:`ChecksumError`); a local ``path`` that does not match is refused. Without
            it, MD-17 downloads are checked for their content (keys, shapes, dtypes, the molecule's formula)
            before they enter the cache.

    Returns:
        ``(dataset, metadata)``. Items hold ``charges`` (atoms,), ``positions`` (atoms, 3) Å,
        ``energy`` () kcal/mol, ``forces`` (atoms, 3) kcal/mol/Å and ``index`` (frame number).
        ``metadata`` holds ``units``, ``source``, ``file``, ``n_frames``, ``skipped`` and any
        provenance stored in the file.
    """
    molecule = _canonical(molecule)
    if path is not None and Path(path).suffix.lower() in (".xyz", ".extxyz", ".db"):
        raise DataFormatError(
            f"load_md17 reads the npz layouts only; for an extended XYZ or ASE database use "
            f"load_dataset({os.fspath(path)!r}, energy_unit='kcal/mol')",
            file=path,
            molecule=molecule,
        )
    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid must be 'raise' or 'skip', not {on_invalid!r}")
    file = _locate(molecule, source, root, path, download, mirror, sha256)
    if sha256 is not None and path is not None and Path(path) == file:
        verify_file(file, RemoteFile(file.name, str(file), None, sha256.strip().lower(), "pinned"), delete=False)
    data = read_md17_npz(file, molecule)
    z, R, F, E = data.pop("z"), data.pop("R"), data.pop("F"), data.pop("E")
    bad, reasons = invalid_frames(z, R, F, E)
    if bad.any() and on_invalid == "raise":
        raise InvalidMoleculeError(
            f"{reasons[0]} ({int(bad.sum())} invalid frames; pass on_invalid='skip' to drop them)",
            file=file,
            molecule=molecule,
        )
    if bad.any():
        warnings.warn(
            f"{file}: skipped {int(bad.sum())} invalid frames of {molecule}; first: {reasons[0]}", stacklevel=2
        )
    keep = np.flatnonzero(~bad)
    n_frames, n_atoms = len(keep), len(z)
    metadata: dict[str, Any] = {
        key: value.item() if value.ndim == 0 else value.tolist() for key, value in data.items() if value.size < 64
    }
    metadata.update(
        name=molecule,
        source=source,
        file=str(file),
        units=dict(MD17_UNITS),
        n_frames=n_frames,
        n_atoms=n_atoms,
        skipped=int(bad.sum()),
    )
    dataset = MoleculeDataset(
        np.full(n_frames, n_atoms),
        np.tile(z, n_frames),
        R[keep].reshape(-1, 3),
        {"energy": E[keep]},
        {"forces": F[keep].reshape(-1, 3)},
        index=keep,
        metadata=metadata,
        dtype=dtype,
    )
    return dataset, metadata
