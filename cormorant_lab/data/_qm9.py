"""QM9 (GDB-9; Ramakrishnan, Dral, Rupp & von Lilienfeld, Sci. Data 1, 140022 (2014)) as the paper uses it.

Two sources give the same processed cache (``<cache>/qm9/qm9_processed_v1.npz``):

* ``"archive"``: the original ``dsgdb9nsd.xyz.tar.bz2`` from the figshare record (downloaded and
  verified, or a local copy via ``archive=``), minus the 3,054 molecules of ``uncharacterized.txt``;
* ``"qm9pack"``: the CSV files inside the ``qm9pack`` wheel, which hold the same 130,831 molecules.

The cache stores the raw numbers in the files' units; :func:`load_qm9` converts to the paper's
targets (:data:`QM9_TARGETS`) when loading: energies from Hartree to eV, with the atomic
reference energies of ``atomref.txt`` subtracted from ZPVE, U0, U, H and G (as in the paper).
"""

from __future__ import annotations

import os
import re
import tarfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from ._cache import cache_dir, load_npz, save_npz_atomic
from ._dataset import MoleculeDataset
from ._download import RemoteFile, fetch, verify_file
from ._errors import DataFormatError, InvalidMoleculeError
from ._qm9_xyz import QM9_FILE_UNITS, QM9_PROPERTY_NAMES, parse_qm9_xyz
from ._qm9pack import iter_qm9pack_rows, parse_qm9pack_row, qm9pack_data_dir
from ._units import HARTREE_TO_EV

# Sizes and SHA-256 of the three files of figshare collection 978904 that the paper used, from
# TensorFlow Datasets' registry (tensorflow/datasets, tensorflow_datasets/datasets/qm9/checksums.tsv);
# the archive's and uncharacterized.txt's agree with an independent public record that also lists
# figshare's MD5 (archive ad1ebd51ee7f5b3a6e32e974e5d54012, uncharacterized a361887bacb427b8a0ce7903d92a53b4).
QM9_ARCHIVE = RemoteFile(
    "dsgdb9nsd.xyz.tar.bz2",
    "https://figshare.com/ndownloader/files/3195389",
    size=86_144_227,
    sha256="3a63848ac80691bdb8d41834b575afad345b9300d7a2db0c38adb7f6eaa8360c",
    provenance="tensorflow_datasets qm9/checksums.tsv",
)
_UNCHARACTERIZED_PUBLISHED_SIZE = 486_752
QM9_UNCHARACTERIZED = RemoteFile(
    "uncharacterized.txt",
    "https://figshare.com/ndownloader/files/3195404",
    size=_UNCHARACTERIZED_PUBLISHED_SIZE,
    sha256="3aa5115d540b356de94791d4a74c3bf1ed91c469ecf52a4f5d7cc0506fe02e24",
    provenance="tensorflow_datasets qm9/checksums.tsv",
)
QM9_ATOMREF = RemoteFile(
    "atomref.txt",
    "https://figshare.com/ndownloader/files/3195395",
    size=964,
    sha256="af739d4a0fbe894a56f346ad6045ee1b74c58f8a8c9ef3fbfed920c9ad8b00f9",
    provenance="tensorflow_datasets qm9/checksums.tsv",
)

QM9_N_MOLECULES = 133_885
QM9_N_UNCHARACTERIZED = 3_054
QM9_N_CHARACTERIZED = QM9_N_MOLECULES - QM9_N_UNCHARACTERIZED  # 130,831

#: Reference energies of the free atoms (B3LYP/6-31G(2df,p)), the content of atomref.txt
#: (figshare file 3195395): Z -> (ZPVE, U0, U, H, G) in Hartree. Cv's reference, 2.981
#: cal/(mol K) per atom, is not subtracted (see QM9_TARGETS).
QM9_ATOMREF_HARTREE: dict[int, tuple[float, float, float, float, float]] = {
    1: (0.0, -0.500273, -0.498857, -0.497912, -0.510927),
    6: (0.0, -37.846772, -37.845355, -37.844411, -37.861317),
    7: (0.0, -54.583861, -54.582445, -54.581501, -54.598897),
    8: (0.0, -75.064579, -75.063163, -75.062219, -75.079532),
    9: (0.0, -99.718730, -99.717314, -99.716370, -99.733544),
}
_ATOMREF_COLUMNS = ("zpve", "U0", "U", "H", "G")


