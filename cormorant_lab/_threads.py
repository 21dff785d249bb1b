"""The CPU thread policy: one intra-op thread unless asked, and OpenMP threads that sleep rather than spin.

Cormorant's tensors are small (a few channels × (2l + 1) per atom), so the work torch splits between intra-op
threads comes in many short pieces, and the threads meet at a barrier after each. On an idle machine a second
thread gains little; on a loaded one it loses a lot: a thread whose partner has been descheduled spin-waits
for it (OpenMP's default wait policy), and a training step measured 12–43 s instead of 1.4 s with torch's
default of one thread per core on a busy 2-core machine. ``benchmarks/bench_threads.py`` measures every setting
idle and beside a competing CPU load; on 2 cores, for the md17 preset trained on forces, 2 threads ran at ×0.32
(default wait policy) and ×0.87 (passive) of 1 thread beside the load, and 1 thread was fastest idle too and always
cheapest in CPU seconds per step. The policy:

* **threads**: 1 intra-op thread on the CPU unless the caller asks for more (``threads=``, the command line's
  ``--threads``) or the environment does (``OMP_NUM_THREADS`` set by the user: respected, not overridden);
* **wait policy**: ``OMP_WAIT_POLICY=PASSIVE`` (threads that wait sleep, so asking for more threads on a busy
  machine degrades gracefully), set before torch is imported — by the command line at start-up, by
  :func:`configure_threads` when torch is not imported yet; a value the user set is kept. Once torch's OpenMP
  runtime has started it no longer reads the variable, which is why the CLI sets it first thing.

GPU runs are not affected (the thread count only concerns CPU operators). This module imports torch only
inside :func:`configure_threads`, so the command line can apply the wait policy before torch loads.
"""

from __future__ import annotations

import os
import sys

#: Intra-op threads when neither the caller nor ``OMP_NUM_THREADS`` says otherwise.
DEFAULT_CPU_THREADS = 1


def set_passive_wait_policy() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set a policy; True if it will take effect (torch not loaded)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return "torch" not in sys.modules


def configure_threads(threads: int | None = None) -> int:
    """Apply the policy of the module docstring and return the number of intra-op threads now in use.

    ``threads``: an explicit count (at least 1); None means ``OMP_NUM_THREADS`` if the user set it, else
    :data:`DEFAULT_CPU_THREADS`. Call it before the first torch operation (notebooks: in the setup cell).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    set_passive_wait_policy()
    import torch

    if threads is None:
        if os.environ.get("OMP_NUM_THREADS", "").strip().isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
            return torch.get_num_threads()  # the user's choice, already applied by torch
        threads = DEFAULT_CPU_THREADS
    torch.set_num_threads(threads)
    return threads
