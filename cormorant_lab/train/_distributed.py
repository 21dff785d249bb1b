"""Multi-GPU and multi-node training through ``torch.distributed``: DDP under ``torchrun``.

``torchrun --nproc_per_node=4 -m cormorant_lab.cli train ...`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``; :func:`init_distributed` reads them and joins the process group (NCCL on
GPUs, gloo on CPUs). Each process takes every ``world_size``-th molecule of the epoch's permutation (the
:class:`~torch.utils.data.DistributedSampler` rule) and ``batch_size / world_size`` of each global batch, so the
averaged gradients equal a single process's on the same global batch.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """This process's place: ``rank`` of ``world_size`` (``local_rank`` on its node)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def current() -> DistInfo:
    """The process group already joined, or a single process."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    return DistInfo()


def init_distributed(backend: str | None = None) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment; a single process without it.

    ``backend`` defaults to ``"nccl"`` when CUDA is available, else ``"gloo"``. On CUDA each process uses the GPU
    ``LOCAL_RANK``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 or (dist.is_available() and dist.is_initialized()):
        return current()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return current()


def finish_distributed(*, wait: bool = True) -> None:
    """Leave the process group joined by :func:`init_distributed`: wait for every process, then destroy it.

    Call it once per process after the last collective, with the trainer (and its DDP reducer) already released
    (:func:`in_process_group` does both).
    The barrier keeps one process from tearing its gloo connections down while another still communicates, and
    the collection frees a reducer that still holds the group; without them, gloo occasionally aborted a process at
    exit ("terminate called without an active exception", about 1 run in 40 of the two-process test). Nothing to do
    for a single process. ``wait=False`` skips the barrier: for a process leaving on an error, whose peers may never
    reach it.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    gc.collect()
    if wait:
        barrier()
    dist.destroy_process_group()


def in_process_group(work: Callable[[DistInfo], T], backend: str | None = None) -> T:
    """``work(info)`` between :func:`init_distributed` and :func:`finish_distributed`; its result.

    ``work``'s locals (a trainer and its DDP reducer) are released when it returns, before the group is left. After a
    return every process waits at the barrier; after an exception the process leaves without it (its peers may never
    reach it) and the exception propagates. A single process runs ``work`` with ``DistInfo()``.
    """
    info = init_distributed(backend)
    try:
        result = work(info)
    except BaseException:
        finish_distributed(wait=False)
        raise
    finish_distributed()
    return result


def epoch_order(n_items: int, epoch: int, seed: int, info: DistInfo) -> list[int]:
    """This process's molecules for ``epoch``, in order: the DistributedSampler's permutation (seed + epoch)."""
    sampler = DistributedSampler(range(n_items), num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(sampler)


def shard(n_items: int, info: DistInfo) -> list[int]:
    """This process's share of an evaluation split, without the sampler's padding (every molecule counted once)."""
    return list(range(info.rank, n_items, info.world_size))


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over the processes (in place) and return it; the identity for a single process."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
