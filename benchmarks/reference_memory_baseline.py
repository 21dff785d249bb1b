"""The reference implementation's memory before its first step: python, torch, its package and its qm9 model.

``bench_model.py`` compares peak resident memory with the reference's (936 MiB qm9, 1,793 MiB md17 with forces).
Both totals include what a process holds before any step — here 234 MiB for this package, already a quarter of
936 MiB — so the step's own memory is compared too: the peak minus this baseline (``REFERENCE_BASELINE_MIB`` in
``bench_model.py``, measured with this script: 246 MiB, torch 2.13 CPU). Needs the reference's source
(risilab/cormorant) unpacked; it is imported from there, never copied.

Usage: ``.venv/bin/python -W ignore benchmarks/reference_memory_baseline.py [/path/to/cormorant/src]``
"""

import resource
import sys

import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp/cormorant_ref/src")
torch.set_num_threads(1)
from cormorant.models import CormorantQM9  # noqa: E402  (the reference, from its source tree)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


model = CormorantQM9(
    maxl=3,
    max_sh=3,
    num_cg_levels=4,
    num_channels=10,
    num_species=5,
    cutoff_type=["learn"],
    hard_cut_rad=1.73,
    soft_cut_rad=1.73,
    soft_cut_width=0.2,
    weight_init="rand",
    level_gain=[10.0],
    charge_power=2,
    basis_set=(3, 3),
    charge_scale=9,
    gaussian_mask=False,
    top="linear",
    input="linear",
    num_mpnn_layers=1,
    device=torch.device("cpu"),
    dtype=torch.float32,
)
print(f"reference: peak RSS before the first step (python, torch, the package, the qm9 model): {peak_mib():.0f} MiB")
