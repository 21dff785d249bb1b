r"""Helpers for the tutorial notebooks in ``notebooks/``: quick mode, points on the sphere, and exercise checkers.

A notebook teaches; the package computes. What a notebook needs beyond :mod:`cormorant_lab.so3`,
:mod:`cormorant_lab.nn` and :mod:`cormorant_lab.checks` lives here, one concept per private module, with tests
in ``tests/tutorial/``:

* :func:`notebook_size` — ``"quick"``, ``"default"`` or ``"paper"``: the three sizes of every notebook (``_sizes``);
* :func:`quick_mode` — whether ``CORMORANT_LAB_QUICK=1`` asks for the short run CI executes (``_quick``);
* :func:`sphere_grid` and :func:`plot_on_sphere` — a function sampled on a (θ, φ) grid and drawn with plotly
  (``_sphere``);
* :func:`check_answer` — compares an exercise answer with the value the package computes (``_exercises``; the
  training notebooks' exercises are in ``_exercises_learning``);
* :func:`predict_dataset` and :func:`parity_plot` — predictions against labels, drawn around ŷ = y (``_parity``);
* :data:`CORMORANT_QM9_MAE` — the paper's QM9 test errors, for comparison (``_paper``);
* :func:`notebook_threads` and :func:`train` — a thread count for notebooks and training that stops cleanly on
  *Kernel › Interrupt* (``_training``);
* :func:`atom_counting_prediction` and :func:`atom_counting_mae` — the per-species baseline of QM9 energies
  (``_baseline``); :func:`learning_curve_figure`, :func:`reference_line`, :func:`log_range` and
  :func:`covariance_bar_chart` — figures whose log axes frame their data (``_plots``);
* :func:`harmonics_figure` — the real harmonics l ≤ 2, labelled (``_sphere``);
* :func:`to_basis`, :func:`reality_defect`, :func:`part_reality_defect`, :func:`reality_split` and
  :func:`complex_invariants` — the paper's complex basis beside the real one, the reality condition, and a complex
  channel as two real ones (``_reality``);
* :func:`fixture_check`, :func:`converter_check` and :func:`find_reference_src` — the reference mode against the
  reference implementation: its stored outputs, the converter round trip, and its code run live (``_reference_check``).
"""

from ._baseline import atom_counting_mae, atom_counting_prediction, species_counts
from ._exercises import EXERCISES, Exercise, check_answer, show_solution, solution_answer
from ._exercises_learning import LEARNING_EXERCISES
from ._paper import CORMORANT_QM9_MAE
from ._parity import parity_plot, predict_dataset
from ._plots import covariance_bar_chart, learning_curve_figure, log_range, power_law_slope, reference_line
from ._quick import quick_mode
from ._reality import complex_invariants, part_reality_defect, reality_defect, reality_split, to_basis
from ._reference_check import converter_check, find_reference_src, fixture_check
from ._sizes import SIZES, notebook_size
from ._sphere import harmonics_figure, plot_on_sphere, sphere_grid
from ._training import NotebookTraining, notebook_threads, train

EXERCISES.update(LEARNING_EXERCISES)

__all__ = [
    "CORMORANT_QM9_MAE",
    "EXERCISES",
    "Exercise",
    "check_answer",
    "show_solution",
    "solution_answer",
    "parity_plot",
    "plot_on_sphere",
    "predict_dataset",
    "quick_mode",
    "SIZES",
    "notebook_size",
    "sphere_grid",
    "harmonics_figure",
    "NotebookTraining",
    "notebook_threads",
    "train",
    "atom_counting_mae",
    "atom_counting_prediction",
    "species_counts",
    "covariance_bar_chart",
    "learning_curve_figure",
    "log_range",
    "power_law_slope",
    "reference_line",
    "converter_check",
    "reality_defect",
    "complex_invariants",
    "reality_split",
    "part_reality_defect",
    "to_basis",
    "find_reference_src",
    "fixture_check",
]