class QM9Target(NamedTuple):
    """A learning target: the unit it is stored in, the unit the paper reports it in, and the factor between them."""

    unit: str
    reported_unit: str
    reported_scale: float
    description: str


#: The twelve targets of the paper's QM9 table (name -> unit and meaning). Energies are stored in
#: eV and reported in meV (multiply by ``reported_scale``).
QM9_TARGETS: dict[str, QM9Target] = {
    "mu": QM9Target("D", "D", 1.0, "dipole moment"),
    "alpha": QM9Target("bohr^3", "bohr^3", 1.0, "isotropic polarizability"),
    "homo": QM9Target("eV", "meV", 1000.0, "HOMO energy"),
    "lumo": QM9Target("eV", "meV", 1000.0, "LUMO energy"),
    "gap": QM9Target("eV", "meV", 1000.0, "HOMO-LUMO gap"),
    "r2": QM9Target("bohr^2", "bohr^2", 1.0, "electronic spatial extent <R^2>"),
    "zpve": QM9Target("eV", "meV", 1000.0, "zero-point vibrational energy (atom references, all 0, subtracted)"),
    "U0": QM9Target("eV", "meV", 1000.0, "internal energy at 0 K minus the atoms' reference energies"),
    "U": QM9Target("eV", "meV", 1000.0, "internal energy at 298.15 K minus the atoms' reference energies"),
    "H": QM9Target("eV", "meV", 1000.0, "enthalpy at 298.15 K minus the atoms' reference enthalpies"),
    "G": QM9Target("eV", "meV", 1000.0, "free energy at 298.15 K minus the atoms' reference free energies"),
    "Cv": QM9Target("cal/(mol K)", "cal/(mol K)", 1.0, "heat capacity at 298.15 K (no atom reference subtracted)"),
}
#: Extra properties that can be requested in the files' own units (GHz rotational constants).
QM9_EXTRA_TARGETS: dict[str, QM9Target] = {
    name: QM9Target("GHz", "GHz", 1.0, f"rotational constant {name}") for name in ("A", "B", "C")
}

PROCESSED_NAME = "qm9_processed_v1.npz"
_MEMBER = re.compile(r"(?:^|/)dsgdb9nsd_(\d{6})\.xyz$")


def parse_atomref(path: str | os.PathLike) -> dict[int, dict[str, float]]:
    """Read atomref.txt: Z -> {zpve, U0, U, H, G (Hartree), Cv (cal/(mol K))}."""
    symbols = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
    table: dict[int, dict[str, float]] = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            fields = line.split()
            if not fields or fields[0] not in symbols:
                continue
            try:
                values = [float(v) for v in fields[1:7]]
            except ValueError:
                raise DataFormatError("non-numeric reference energy", file=path, line=line_no) from None
            if len(values) != 6:
                raise DataFormatError(f"expected 6 numbers, found {len(values)}", file=path, line=line_no)
            table[symbols[fields[0]]] = dict(zip((*_ATOMREF_COLUMNS, "Cv"), values, strict=True))
    if set(table) != set(symbols.values()):
        raise DataFormatError(f"reference values for elements {sorted(table)}, expected H, C, N, O, F", file=path)
    return table


def parse_uncharacterized(path: str | os.PathLike) -> np.ndarray:
    """Read uncharacterized.txt: the sorted indices (1-based GDB-9 numbers) of the excluded molecules.

    Rows whose first field is an integer are molecules; header and footer lines are not (the
    rule the original Cormorant code used, which finds the 3,054 of the published file).
    """
    indices = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0].isdigit():
                indices.append(int(fields[0]))
    out = np.unique(np.array(indices, dtype=np.int64))
    if len(out) != len(indices):
        raise DataFormatError("an index is listed twice", file=path)
    if Path(path).stat().st_size == _UNCHARACTERIZED_PUBLISHED_SIZE and len(out) != QM9_N_UNCHARACTERIZED:
        raise DataFormatError(f"found {len(out)} indices, the published file lists {QM9_N_UNCHARACTERIZED}", file=path)
    return out


