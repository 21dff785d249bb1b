"""The numbers of the paper (Anderson, Hy & Kondor, NeurIPS 2019) that the notebooks compare against.

:data:`CORMORANT_QM9_MAE` is Cormorant's test MAE on QM9 from the paper's QM9 table, per target of
:data:`~cormorant_lab.data.QM9_TARGETS`, in each target's *reported* unit (meV for energies). Training recipe
behind them: ~100k training molecules, 256 epochs (see :class:`~cormorant_lab.train.TrainConfig`).
"""

from __future__ import annotations

#: target -> test MAE of Cormorant in the paper's QM9 table, in ``QM9_TARGETS[target].reported_unit``.
CORMORANT_QM9_MAE: dict[str, float] = {
    "alpha": 0.085,  # bohr^3
    "gap": 61.0,  # meV
    "homo": 34.0,  # meV
    "lumo": 38.0,  # meV
    "mu": 0.038,  # D
    "Cv": 0.026,  # cal/(mol K)
    "G": 20.0,  # meV
    "H": 21.0,  # meV
    "r2": 0.961,  # bohr^2
    "U": 21.0,  # meV
    "U0": 22.0,  # meV
    "zpve": 2.03,  # meV
}
