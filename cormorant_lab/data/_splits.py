"""Train/validation/test splits from a fixed seed, nested for learning curves.

One rule for both benchmarks: draw a permutation of all molecules (frames) from
``numpy.random.RandomState(seed)`` (the generator the original Cormorant code seeded with
``np.random.seed(0)``); the validation set is its first ``n_valid`` entries, the test set the next
``n_test``, and the training set the first ``n_train`` of the rest. Held-out sets therefore do not
move when ``n_train`` changes, and a smaller training set is a subset of every larger one.

Positions returned index into the dataset (``dataset.subset(splits["train"])``).
"""

from __future__ import annotations

import numpy as np

#: The paper's QM9 split after removing the 3,054 uncharacterized molecules (130,831 in all).
QM9_PAPER_SPLIT = {"train": 100_000, "valid": 17_748, "test": 13_083}
#: The paper's MD-17 split.
MD17_PAPER_SPLIT = {"train": 50_000, "valid": 10_000, "test": 10_000}


def random_splits(n_items: int, n_train: int, n_valid: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint index sets ``{"train", "valid", "test"}`` of sizes n_train, n_valid, n_test out of n_items."""
    sizes = {"train": n_train, "valid": n_valid, "test": n_test}
    for name, size in sizes.items():
        if size < 0:
            raise ValueError(f"n_{name} must be non-negative, got {size}")
    if n_train + n_valid + n_test > n_items:
        raise ValueError(f"n_train + n_valid + n_test = {n_train + n_valid + n_test} exceeds the {n_items} available")
    perm = np.random.RandomState(seed).permutation(n_items)
    return {
        "train": perm[n_valid + n_test : n_valid + n_test + n_train],
        "valid": perm[:n_valid],
        "test": perm[n_valid : n_valid + n_test],
    }


def qm9_splits(
    n_molecules: int = 130_831,
    n_train: int = QM9_PAPER_SPLIT["train"],
    n_valid: int = QM9_PAPER_SPLIT["valid"],
    n_test: int = QM9_PAPER_SPLIT["test"],
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """QM9 splits; the defaults are the paper's 100,000 / 17,748 / 13,083 of 130,831 molecules.

    Pass a smaller ``n_train`` for a learning curve: validation and test sets stay the same.
    (The original Cormorant code's split cannot be reproduced exactly: it indexed molecules by
    their position in the tar archive and so excluded the neighbours of the listed molecules.)
    """
    return random_splits(n_molecules, n_train, n_valid, n_test, seed)


def md17_splits(
    n_frames: int,
    n_train: int = MD17_PAPER_SPLIT["train"],
    n_valid: int = MD17_PAPER_SPLIT["valid"],
    n_test: int = MD17_PAPER_SPLIT["test"],
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """MD-17 splits of a trajectory; the defaults are the paper's 50,000 / 10,000 / 10,000 frames.

    The bundled trajectories have 5,000 frames: pass smaller sizes, e.g. ``md17_splits(5000, 1000, 500, 1000)``.
    """
    return random_splits(n_frames, n_train, n_valid, n_test, seed)
