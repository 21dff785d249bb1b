"""Quick mode: the environment variable ``CORMORANT_LAB_QUICK`` shrinks every notebook to what CI can run.

CI executes each notebook headless with ``CORMORANT_LAB_QUICK=1`` on two CPU cores; a notebook's parameters
cell reads :func:`quick_mode` once and picks smaller grids, fewer rotations and smaller models.
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode(environ: dict | None = None) -> bool:
    """True when ``CORMORANT_LAB_QUICK`` is ``1`` (or ``true``/``yes``/``on``, any case); False when unset or ``0``.

    Raises:
        ValueError: for any other value, so that a typo does not silently run the long version in CI.
    """
    value = (os.environ if environ is None else environ).get("CORMORANT_LAB_QUICK", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"CORMORANT_LAB_QUICK must be 1 or 0 (or true/false), got {value!r}")
