"""Three sizes of every notebook: ``quick`` (what CI runs), ``default`` (Run All on a laptop CPU) and ``paper``.

* ``quick`` — ``CORMORANT_LAB_QUICK=1`` (or ``CORMORANT_LAB_SIZE=quick``): tiny models and data, seconds per cell;
  it checks that the notebook works, not that it teaches well.
* ``default`` — nothing set: Run All finishes in at most five minutes on two CPU cores and still shows something
  real (a potential that has visibly learned, a learning curve that bends).
* ``paper`` — ``CORMORANT_LAB_SIZE=paper``: the paper's model sizes and schedules; hours, meant for a GPU.

Each notebook states its measured times at the top and picks its parameters from :func:`notebook_size`.
"""

from __future__ import annotations

import os

from ._quick import quick_mode

SIZES = ("quick", "default", "paper")


def notebook_size(environ: dict | None = None) -> str:
    """``"quick"``, ``"default"`` or ``"paper"`` from ``CORMORANT_LAB_SIZE`` (else ``CORMORANT_LAB_QUICK``).

    Raises:
        ValueError: for an unknown size, or a size that contradicts ``CORMORANT_LAB_QUICK=1``.
    """
    environ = os.environ if environ is None else environ
    size = environ.get("CORMORANT_LAB_SIZE", "").strip().lower()
    quick = quick_mode(environ)
    if not size:
        return "quick" if quick else "default"
    if size not in SIZES:
        raise ValueError(f"CORMORANT_LAB_SIZE must be one of {', '.join(SIZES)}, got {size!r}")
    if quick and size != "quick":
        raise ValueError(f"CORMORANT_LAB_QUICK=1 contradicts CORMORANT_LAB_SIZE={size}; unset one of them")
    return size