def _pack(records: Sequence[dict[str, Any]], source: str) -> dict[str, np.ndarray]:
    records = sorted(records, key=lambda r: r["index"])
    index = np.array([r["index"] for r in records], dtype=np.int64)
    if len(np.unique(index)) != len(index):
        raise DataFormatError(f"{source}: a molecule index occurs twice")
    arrays = {
        "index": index,
        "n_atoms": np.array([len(r["charges"]) for r in records], dtype=np.int64),
        "charges": np.concatenate([r["charges"] for r in records]).astype(np.int64),
        "positions": np.concatenate([r["positions"] for r in records]).astype(np.float64),
        "mulliken_charges": np.concatenate([r["mulliken_charges"] for r in records]).astype(np.float64),
    }
    for name in QM9_PROPERTY_NAMES:
        arrays[name] = np.array([r[name] for r in records], dtype=np.float64)
    arrays["source"] = np.array(source)
    return arrays


def _collect(items: Iterable[Any], parse, on_invalid: str, what: str) -> tuple[list[dict[str, Any]], list[str]]:
    records, skipped = [], []
    for item in items:
        try:
            record = parse(item)
        except InvalidMoleculeError as exc:
            if on_invalid == "raise":
                raise
            skipped.append(str(exc))
            continue
        if record is not None:
            records.append(record)
    if skipped:
        warnings.warn(f"{what}: skipped {len(skipped)} invalid molecules; first: {skipped[0]}", stacklevel=3)
    return records, skipped


def convert_archive(
    archive: str | os.PathLike,
    excluded: Iterable[int],
    target: str | os.PathLike,
    *,
    on_invalid: str = "raise",
    progress: bool = True,
) -> Path:
    """Parse a QM9 tar archive (any compression) into the processed cache ``target``, atomically.

    ``excluded`` holds the GDB-9 indices to leave out (uncharacterized.txt). Raises
    :class:`DataFormatError` naming the archive member and line for a malformed file.
    """
    archive = Path(archive)
    excluded_set = set(int(i) for i in excluded)

    def members() -> Iterator[tuple[str, bytes]]:
        try:
            with tarfile.open(archive, "r:*") as tar:
                for info in tar:
                    match = _MEMBER.search(info.name)
                    if not info.isfile() or match is None or int(match.group(1)) in excluded_set:
                        continue
                    handle = tar.extractfile(info)
                    yield info.name, (handle.read() if handle is not None else b"")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise DataFormatError(f"cannot read the archive ({type(exc).__name__}: {exc})", file=archive) from exc

    def parse(item: tuple[str, bytes]) -> dict[str, Any]:
        name, raw = item
        where = f"{archive}:{name}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"not a text file ({exc})", file=where) from exc
        record = parse_qm9_xyz(text, file=where)
        member = _MEMBER.search(name)
        assert member is not None  # only members whose names _MEMBER matches are read
        expected = int(member.group(1))
        if record["index"] != expected:
            raise DataFormatError(
                f"property line says molecule {record['index']}, file name says {expected}", file=where, line=2
            )
        return record

    items = tqdm(members(), desc="QM9 archive", unit=" molecules", disable=not progress)
    records, skipped = _collect(items, parse, on_invalid, str(archive))
    if not records:
        raise DataFormatError("no dsgdb9nsd_NNNNNN.xyz members found", file=archive)
    arrays = _pack(records, "archive")
    arrays["skipped"] = np.array(len(skipped))
    return save_npz_atomic(target, arrays)


def convert_qm9pack(
    data_dir: str | os.PathLike, target: str | os.PathLike, *, on_invalid: str = "raise", progress: bool = True
) -> Path:
    """Parse qm9pack's CSV files (``qm9pack/data``) into the processed cache ``target``, atomically."""

    def parse(item: tuple[Path, int, dict[str, str]]) -> dict[str, Any]:
        path, line, row = item
        return parse_qm9pack_row(row, file=path, line=line)

    items = tqdm(iter_qm9pack_rows(data_dir), desc="qm9pack", unit=" molecules", disable=not progress)
    records, skipped = _collect(items, parse, on_invalid, str(data_dir))
    arrays = _pack(records, "qm9pack")
    arrays["skipped"] = np.array(len(skipped))
    return save_npz_atomic(target, arrays)


