"""Time one tutorial notebook at one size: a headless Run All (nbclient), wall clock and the kernel's CPU seconds.

    python scripts/time_notebook.py notebooks/05_learning_a_potential_energy_surface.ipynb default

Sizes: quick (CORMORANT_LAB_QUICK=1), default (nothing set), paper (CORMORANT_LAB_SIZE=paper). Prints one JSON line
with the wall time, the kernel's CPU seconds (the children of this process) and the three slowest cells; these are
the times stated at the top of every notebook. On a shared machine run it alone (e.g. under flock), one at a time.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import nbclient
import nbformat

SIZES = {"quick": {"CORMORANT_LAB_QUICK": "1"}, "default": {}, "paper": {"CORMORANT_LAB_SIZE": "paper"}}


def main(path: Path, size: str) -> dict:
    for name in ("CORMORANT_LAB_QUICK", "CORMORANT_LAB_SIZE"):
        os.environ.pop(name, None)
    os.environ.update(SIZES[size])
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    cells, started = [], {}
    client.on_cell_start = lambda cell, cell_index, **_: started.__setitem__(cell_index, time.perf_counter())
    client.on_cell_executed = lambda cell, cell_index, **_: cells.append(
        (round(time.perf_counter() - started[cell_index], 1), cell_index)
    )
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as exception:  # report it with the times instead of a traceback
        error = f"{type(exception).__name__}: {str(exception)[-400:]}"
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "notebook": path.stem,
        "size": size,
        "wall_s": round(wall, 1),
        "cpu_kernel_s": round(cpu, 1),
        "slowest_cells": sorted(cells, reverse=True)[:3],
        "error": error,
    }


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in SIZES:
        sys.exit(f"usage: {sys.argv[0]} NOTEBOOK.ipynb {{{'|'.join(SIZES)}}}")
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
