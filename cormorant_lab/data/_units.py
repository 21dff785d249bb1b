"""Unit conversions for the datasets, from CODATA 2018 exact and recommended values.

One place for every factor the loaders use, so that QM9 (Hartree, Debye, bohr) and MD-17
(kcal/mol, Å) are converted the same way everywhere. The factors are built from the SI
definitions rather than typed in, so the provenance of every digit is visible.
ASE's ``ase.units`` defaults to CODATA 2014; we use CODATA 2018 (the 2019 SI redefinition).
"""

from __future__ import annotations

# CODATA 2018 (https://physics.nist.gov/cuu/Constants/). e and N_A are exact since 2019.
ELEMENTARY_CHARGE_C = 1.602176634e-19
AVOGADRO_PER_MOL = 6.02214076e23
THERMOCHEMICAL_CALORIE_J = 4.184  # exact by definition
HARTREE_EV = 27.211386245988  # Hartree energy in eV, CODATA 2018
BOHR_ANGSTROM = 0.529177210903  # Bohr radius in Å, CODATA 2018

#: 1 eV expressed in kcal/mol (= e * N_A / 4184 J; about 23.0605).
EV_TO_KCAL_PER_MOL = ELEMENTARY_CHARGE_C * AVOGADRO_PER_MOL / (1000.0 * THERMOCHEMICAL_CALORIE_J)
#: 1 Hartree expressed in eV.
HARTREE_TO_EV = HARTREE_EV
#: 1 Hartree expressed in kcal/mol (about 627.5095).
HARTREE_TO_KCAL_PER_MOL = HARTREE_EV * EV_TO_KCAL_PER_MOL
#: 1 kcal/mol expressed in eV.
KCAL_PER_MOL_TO_EV = 1.0 / EV_TO_KCAL_PER_MOL
#: 1 eV expressed in meV (the paper reports orbital energies and energies in meV).
EV_TO_MEV = 1000.0
#: 1 bohr expressed in Å.
BOHR_TO_ANGSTROM = BOHR_ANGSTROM
