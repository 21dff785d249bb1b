"""Checks that ship with the package: the same covariance checker the tests use, for notebooks and users.

Example::

    from cormorant_lab.checks import check_covariance, random_molecules
    positions, charges = random_molecules(2, 29, dtype=torch.float64)
    report = check_covariance(Cormorant.from_preset("qm9", dtype=torch.float64), positions, charges)
    print(report.summary()); rows = report.to_rows()
"""

from ._covariance import CovarianceReport, CovariantModule, check_covariance
from ._memory import saved_activation_bytes
from ._molecules import random_molecules

__all__ = ["CovarianceReport", "CovariantModule", "check_covariance", "random_molecules", "saved_activation_bytes"]
