"""The small multilayer perceptrons of the invariant parts: the QM9 input's message update and the QM9 head.

They act on invariant scalars only (never on l > 0 parts), so any nonlinearity is allowed there.
"""

from __future__ import annotations

from torch import nn

ACTIVATIONS = {"leakyrelu": nn.LeakyReLU, "relu": nn.ReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid, "silu": nn.SiLU}


def mlp(num_in: int, num_out: int, *, width: int = 256, activation: str = "leakyrelu") -> nn.Sequential:
    """The reference's ``BasicMLP``: Linear → activation → Linear, one hidden layer of ``width`` units."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return nn.Sequential(nn.Linear(num_in, width), ACTIVATIONS[activation](), nn.Linear(width, num_out))
