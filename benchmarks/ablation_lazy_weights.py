"""Ablation (issue 11, item 5): how far the weights move in training, and a larger relative step for them.

``--displacement``: the relative distance ``|W_t - W_0| / |W_0|`` of each group of weight matrices (each level's atom
mixing, each edge level, the head) after epochs 1, 2, 5, 10 and 20 of ``learning_per_epoch.py``'s recipe and data
(seed 0), for the model named. The default md17 preset's weights stay within ~8% (atom mixing, head) to ~16% (edge
levels) of their initialization after 20 epochs; the reference mode's move 75-95% (atom mixing, head) in 10. (That
was the preset of four levels of 10 channels; since 2026-12-07 the preset itself stores its level weights as
``W / C`` (``weight_multiplier``: 2, and 4 since 2026-12-08), and a ``--multiplier`` here multiplies on top of it; ``--overrides
'{"weight_multiplier": 1, ...}'`` starts from the plain weights.)

``--multiplier C``: the default preset trained with every weight matrix (``--which``: those whose name contains one
of the comma-separated fragments) reparametrized as ``W = C·V`` (``torch.nn.utils.parametrize``; V starts at
``W_0 / C``, so the function at initialization is the preset's; ``FRAGMENT:C`` gives a group its own C): Adam's
steps on V move W C times as far, relative to its size. ``--overrides``: the preset's constructor options, as in
``learning_per_epoch.py``. Prints the test MAE after epochs 1, 2, 5 and 20, as ``learning_per_epoch.py`` does.

Usage (one thread; about one CPU minute per run)::

    python -W ignore benchmarks/ablation_lazy_weights.py --displacement default
    python -W ignore benchmarks/ablation_lazy_weights.py --multiplier 10 [--which edge_levels] [--seed 0]
    python -W ignore benchmarks/ablation_lazy_weights.py --multiplier 3 --overrides '{"num_cg_levels": 3, ...}'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch
from torch.nn.utils import parametrize

sys.path.insert(0, str(Path(__file__).resolve().parent))
import learning_per_epoch as lpe  # noqa: E402

EPOCHS = 20


def weight_groups(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The weight matrices of each level's atom mixing, each edge level and the head, flattened per group."""
    groups: dict[str, list[torch.Tensor]] = {}
    for name, value in state.items():
        if not value.is_floating_point() or value.dim() < 2:
            continue
        if "atom_levels" in name and "mix" in name:
            key = "atom mixing, level " + name.split("atom_levels.")[1].split(".")[0]
        elif "edge_levels" in name:
            key = "edge level " + name.split("edge_levels.")[1].split(".")[0]
        elif name.startswith(("head", "output")):
            key = "head"
        else:
            continue
        groups.setdefault(key, []).append(value.detach().double().flatten())
    return {key: torch.cat(parts) for key, parts in groups.items()}


def displacement(name: str, seed: int) -> None:
    start = weight_groups(lpe.build(name, seed).state_dict())
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "ck")
        for epoch in (1, 2, 5, 10, 20):
            lpe.train(name, EPOCHS, seed, stop=epoch, resume=checkpoint, save=checkpoint)
            now = weight_groups(torch.load(f"{checkpoint}.{name}.pt", weights_only=True)["model"])
            moved = ", ".join(
                f"{key} {float((now[key] - start[key]).norm() / start[key].norm()):.3f}" for key in sorted(start)
            )
            print(f"{name} after epoch {epoch}: |W - W0| / |W0|: {moved}", flush=True)


class _Multiplier(torch.nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        return value * self.factor

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        return weight / self.factor


def multiplied(factor: float, which: str, seed: int) -> list[tuple[int, float, float]]:
    """``which``: comma-separated name fragments (``all``: every weight matrix), each optionally ``FRAGMENT:C``."""
    build = lpe.build
    spec = [(part.split(":")[0], float(part.split(":")[1]) if ":" in part else factor) for part in which.split(",")]

    def build_multiplied(name: str, seed: int) -> torch.nn.Module:
        model = build(name, seed)
        count = 0
        for prefix, module in list(model.named_modules()):
            for key, value in list(module.named_parameters(recurse=False)):
                chosen = [c for part, c in spec if value.dim() >= 2 and (part == "all" or part in f"{prefix}.{key}")]
                if chosen:
                    parametrize.register_parametrization(module, key, _Multiplier(chosen[0]))
                    count += 1
        print(f"  {count} weight tensors reparametrized as C·V ({which})", flush=True)
        return model

    lpe.build = build_multiplied
    try:
        return lpe.train("default", EPOCHS, seed)
    finally:
        lpe.build = build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displacement", choices=["default", "reference"])
    parser.add_argument("--multiplier", type=float)
    parser.add_argument("--which", default="all", help="name fragments of the weights to reparametrize (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overrides", default="{}", help="constructor arguments of the default preset (JSON)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lpe.OVERRIDES.update(json.loads(args.overrides))
    if args.displacement:
        displacement(args.displacement, args.seed)
    if args.multiplier:
        rows = multiplied(args.multiplier, args.which, args.seed)
        print(
            f"multiplier {args.multiplier} on {args.which}, seed {args.seed}: "
            + " / ".join(f"{r[1]:.3f}" for r in rows)
        )


if __name__ == "__main__":
    main()
