"""The paper's datasets (QM9; MD-17 and rMD17) and the project's bundled GFN2-xTB trajectories.

Loading: :func:`load_qm9`, :func:`load_md17` return ``(MoleculeDataset, metadata)``; splits from a
fixed seed with :func:`qm9_splits` and :func:`md17_splits`. Batching: :func:`collate_molecules`
pads molecules into (batch, atoms) tensors (charge 0 = padding), :func:`make_dataloader` shuffles
reproducibly, :func:`batch_to` moves a batch to a device and dtype. Your own data: :func:`load_dataset` reads
energies and forces from any extended-XYZ file, ASE database or MD-17-style npz, in the units you state, and
:func:`split_sizes` turns counts or fractions into split sizes. Interop: :func:`to_ase_atoms`,
:func:`from_ase_atoms`. Files are cached under :func:`cache_dir` (``CORMORANT_LAB_DATA``).
"""

from ._ase_interop import from_ase_atoms, to_ase_atoms
from ._batching import batch_to, collate_molecules, make_dataloader
from ._cache import cache_dir
from ._dataset import MoleculeDataset
from ._download import RemoteFile, UnverifiedDownloadWarning
from ._errors import ChecksumError, DataFormatError, DownloadError, InvalidMoleculeError
from ._generate import GFN2_XTB, TBLITE_INSTALL, gfn2xtb_calculator, has_tblite, langevin_trajectory
from ._md17 import (
    BUNDLED_MOLECULES,
    MD17_MOLECULES,
    MD17_UNITS,
    RMD17_MOLECULES,
    bundled_path,
    load_md17,
    read_md17_npz,
    write_md17_npz,
)
from ._qm9 import QM9_ATOMREF_HARTREE, QM9_TARGETS, QM9Target, load_qm9
from ._qm9_xyz import QM9_FILE_UNITS, QM9_PROPERTY_NAMES, read_qm9_xyz
from ._splits import md17_splits, qm9_splits
from ._units import EV_TO_KCAL_PER_MOL, HARTREE_TO_EV, HARTREE_TO_KCAL_PER_MOL, KCAL_PER_MOL_TO_EV
from ._user_data import load_dataset, split_sizes

__all__ = [
    "BUNDLED_MOLECULES",
    "ChecksumError",
    "DataFormatError",
    "DownloadError",
    "EV_TO_KCAL_PER_MOL",
    "GFN2_XTB",
    "HARTREE_TO_EV",
    "HARTREE_TO_KCAL_PER_MOL",
    "InvalidMoleculeError",
    "KCAL_PER_MOL_TO_EV",
    "MD17_MOLECULES",
    "MD17_UNITS",
    "MoleculeDataset",
    "QM9_ATOMREF_HARTREE",
    "QM9_FILE_UNITS",
    "QM9_PROPERTY_NAMES",
    "QM9_TARGETS",
    "QM9Target",
    "RMD17_MOLECULES",
    "RemoteFile",
    "TBLITE_INSTALL",
    "UnverifiedDownloadWarning",
    "batch_to",
    "bundled_path",
    "cache_dir",
    "collate_molecules",
    "from_ase_atoms",
    "gfn2xtb_calculator",
    "has_tblite",
    "langevin_trajectory",
    "load_dataset",
    "load_md17",
    "load_qm9",
    "make_dataloader",
    "md17_splits",
    "qm9_splits",
    "read_md17_npz",
    "read_qm9_xyz",
    "split_sizes",
    "to_ase_atoms",
    "write_md17_npz",
]
