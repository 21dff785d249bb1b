"""Peak resident memory of this process, for the memory benchmarks: standard library only.

``bench_model.py`` and ``reference_memory_baseline.py`` read it right after ``import torch`` (the floor: python
and torch alone) and again after building their models and after their steps.
"""

import resource


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB: ``VmHWM`` of ``/proc/self/status`` where there is one.

    (``ru_maxrss`` survives ``exec`` on Linux: a process started by a larger one would report its parent's peak.)
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
