r"""Input featurization: species and charge scalars, then the QM9 message-passing or the MD-17 linear input.

Every atom starts from invariant scalars (paper, §5 "input"; the reference implementation's ``prepare_input``):

.. math::

    x_{i,(s,p)} = [Z_i = Z_s]\,(Z_i / Z_{\max})^p, \qquad s = 1..S \text{ species},\ p = 0..\text{charge\_power},

zero for padding atoms (charge 0). They become the l = 0 activations :math:`F^0_i` of the first level through

* :class:`InputLinear` (MD-17 preset): :math:`F^0_i = W x_i + b` on real atoms;
* :class:`InputMPNN` (QM9 preset): the reference's message passing: per layer
  :math:`m_{i,c} = \sum_j \mu_c(r_{ij})\, \rho_c(r_{ij})\, x_{j,c}` with learnable radial functions
  :math:`\rho = \text{Linear}(\eta(r))` and the soft cutoff :math:`\mu`, then
  :math:`x_i \leftarrow \text{MLP}([m_i, x_i])` on real atoms.

Both are functions of distances and species only, hence invariant.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

import torch
from torch import nn

from ._cutoff import SoftCutoff
from ._geometry import EdgeGeometry
from ._mlp import mlp
from ._radial import RadialPolyTrig


def check_charges(charges: torch.Tensor, species: torch.Tensor) -> None:
    """Raise ``ValueError`` naming the first charge that is neither 0 (padding) nor one of ``species``."""
    known = (charges.unsqueeze(-1) == species).any(-1) | (charges == 0)
    if bool(known.all()):  # one host synchronisation per forward, for a clear error message
        return
    molecule, atom = (int(i) for i in (~known).nonzero()[0])
    charge = int(charges[molecule, atom])
    raise ValueError(
        f"unknown species: charge {charge} at (molecule {molecule}, atom {atom}); "
        f"this model knows species {species.tolist()} (and 0 for padding)"
    )


def species_features(
    charges: torch.Tensor, species: torch.Tensor, charge_power: int, charge_scale: float, dtype: torch.dtype
) -> torch.Tensor:
    """One-hot species times ``(Z / charge_scale)^p``, ``p = 0..charge_power``: ``(B, N, S * (charge_power + 1))``."""
    one_hot = (charges.unsqueeze(-1) == species).to(dtype)  # (B, N, S)
    exponents = torch.arange(charge_power + 1, device=charges.device, dtype=dtype)
    powers = (charges.to(dtype).unsqueeze(-1) / charge_scale) ** exponents  # (B, N, P+1)
    return (one_hot.unsqueeze(-1) * powers.unsqueeze(-2)).flatten(-2)


class InputLinear(nn.Module):
    """``F^0_i = W x_i + b`` on real atoms, 0 on padding: ``(B, N, num_in) → (B, N, num_out)``."""

    def __init__(self, num_in: int, num_out: int):
        super().__init__()
        self.linear = nn.Linear(num_in, num_out)

    def forward(self, features: torch.Tensor, atom_mask: torch.Tensor, geometry: EdgeGeometry) -> torch.Tensor:
        return self.linear(features) * atom_mask.unsqueeze(-1).to(features.dtype)


class _MessagePassingLayer(nn.Module):
    radial: RadialPolyTrig
    cutoff: SoftCutoff

    def __init__(
        self,
        channels_in: int,
        channels_out: int,
        *,
        basis_set,
        cutoff,
        width: int,
        activation: str,
        radial_frequency_scale: float = 1.0,
    ):
        super().__init__()
        self.radial = RadialPolyTrig(basis_set, frequency_scale=radial_frequency_scale)
        self.radial_mix = nn.Linear(self.radial.num_functions, channels_in)
        self.cutoff = SoftCutoff(channels_in, **cutoff)
        self.mlp = mlp(2 * channels_in, channels_out, width=width, activation=activation)

    def forward(
        self,
        x: torch.Tensor,
        atom_mask: torch.Tensor,
        geometry: EdgeGeometry,
        radial: torch.Tensor | None = None,
        cutoff: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``radial``, ``cutoff``: ``self.radial(geometry)`` and ``self.cutoff(geometry)``, if the caller has them."""
        if radial is None:
            radial = self.radial(geometry)  # (B, R, N, N), channels first
        if cutoff is None:
            cutoff = self.cutoff(geometry)
        mixed = self.radial_mix.weight @ radial.flatten(2) + self.radial_mix.bias.unsqueeze(-1)
        edges = mixed.unflatten(-1, radial.shape[-2:]) * cutoff  # (B, C, N, N)
        messages = torch.einsum("bcij,bjc->bic", edges, x)
        return self.mlp(torch.cat([messages, x], dim=-1)) * atom_mask.unsqueeze(-1).to(x.dtype)


class InputMPNN(nn.Module):
    """The reference's message-passing input (``num_layers`` layers); ``(B, N, num_in) → (B, N, num_out)``."""

    def __init__(
        self,
        num_in: int,
        num_out: int,
        *,
        num_layers: int = 1,
        basis_set: tuple[int, int] = (3, 3),
        radial_frequency_scale: float = 1.0,
        cutoff_type: Collection[str] = ("learn",),
        soft_cut_rad: float = 1.73,
        soft_cut_width: float = 0.2,
        hard_cut_rad: float = 1.73,
        width: int = 256,
        activation: str = "leakyrelu",
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_mpnn_layers must be at least 1, got {num_layers}")
        hidden = max(num_in, num_out)
        channels = [num_in] + [hidden] * (num_layers - 1) + [num_out]
        cutoff = dict(
            cutoff_type=cutoff_type, soft_cut_rad=soft_cut_rad, soft_cut_width=soft_cut_width, hard_cut_rad=hard_cut_rad
        )
        self.layers = nn.ModuleList(
            _MessagePassingLayer(
                c_in,
                c_out,
                basis_set=basis_set,
                cutoff=cutoff,
                width=width,
                activation=activation,
                radial_frequency_scale=radial_frequency_scale,
            )
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=False)
        )

    @property
    def message_layers(self) -> list[_MessagePassingLayer]:
        """The layers, each with its ``radial`` functions and ``cutoff``."""
        return [cast(_MessagePassingLayer, layer) for layer in self.layers]

    def forward(
        self,
        features: torch.Tensor,
        atom_mask: torch.Tensor,
        geometry: EdgeGeometry,
        *,
        functions: tuple[Sequence[torch.Tensor | None], Sequence[torch.Tensor | None]] | None = None,
    ) -> torch.Tensor:
        """``functions``: each layer's radial functions and cutoff mask (``None`` entries: the layer computes its
        own), if the caller computed them with the levels' (``edge_functions_at_once``)."""
        radials, cutoffs = functions if functions is not None else ([None] * len(self.layers),) * 2
        x = features
        for layer, radial, cutoff in zip(self.layers, radials, cutoffs, strict=True):
            x = layer(x, atom_mask, geometry, radial, cutoff)
        return x
