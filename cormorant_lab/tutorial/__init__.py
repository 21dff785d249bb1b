r"""Helpers for the tutorial notebooks in ``notebooks/``: quick mode, points on the sphere, and exercise checkers.

A notebook teaches; the package computes. What a notebook needs beyond :mod:`cormorant_lab.so3`,
:mod:`cormorant_lab.nn` and :mod:`cormorant_lab.checks` lives here, one concept per private module, with tests
in ``tests/tutorial/``:

* :func:`quick_mode` — whether ``CORMORANT_LAB_QUICK=1`` asks for the short run CI executes (``_quick``);
* :func:`sphere_grid` and :func:`plot_on_sphere` — a function sampled on a (θ, φ) grid and drawn with plotly
  (``_sphere``);
* :func:`check_answer` — compares an exercise answer with the value the package computes (``_exercises``; the
  training notebooks' exercises are in ``_exercises_learning``);
* :func:`predict_dataset` and :func:`parity_plot` — predictions against labels, drawn around ŷ = y (``_parity``);
* :data:`CORMORANT_QM9_MAE` — the paper's QM9 test errors, for comparison (``_paper``);
* :func:`reality_defect` and :func:`converter_check` — the reality condition, and the reference mode's converter
  check (``_reality``).
"""

from ._exercises import EXERCISES, check_answer
from ._exercises_learning import LEARNING_EXERCISES
from ._paper import CORMORANT_QM9_MAE
from ._parity import parity_plot, predict_dataset
from ._quick import quick_mode
from ._reality import converter_check, reality_defect
from ._sphere import plot_on_sphere, sphere_grid

EXERCISES.update(LEARNING_EXERCISES)

__all__ = ["CORMORANT_QM9_MAE", "EXERCISES", "check_answer", "converter_check", "parity_plot", "plot_on_sphere",
           "predict_dataset", "quick_mode", "reality_defect", "sphere_grid"]