def _archive_inputs(
    folder: Path, archive: str | os.PathLike | None, download: bool, mirror: str | None
) -> tuple[Path, Path]:
    """Locate (downloading if allowed) the archive and uncharacterized.txt."""
    if archive is not None:
        archive_path = Path(archive)
        if not archive_path.is_file():
            raise FileNotFoundError(f"QM9 archive {archive_path} not found")
        if archive_path.stat().st_size == QM9_ARCHIVE.size:
            verify_file(archive_path, QM9_ARCHIVE, delete=False)  # the user's copy: report, never delete
    elif (folder / QM9_ARCHIVE.filename).exists() or download:
        archive_path = fetch(QM9_ARCHIVE, folder, mirror=mirror)
    else:
        raise FileNotFoundError(
            f"no processed QM9 cache in {folder} and no archive: pass download=True, archive=<path to "
            "dsgdb9nsd.xyz.tar.bz2>, or install the qm9 extra (pip install qm9pack) for offline data"
        )
    candidates = [folder / QM9_UNCHARACTERIZED.filename, archive_path.parent / QM9_UNCHARACTERIZED.filename]
    for candidate in candidates:
        if candidate.is_file():
            if candidate.stat().st_size == QM9_UNCHARACTERIZED.size:
                verify_file(candidate, QM9_UNCHARACTERIZED, delete=candidate.parent == folder)
            return archive_path, candidate
    if download:
        return archive_path, fetch(QM9_UNCHARACTERIZED, folder, mirror=mirror)
    raise FileNotFoundError(
        f"uncharacterized.txt (the list of the 3,054 excluded molecules) is needed beside the archive or in "
        f"{folder}; pass download=True to fetch it"
    )


def _check_atomref(folder: Path, download: bool, mirror: str | None) -> None:
    """If atomref.txt is present or downloadable, check that it matches QM9_ATOMREF_HARTREE."""
    local = folder / QM9_ATOMREF.filename
    if not (local.exists() or download):
        return
    table = parse_atomref(fetch(QM9_ATOMREF, folder, mirror=mirror))
    for z, refs in QM9_ATOMREF_HARTREE.items():
        if not np.allclose([table[z][c] for c in _ATOMREF_COLUMNS], refs, rtol=0, atol=1e-9):
            raise DataFormatError(f"reference energies of Z={z} differ from the published table", file=local)


def qm9_processed_path(root: str | os.PathLike | None = None) -> Path:
    """Where the processed QM9 cache lives: ``<cache>/qm9/qm9_processed_v1.npz``."""
    return cache_dir(root) / "qm9" / PROCESSED_NAME


def build_qm9_cache(
    *,
    root: str | os.PathLike | None = None,
    source: str = "auto",
    archive: str | os.PathLike | None = None,
    download: bool = False,
    mirror: str | None = None,
    on_invalid: str = "raise",
    progress: bool = True,
) -> Path:
    """Return the processed QM9 cache, converting it from ``source`` first if it is missing."""
    if source not in ("auto", "archive", "qm9pack"):
        raise ValueError(f"source must be 'auto', 'archive' or 'qm9pack', not {source!r}")
    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid must be 'raise' or 'skip', not {on_invalid!r}")
    target = qm9_processed_path(root)
    folder = target.parent
    if source in ("auto", "archive"):
        _check_atomref(folder, download, mirror)
    if target.exists():
        return target
    pack_dir = qm9pack_data_dir() if source in ("auto", "qm9pack") else None
    if source == "qm9pack" and pack_dir is None:
        raise ModuleNotFoundError("source='qm9pack' needs the qm9 extra: pip install qm9pack")
    if source == "auto" and archive is None and pack_dir is not None:
        return convert_qm9pack(pack_dir, target, on_invalid=on_invalid, progress=progress)
    if source == "qm9pack":
        assert pack_dir is not None  # checked above
        return convert_qm9pack(pack_dir, target, on_invalid=on_invalid, progress=progress)
    archive_path, uncharacterized = _archive_inputs(folder, archive, download, mirror)
    return convert_archive(
        archive_path, parse_uncharacterized(uncharacterized), target, on_invalid=on_invalid, progress=progress
    )


