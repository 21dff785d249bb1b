"""The names of what can be loaded — datasets, sources, molecules, QM9 targets — without importing torch.

The command line parses and checks its arguments (and prints ``--help``) from these alone, in a few
milliseconds; the loaders import them from here, so there is one list of each (the QM9 target names are
tested equal to the keys of :data:`cormorant_lab.data.QM9_TARGETS`, which carries their units).
"""

from __future__ import annotations

DATASETS = ("md17", "qm9")
MD17_SOURCES = ("bundled", "md17", "rmd17")
QM9_SOURCES = ("auto", "qm9pack", "archive")

#: Molecules bundled in ``cormorant_lab/data/bundled/`` (GFN2-xTB Langevin dynamics at 500 K).
BUNDLED_MOLECULES = ("ethanol", "malonaldehyde", "uracil", "aspirin")
#: Molecules of the original MD-17 files on the sGDML site.
MD17_MOLECULES = (
    "aspirin",
    "benzene",
    "ethanol",
    "malonaldehyde",
    "naphthalene",
    "salicylic_acid",
    "toluene",
    "uracil",
)
#: Molecules of the revised MD-17 (rMD17).
RMD17_MOLECULES = (
    "aspirin",
    "azobenzene",
    "benzene",
    "ethanol",
    "malonaldehyde",
    "naphthalene",
    "paracetamol",
    "salicylic_acid",
    "toluene",
    "uracil",
)
#: The twelve QM9 targets of the paper (units in ``cormorant_lab.data.QM9_TARGETS``).
QM9_TARGET_NAMES = ("mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "Cv")


def molecules_for(source: str) -> tuple[str, ...]:
    """The MD-17 molecules a source provides."""
    return {"bundled": BUNDLED_MOLECULES, "md17": MD17_MOLECULES, "rmd17": RMD17_MOLECULES}[source]
