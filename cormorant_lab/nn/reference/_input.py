r"""The reference network's input: species scalars made complex, by a linear map (MD-17) or message passing (QM9).

Both start from :func:`~cormorant_lab.nn.species_features` :math:`x_i` (one-hot times :math:`(Z_i/Z_{\max})^p`) and
produce :math:`C` complex l = 0 channels :math:`F^0_i \in \mathbb C^C`, zero on padding atoms; the real output
``(Re_1, Im_1, Re_2, …)`` of a real network is read as complex numbers, as the reference does:

* :class:`ReferenceInputLinear` (``InputLinear``): :math:`F^0_i = W x_i + b` with :math:`W \in \mathbb R^{2C\times n}`;
* :class:`ReferenceInputMPNN` (``InputMPNN``): per layer,
  :math:`x_i \leftarrow \mathrm{MLP}\bigl([\sum_j \mu(r_{ij})\,\rho(r_{ij}) \odot x_j,\ x_i]\bigr)` with real radial
  functions :math:`\rho = \text{Linear}(\eta(r))` (:class:`PolyTrig`), **one** fixed mask channel
  :math:`\mu = [r < 1.73]\,\sigma((1.73 - r)/0.2)` (soft and hard cutoff) and a one-hidden-layer MLP (width 256,
  LeakyReLU) whose last layer has 2C outputs. The self pair sends a message: :math:`\rho(0)` is the linear
  map's bias.
"""

from __future__ import annotations

import torch
from torch import nn

from ._complex import deinterleave
from ._geometry import ChannelCutoff, PolyTrig

ACTIVATIONS = {"leakyrelu": nn.LeakyReLU, "relu": nn.ReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid}


def activation_module(name: str) -> nn.Module:
    """The reference's ``get_activation_fn``."""
    try:
        return ACTIVATIONS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}") from None


class ReferenceMLP(nn.Module):
    """The reference's ``BasicMLP`` with one hidden layer: ``Linear → activation → Linear`` on the last axis."""

    def __init__(self, num_in: int, num_out: int, width: int = 256, activation: str = "leakyrelu"):
        super().__init__()
        self.hidden, self.activation, self.output = (
            nn.Linear(num_in, width),
            activation_module(activation),
            nn.Linear(width, num_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.activation(self.hidden(x)))


class ReferenceInputLinear(nn.Module):
    """``(B, N, n)`` real features → ``(B, N, C)`` complex :math:`F^0`, zero on padding."""

    def __init__(self, num_in: int, channels: int):
        super().__init__()
        self.linear = nn.Linear(num_in, 2 * channels)

    def forward(
        self, features: torch.Tensor, atom_mask: torch.Tensor, norms: torch.Tensor, pair_mask: torch.Tensor
    ) -> torch.Tensor:
        out = torch.where(
            atom_mask.unsqueeze(-1),
            self.linear(features),
            torch.zeros((), dtype=features.dtype, device=features.device),
        )
        return deinterleave(out)


class ReferenceInputMPNN(nn.Module):
    """Message passing on distances (module docstring): ``(B, N, n)`` real → ``(B, N, C)`` complex, zero on padding."""

    def __init__(
        self,
        num_in: int,
        channels: int,
        *,
        num_layers: int = 1,
        basis_set=(3, 3),
        soft_cut_rad: float = 1.73,
        soft_cut_width: float = 0.2,
        hard_cut_rad: float = 1.73,
        width: int = 256,
        activation: str = "leakyrelu",
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_mpnn_layers must be at least 1, got {num_layers}")
        hidden = max(num_in, channels)
        sizes = [num_in] + [hidden] * (num_layers - 1) + [2 * channels]
        self.mlps = nn.ModuleList(
            ReferenceMLP(2 * c_in, c_out, width, activation) for c_in, c_out in zip(sizes[:-1], sizes[1:], strict=False)
        )
        self.cutoffs = nn.ModuleList(
            ChannelCutoff(1, ("soft", "hard"), hard_cut_rad, soft_cut_rad, soft_cut_width) for _ in sizes[:-1]
        )
        self.radial = nn.ModuleList(PolyTrig(tuple(basis_set), mix=c_in) for c_in in sizes[:-1])

    def forward(
        self, features: torch.Tensor, atom_mask: torch.Tensor, norms: torch.Tensor, pair_mask: torch.Tensor
    ) -> torch.Tensor:
        zero = torch.zeros((), dtype=features.dtype, device=features.device)
        for radial, cutoff, mlp in zip(self.radial, self.cutoffs, self.mlps, strict=False):
            edges = radial(norms, pair_mask) * cutoff(pair_mask, norms)  # (B, N, N, c) real
            messages = torch.einsum("bijc,bjc->bic", edges, features)
            features = torch.where(atom_mask.unsqueeze(-1), mlp(torch.cat([messages, features], dim=-1)), zero)
        return deinterleave(features)
