"""How much memory autograd keeps for the backward pass: a deterministic measure of a model's activation memory.

Peak resident memory (what ``benchmarks/bench_model.py`` reports) also counts the interpreter, torch and the
allocator's fragmentation, and varies from run to run. The bytes autograd *saves* between the forward and the
backward pass do not: they are the part of a training step's memory that the model's design decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


def saved_activation_bytes(forward: Callable[[], torch.Tensor], *, ignore: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the distinct storages that autograd keeps for the backward pass of ``forward()``.

    Tensors sharing a storage count once; storages of ``ignore`` (e.g. ``model.parameters()``, which exist
    anyway) do not count. ``forward`` runs once, with gradients enabled; its graph is then discarded.
    """
    ignored = {t.untyped_storage().data_ptr() for t in ignore}
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in ignored:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward()
    return sum(storages.values())
