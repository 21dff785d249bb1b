"""MoleculeDataset, padding into (batch, atoms) tensors, device/dtype moves and seeded shuffling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cormorant_lab.data import InvalidMoleculeError, MoleculeDataset, batch_to, collate_molecules, make_dataloader


def _records(n=10):
    rng = np.random.default_rng(0)
    records = []
    for i in range(n):
        n_atoms = 2 + i % 4
        positions = np.cumsum(np.ones((n_atoms, 3)), axis=0) + rng.normal(scale=0.01, size=(n_atoms, 3))
        records.append(
            {
                "charges": np.array([6] + [1] * (n_atoms - 1)),
                "positions": positions,
                "energy": np.float64(-float(i)),
                "forces": rng.normal(size=(n_atoms, 3)),
                "index": 100 + i,
            }
        )
    return records


@pytest.fixture
def dataset():
    return MoleculeDataset.from_records(_records(), metadata={"name": "toy", "units": {"energy": "eV"}})


def test_items_have_the_documented_layout(dataset):
    item = dataset[3]
    assert item["charges"].dtype == torch.int64 and item["charges"].shape == (5,)
    assert item["positions"].shape == (5, 3) and item["positions"].dtype == torch.float64
    assert item["energy"].shape == () and item["energy"].item() == -3.0
    assert item["forces"].shape == (5, 3) and item["index"].item() == 103
    assert dataset.target_names == ["energy"] and dataset.atom_property_names == ["forces"]
    assert dataset[-1]["index"].item() == 109
    with pytest.raises(IndexError):
        dataset[10]


def test_collate_pads_with_zeros_and_masks(dataset):
    batch = collate_molecules([dataset[i] for i in (0, 3, 1)])  # 2, 5, 3 atoms
    assert batch["charges"].shape == (3, 5) and batch["charges"].dtype == torch.int64
    assert batch["charges"][0].tolist() == [6, 1, 0, 0, 0]
    assert batch["atom_mask"].tolist()[0] == [True, True, False, False, False]
    assert batch["n_atoms"].tolist() == [2, 5, 3]
    assert batch["positions"].shape == (3, 5, 3) and (batch["positions"][0, 2:] == 0).all()
    assert batch["forces"].shape == (3, 5, 3) and (batch["forces"][2, 3:] == 0).all()
    torch.testing.assert_close(batch["forces"][1], dataset[3]["forces"])
    assert batch["energy"].shape == (3,) and batch["energy"].tolist() == [0.0, -3.0, -1.0]
    assert (batch["charges"] == 0).eq(~batch["atom_mask"]).all()


def test_collate_keeps_strings_as_lists():
    records = [{"charges": torch.tensor([1, 1]), "positions": torch.zeros(2, 3), "name": n} for n in ("a", "b")]
    assert collate_molecules(records)["name"] == ["a", "b"]
    with pytest.raises(ValueError, match="empty"):
        collate_molecules([])


def test_batch_to_casts_floats_only(dataset, device, dtype):
    """``device`` and ``dtype`` are the suite-wide fixtures (CPU, and CUDA when present; float64 and float32)."""
    batch = batch_to(collate_molecules([dataset[0], dataset[1]]), device=device, dtype=dtype)
    assert batch["positions"].dtype == dtype and batch["energy"].dtype == dtype
    assert batch["charges"].dtype == torch.int64 and batch["atom_mask"].dtype == torch.bool
    assert {t.device.type for t in batch.values() if isinstance(t, torch.Tensor)} == {torch.device(device).type}
    torch.testing.assert_close(batch["positions"][0, :2].cpu().double(), dataset[0]["positions"], rtol=1e-6, atol=0)
    meta = batch_to(batch, device="meta")
    assert meta["positions"].device.type == "meta" and meta["charges"].device.type == "meta"


def test_loader_is_reproducible_from_its_seed(dataset):
    def order(seed):
        loader = make_dataloader(dataset, batch_size=3, shuffle=True, seed=seed)
        return [batch["index"].tolist() for _ in range(2) for batch in loader]  # two epochs

    torch.manual_seed(123)
    first = order(7)
    torch.manual_seed(456)  # the global state does not matter
    assert order(7) == first
    assert order(8) != first
    assert sorted(sum(first[:4], [])) == list(range(100, 110))  # an epoch sees every molecule once
    assert first[:4] != first[4:]  # and the next epoch is shuffled again


def test_unshuffled_loader_keeps_order(dataset):
    loader = make_dataloader(dataset, batch_size=4, shuffle=False)
    assert [b["index"].tolist() for b in loader] == [[100, 101, 102, 103], [104, 105, 106, 107], [108, 109]]


def test_subset_and_dtype(dataset):
    sub = dataset.subset([9, 0, 3])
    assert sub.index.tolist() == [109, 100, 103] and sub.n_atoms.tolist() == [3, 2, 5]
    torch.testing.assert_close(sub[2]["forces"], dataset[3]["forces"])
    assert sub.metadata["name"] == "toy"
    float32 = MoleculeDataset.from_records(_records(2), dtype=torch.float32)
    assert float32[0]["positions"].dtype == torch.float32 and float32[0]["charges"].dtype == torch.int64
    with pytest.raises(IndexError):
        dataset.subset([10])


def test_from_records_validates():
    bad = _records(2)
    bad[1]["positions"][1] = bad[1]["positions"][0]
    with pytest.raises(InvalidMoleculeError, match="molecule 101"):
        MoleculeDataset.from_records(bad)
    bad = _records(2)
    del bad[1]["energy"]
    with pytest.raises(ValueError, match="record 1 has keys"):
        MoleculeDataset.from_records(bad)
