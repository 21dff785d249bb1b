"""The trainer's batches live on the device: the training set is collated there once, and each batch is an index
selection trimmed to its largest molecule — equal, tensor for tensor, to what ``collate_molecules`` pads."""

import numpy as np
import torch

from cormorant_lab.data import MoleculeDataset, batch_to, collate_molecules
from cormorant_lab.train._trainer import _DeviceBatches


def _varied_dataset() -> MoleculeDataset:
    rng = np.random.default_rng(0)
    records = []
    for i in range(23):
        n = int(rng.integers(2, 9))  # molecules of 2 to 8 atoms: batches of different widths
        records.append(
            {
                "charges": rng.choice([1, 6, 8], size=n),
                "positions": rng.normal(size=(n, 3)),
                "energy": float(rng.normal()),
                "forces": rng.normal(size=(n, 3)),
                "index": i,
            }
        )
    return MoleculeDataset.from_records(records)


def test_device_batches_equal_collated_batches(device):
    dataset = _varied_dataset()
    order = list(np.random.default_rng(1).permutation(len(dataset)))
    batches = _DeviceBatches(dataset, torch.device(device), torch.float32)
    got = list(batches.batches(order, 5, skip=1))
    expected = [
        batch_to(collate_molecules([dataset[i] for i in order[k : k + 5]]), device, torch.float32)
        for k in range(5, len(order), 5)
    ]
    assert len(got) == len(expected) == 4
    widths = set()
    for mine, theirs in zip(got, expected, strict=False):
        tensors = {key for key, value in theirs.items() if isinstance(value, torch.Tensor)}
        assert set(mine) == tensors
        for key in tensors:
            assert mine[key].device.type == torch.device(device).type
            assert mine[key].dtype == theirs[key].dtype and torch.equal(mine[key], theirs[key]), key
        widths.add(mine["positions"].shape[1])
    assert len(widths) > 1  # the trimming was exercised
