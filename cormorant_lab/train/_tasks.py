"""A learning task: which dataset, which target, which splits, which units — built from a few names.

``load_task("md17", molecule="ethanol")`` (the bundled GFN2-xTB trajectory, energies in kcal/mol, forces in
kcal/mol/Å) or ``load_task("qm9", target="U0")`` (qm9pack's QM9, U0 stored in eV, reported in meV). The splits
are the data package's fixed-seed splits (held-out sets do not move when ``n_train`` changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..data import QM9_TARGETS, MoleculeDataset, load_md17, load_qm9, md17_splits, qm9_splits
from .._catalog import DATASETS, MD17_SOURCES, QM9_SOURCES, molecules_for  # noqa: F401 (re-exported)
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
        return "pip install qm9pack (offline QM9), then cormorant-lab fetch qm9; or cormorant-lab fetch qm9 --source archive (the figshare archive, 86 MB)"
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
        raise TaskError(f"the {source} data for {molecule} are not present (not downloaded yet); fetch them with: "
                        f"{fetch_command('md17', molecule, source)}") from exc


def _load_qm9(target: str, source: str, download: bool) -> MoleculeDataset:
    if target not in QM9_TARGETS:
        raise TaskError(f"unknown QM9 target {target!r}; known: {', '.join(QM9_TARGETS)}")
    if source not in QM9_SOURCES:
        raise TaskError(f"unknown QM9 source {source!r}; choose one of {', '.join(QM9_SOURCES)}")
    try:
        return load_qm9(source=source, targets=[target], download=download, progress=False)[0]
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        why = "qm9pack is not installed" if isinstance(exc, ModuleNotFoundError) else "no processed cache and no archive"
        raise TaskError(f"QM9 is not present ({why}); get it with: {fetch_command('qm9')}") from exc


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
) -> Task:
    """Load a dataset and split it. MD-17: ``molecule`` and ``source`` (default ``"bundled"``), target ``energy``
    (with forces). QM9: ``target`` (default ``"U0"``) and ``source`` (default ``"auto"``). Sizes default to
    1000 / 500 / 1000 frames (MD-17 bundled) and the paper's QM9 split."""
    spec = dict(dataset=dataset, molecule=molecule, target=target, source=source, n_train=n_train, n_valid=n_valid,
                n_test=n_test, split_seed=split_seed)
    if dataset not in DATASETS:
        raise TaskError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    sizes = [s if s is not None else d for s, d in zip((n_train, n_valid, n_test), DEFAULT_SIZES[dataset])]
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
    spec.update(molecule=molecule if dataset == "md17" else None, target=target, source=source,
                n_train=sizes[0], n_valid=sizes[1], n_test=sizes[2])
    extensive = dataset == "qm9" and target in ("U0", "U", "H", "G")
    return Task(dataset, target, units, *(data.subset(splits[k]) for k in ("train", "valid", "test")),
                has_forces=dataset == "md17", per_species_reference=extensive, spec=spec)
