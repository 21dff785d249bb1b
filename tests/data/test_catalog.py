"""The light name lists the command line uses (no torch import) agree with the loaders."""

from cormorant_lab import _catalog
from cormorant_lab.data import BUNDLED_MOLECULES, QM9_TARGETS, RMD17_MOLECULES
from cormorant_lab.data._md17 import MD17_FORMULAS, MD17_REMOTE


def test_catalog_matches_the_loaders():
    assert _catalog.QM9_TARGET_NAMES == tuple(QM9_TARGETS)
    assert _catalog.MD17_MOLECULES == tuple(sorted(MD17_REMOTE))
    assert _catalog.BUNDLED_MOLECULES == BUNDLED_MOLECULES and _catalog.RMD17_MOLECULES == RMD17_MOLECULES
    assert set(MD17_FORMULAS) == set(RMD17_MOLECULES) | set(MD17_REMOTE)  # every molecule's formula is checked
