"""SIGTERM as Ctrl-C: what schedulers (Slurm, Kubernetes) and ``docker stop`` send should save the run, not kill it.

Inside :func:`terminate_as_interrupt` a SIGTERM raises ``KeyboardInterrupt`` in the main thread, so the trainer's
Ctrl-C path (save ``last.pt``, return ``"interrupted"``) handles both. The previous handler is restored on exit.
Outside the main thread (where Python cannot install handlers) nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
