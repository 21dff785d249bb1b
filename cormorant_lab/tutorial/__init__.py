r"""Helpers for the tutorial notebooks in ``notebooks/``: quick mode, points on the sphere, and exercise checkers.

A notebook teaches; the package computes. What a notebook needs beyond :mod:`cormorant_lab.so3`,
:mod:`cormorant_lab.nn` and :mod:`cormorant_lab.checks` lives here, one concept per private module, with tests
in ``tests/tutorial/``:

* :func:`quick_mode` — whether ``CORMORANT_LAB_QUICK=1`` asks for the short run CI executes (``_quick``);
* :func:`sphere_grid` and :func:`plot_on_sphere` — a function sampled on a (θ, φ) grid and drawn with plotly
  (``_sphere``);
* :func:`check_answer` — compares an exercise answer with the value the package computes (``_exercises``).
"""

from ._exercises import EXERCISES, check_answer
from ._quick import quick_mode
from ._sphere import plot_on_sphere, sphere_grid

__all__ = ["EXERCISES", "check_answer", "plot_on_sphere", "quick_mode", "sphere_grid"]
