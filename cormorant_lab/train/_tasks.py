"""A learning task: which dataset, which target, which splits, which units — built from a few names.

``load_task("md17", molecule="ethanol")`` (the bundled GFN2-xTB trajectory, energies in kcal/mol, forces in
kcal/mol/Å), ``load_task("qm9", target="U0")`` (qm9pack's QM9, U0 stored in eV, reported in meV) or
``load_task("file", path="mine.xyz", energy_unit="eV")`` (your own data, see :func:`~cormorant_lab.data.load_dataset`;
reported in its own unit, split 80/10/10 unless sizes or fractions are given). The splits
are the data package's fixed-seed splits (held-out sets do not move when ``n_train`` changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._catalog import DATASETS, MD17_SOURCES, QM9_SOURCES, molecules_for  # noqa: F401 (re-exported)
from ..data import (
    QM9_TARGETS,
    DataFormatError,
    InvalidMoleculeError,
    MoleculeDataset,
    load_dataset,
    load_md17,
    load_qm9,
    md17_splits,
    qm9_splits,
    split_sizes,
)
from ._metrics import TargetUnits

DEFAULT_SIZES = {"md17": (1000, 500, 1000), "qm9": (100_000, 17_748, 13_083)}


class TaskError(ValueError):
    """A bad dataset, molecule, target or size; the message says what is valid and how to fetch missing data."""


@dataclass
class Task:
    """Datasets of the three splits plus what is needed to train and report on them."""

    dataset: str
    target: str
    units: TargetUnits
    train: MoleculeDataset
    valid: MoleculeDataset
    test: MoleculeDataset
    has_forces: bool
    per_species_reference: bool
    spec: dict[str, Any] = field(default_factory=dict)  # arguments of load_task, to rebuild it from a checkpoint

    def split(self, name: str) -> MoleculeDataset:
        if name not in ("train", "valid", "test"):
            raise TaskError(f"unknown split {name!r}; choose train, valid or test")
        return getattr(self, name)


def fetch_command(dataset: str, molecule: str | None = None, source: str | None = None) -> str:
    """The shell command that downloads a dataset into the cache."""
    if dataset == "qm9":
        return (
            "pip install qm9pack (offline QM9), then cormorant-lab fetch qm9; "
            "or cormorant-lab fetch qm9 --source archive (the figshare archive, 86 MB)"
        )
    if source == "bundled":
        return f"python scripts/generate_md_trajectories.py {molecule}   (regenerates the bundled trajectory; needs tblite)"
    return f"cormorant-lab fetch md17 --molecule {molecule} --source {source}"


def _load_md17(molecule: str, source: str, download: bool) -> MoleculeDataset:
    if source not in MD17_SOURCES:
        raise TaskError(f"unknown MD-17 source {source!r}; choose one of {', '.join(MD17_SOURCES)}")
    known = molecules_for(source)
    if molecule not in known:
        raise TaskError(f"unknown molecule {molecule!r} for source {source!r}; known: {', '.join(known)}")
    try:
        return load_md17(molecule, source=source, download=download)[0]
    except FileNotFoundError as exc:
        raise TaskError(
            f"the {source} data for {molecule} are not present (not downloaded yet); fetch them with: "
            f"{fetch_command('md17', molecule, source)}"
        ) from exc


def _load_qm9(target: str, source: str, download: bool) -> MoleculeDataset:
    if target not in QM9_TARGETS:
        raise TaskError(f"unknown QM9 target {target!r}; known: {', '.join(QM9_TARGETS)}")
    if source not in QM9_SOURCES:
        raise TaskError(f"unknown QM9 source {source!r}; choose one of {', '.join(QM9_SOURCES)}")
    try:
        return load_qm9(source=source, targets=[target], download=download, progress=False)[0]
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        why = (
            "qm9pack is not installed" if isinstance(exc, ModuleNotFoundError) else "no processed cache and no archive"
        )
        raise TaskError(f"QM9 is not present ({why}); get it with: {fetch_command('qm9')}") from exc


def _load_file(
    path: str | None, energy_unit: str | None, energy_key: str | None, forces_key: str | None, length_unit: str | None
) -> MoleculeDataset:
    if path is None or energy_unit is None:
        raise TaskError(
            "your own data needs a file and the unit of its energies: --data FILE --energy-unit eV|kcal/mol"
        )
    try:
        return load_dataset(
            path,
            energy_unit=energy_unit,
            energy_key=energy_key or "energy",
            forces_key=forces_key or "forces",
            length_unit=length_unit or "Å",
        )[0]
    except (DataFormatError, InvalidMoleculeError) as exc:
        raise TaskError(str(exc)) from exc
    except ValueError as exc:
        raise TaskError(f"{path}: {exc}") from exc


def _load_file_task(spec: dict[str, Any], sizes, split_seed: int) -> Task:
    data = _load_file(spec["path"], spec["energy_unit"], spec["energy_key"], spec["forces_key"], spec["length_unit"])
    try:
        n_train, n_valid, n_test = split_sizes(len(data), *sizes)
        splits = md17_splits(len(data), n_train, n_valid, n_test, seed=split_seed)
    except ValueError as exc:
        raise TaskError(f"bad split sizes for the {len(data)} structures of {spec['path']}: {exc}") from exc
    unit = spec["energy_unit"]
    has_forces = bool(data.metadata["has_forces"])
    units = TargetUnits("energy", unit, unit, 1.0, force_unit=f"{unit}/Å" if has_forces else None)
    spec.update(path=data.metadata["file"], n_train=n_train, n_valid=n_valid, n_test=n_test, target="energy")
    train, valid, test = (data.subset(splits[k]) for k in ("train", "valid", "test"))
    # Over several compositions an energy is extensive: fit per-species references as for QM9's U0.
    return Task(
        "file",
        "energy",
        units,
        train,
        valid,
        test,
        has_forces=has_forces,
        per_species_reference=data.metadata["n_compositions"] > 1,
        spec=spec,
    )


def load_task(
    dataset: str = "md17",
    *,
    molecule: str = "ethanol",
    target: str | None = None,
    source: str | None = None,
    n_train: int | None = None,
    n_valid: int | None = None,
    n_test: int | None = None,
    split_seed: int = 0,
    download: bool = False,
    path: str | None = None,
    energy_unit: str | None = None,
    energy_key: str | None = None,
    forces_key: str | None = None,
    length_unit: str | None = None,
    n_fractions: tuple[float, float, float] | None = None,
) -> Task:
    """Load a dataset and split it. MD-17: ``molecule`` and ``source`` (default ``"bundled"``), target ``energy``
    (with forces). QM9: ``target`` (default ``"U0"``) and ``source`` (default ``"auto"``). Sizes default to
    1000 / 500 / 1000 frames (MD-17 bundled) and the paper's QM9 split. ``"file"``: your own ``path`` with its
    ``energy_unit`` (and optionally ``energy_key``, ``forces_key``, ``length_unit``; see
    :func:`~cormorant_lab.data.load_dataset`); sizes are counts, or ``n_fractions`` (train, valid, test) of the
    file, default 0.8 / 0.1 / 0.1."""
    spec = dict(
        dataset=dataset,
        molecule=molecule,
        target=target,
        source=source,
        n_train=n_train,
        n_valid=n_valid,
        n_test=n_test,
        split_seed=split_seed,
    )
    if dataset not in (*DATASETS, "file"):
        raise TaskError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if dataset == "file":
        spec.update(
            molecule=None,
            source=None,
            path=path,
            energy_unit=energy_unit,
            energy_key=energy_key,
            forces_key=forces_key,
            length_unit=length_unit,
        )
        fractions = n_fractions or (0.8, 0.1, 0.1)
        requested = [s if s is not None else f for s, f in zip((n_train, n_valid, n_test), fractions, strict=True)]
        return _load_file_task(spec, requested, split_seed)
    sizes = [
        s if s is not None else d for s, d in zip((n_train, n_valid, n_test), DEFAULT_SIZES[dataset], strict=False)
    ]
    if dataset == "md17":
        if target not in (None, "energy"):
            raise TaskError(f"MD-17 has one target, 'energy' (with forces), not {target!r}")
        data, target = _load_md17(molecule, source or "bundled", download), "energy"
        units = TargetUnits("energy", "kcal/mol", "kcal/mol", 1.0, force_unit="kcal/mol/Å")
        make_splits = md17_splits
    else:
        target = target or "U0"
        data = _load_qm9(target, source or "auto", download)
        info = QM9_TARGETS[target]
        units = TargetUnits(target, info.unit, info.reported_unit, info.reported_scale)
        make_splits = qm9_splits
    try:
        splits = make_splits(len(data), *sizes, seed=split_seed)
    except ValueError as exc:
        raise TaskError(f"bad split sizes for {len(data)} molecules: {exc}") from exc
    spec.update(
        molecule=molecule if dataset == "md17" else None,
        target=target,
        source=source,
        n_train=sizes[0],
        n_valid=sizes[1],
        n_test=sizes[2],
    )
    extensive = dataset == "qm9" and target in ("U0", "U", "H", "G")
    return Task(
        dataset,
        target,
        units,
        *(data.subset(splits[k]) for k in ("train", "valid", "test")),
        has_forces=dataset == "md17",
        per_species_reference=extensive,
        spec=spec,
    )