def _atomref_sums(charges: np.ndarray, offsets: np.ndarray, column: int) -> np.ndarray:
    table = np.zeros(max(QM9_ATOMREF_HARTREE) + 1)
    for z, refs in QM9_ATOMREF_HARTREE.items():
        table[z] = refs[column]
    if charges.max(initial=0) >= len(table) or not np.isin(charges, list(QM9_ATOMREF_HARTREE)).all():
        raise DataFormatError("QM9 atom references exist only for H, C, N, O and F")
    return np.add.reduceat(table[charges], offsets[:-1]) if len(offsets) > 1 else np.zeros(0)


def qm9_targets_from_raw(raw: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Convert raw file-unit properties into the paper's targets (units of :data:`QM9_TARGETS`)."""
    offsets = np.concatenate([[0], np.cumsum(raw["n_atoms"])])
    out = {}
    for name in names:
        if name in ("homo", "lumo", "gap"):
            out[name] = raw[name] * HARTREE_TO_EV
        elif name in _ATOMREF_COLUMNS:
            column = _ATOMREF_COLUMNS.index(name)
            out[name] = (raw[name] - _atomref_sums(raw["charges"], offsets, column)) * HARTREE_TO_EV
        elif name in QM9_TARGETS or name in QM9_EXTRA_TARGETS:
            out[name] = raw[name].astype(np.float64)
        else:
            known = sorted(QM9_TARGETS) + sorted(QM9_EXTRA_TARGETS)
            raise ValueError(f"unknown QM9 target {name!r}; known: {known}")
    return out


def load_qm9(
    *,
    root: str | os.PathLike | None = None,
    source: str = "auto",
    archive: str | os.PathLike | None = None,
    download: bool = False,
    targets: Sequence[str] | None = None,
    mirror: str | None = None,
    on_invalid: str = "raise",
    dtype: torch.dtype = torch.float64,
    progress: bool = True,
) -> tuple[MoleculeDataset, dict[str, Any]]:
    """Load QM9's 130,831 characterized molecules with the paper's targets.

    Args:
        root: cache folder (default :func:`~cormorant_lab.data.cache_dir`).
        source: ``"auto"`` (existing cache, else ``archive=``, else qm9pack if installed, else
            the figshare archive if ``download``), ``"qm9pack"`` or ``"archive"``.
        archive: a local ``dsgdb9nsd.xyz.tar.bz2``; ``uncharacterized.txt`` must sit beside it
            or in the cache (or ``download=True``).
        download: allow downloading the figshare files (verified by size and SHA-256).
            An existing processed cache is used whichever source built it: both give
            identical arrays.
        targets: names from :data:`QM9_TARGETS` (default all twelve) or A, B, C.
        mirror: base URL replacing figshare (also ``CORMORANT_LAB_MIRROR``).
        on_invalid: ``"raise"`` or ``"skip"`` molecules with unknown elements, non-finite or
            overlapping atoms while converting (counted in ``metadata["skipped"]``).
        dtype: floating dtype of the returned tensors.

    Returns:
        ``(dataset, metadata)``. Items hold ``charges`` (atoms,), ``positions`` (atoms, 3) in Å,
        ``index`` (GDB-9 number) and one () tensor per target; ``metadata["units"]`` gives each
        target's unit and ``metadata["reported_units"]`` the paper's.
    """
    names = list(QM9_TARGETS) if targets is None else list(targets)
    path = build_qm9_cache(
        root=root,
        source=source,
        archive=archive,
        download=download,
        mirror=mirror,
        on_invalid=on_invalid,
        progress=progress,
    )
    raw = load_npz(path, required=("index", "n_atoms", "charges", "positions", *QM9_PROPERTY_NAMES))
    values = qm9_targets_from_raw(raw, names)
    spec = {**QM9_TARGETS, **QM9_EXTRA_TARGETS}
    metadata: dict[str, Any] = {
        "name": "qm9",
        "source": str(raw["source"]) if "source" in raw else "unknown",
        "file": str(path),
        "n_molecules": int(len(raw["index"])),
        "skipped": int(raw["skipped"]) if "skipped" in raw else 0,
        "units": {"positions": "Å", **{n: spec[n].unit for n in names}},
        "reported_units": {n: spec[n].reported_unit for n in names},
        "raw_units": dict(QM9_FILE_UNITS),
    }
    dataset = MoleculeDataset(
        raw["n_atoms"], raw["charges"], raw["positions"], values, index=raw["index"], metadata=metadata, dtype=dtype
    )
    return dataset, metadata
