r"""Covariant soft normalization: keeps every level's activations bounded without breaking covariance.

Why: the paper's network has no normalization. Each atom level squares its input through the CG product
:math:`F \otimes_{cg} F` and sums over neighbours, so a scale :math:`s` becomes :math:`\sim s^2` one level later:
the exponent doubles per level. On random molecules the reference implementation's activations reach
:math:`\sim 10^{3}, 10^{7}, 10^{21}` over its four levels in float32 and some outputs become inf/NaN when atoms
come close (where the radial functions :math:`r^{-k}` are large).

What: after the channel mixing of every atom level (and after the input featurization), each degree of each
atom is divided by an invariant of that same degree and atom,

.. math::

    F_{i,l} \;\leftarrow\; \frac{F_{i,l}}{\sqrt{1 + q_{i,l}}}, \qquad
    q_{i,l} = \frac{1}{\tau_l} \sum_{c=1}^{\tau_l} \lVert F_{i,l,c} \rVert^2 .

Properties:

* **exactly covariant** — :math:`q_{i,l}` is invariant (:math:`D^l` is orthogonal) and the division is
  channel-uniform, so :math:`F_{i,l} D^{l\top}` maps to :math:`(\ldots) D^{l\top}`; it is per atom, so it
  commutes with permutations, and it maps zero (padding atoms) to zero;
* **bounded** — afterwards :math:`q_{i,l} < 1`, so every channel has :math:`\lVert F_{i,l,c}\rVert^2 < \tau_l`
  whatever the input, and the next level's CG square is bounded too: growth cannot compound across levels;
* **near the identity for small activations** (:math:`q \ll 1`), smooth everywhere (no division by a norm that
  may vanish, so gradients at zero are finite), and parameter-free (the next mixing matrix sets the scale).

Per degree rather than per atom, so that a large l = 0 part does not squash the l > 0 parts.

Scale and floor (``scale`` κ, ``epsilon`` ε; both 1 by default): :math:`F_{i,l} / \sqrt{\varepsilon + q_{i,l}/\kappa^2}`
caps :math:`q` at :math:`\kappa^2` afterwards and is :math:`F/\sqrt{\varepsilon}` for :math:`q \ll \varepsilon\kappa^2`.
The per-epoch ablations of both (``docs/differences.md``, "Accuracy per epoch") found no better setting than 1, 1:
a loose cap (κ = 3, 10) trains badly (test MAE 3.9 and 30 kcal/mol after 20 epochs, against 0.99), tighter
ones learn the first epochs slower.
``mode="none"`` switches it off (the reference's behaviour), e.g. to show the blow-up in a notebook.
"""

from __future__ import annotations

import torch
from torch import nn

from ..so3 import SO3Vec
from ._mixing import positive_finite

NORMALIZATIONS = ("soft", "none")


def soft_normalize(part: torch.Tensor, scale: float = 1.0, epsilon: float = 1.0) -> torch.Tensor:
    """``part / sqrt(ε + mean_c ||part_c||² / κ²)`` (κ = ``scale``, ε = ``epsilon``) for a part ``(..., channels, 2l+1)``."""
    q = part.pow(2).sum(dim=(-2, -1), keepdim=True) / (part.shape[-2] * scale * scale)
    return part * torch.rsqrt(epsilon + q)


class CovariantNormalization(nn.Module):
    """Apply :func:`soft_normalize` to every degree of an SO3Vec (``mode="soft"``), or nothing (``"none"``)."""

    def __init__(self, mode: str = "soft", scale: float = 1.0, epsilon: float = 1.0):
        super().__init__()
        if mode not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {mode!r}")
        self.mode = mode
        self.scale = positive_finite(scale, "normalization_scale")
        self.epsilon = positive_finite(epsilon, "normalization_epsilon")

    def forward(self, vec: SO3Vec) -> SO3Vec:
        if self.mode == "none":
            return vec
        return vec.apply(lambda part: soft_normalize(part, self.scale, self.epsilon))

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, scale={self.scale}, epsilon={self.epsilon}"


def soft_normalize_stacked(x: torch.Tensor, degree_sum: torch.Tensor, scale: float, epsilon: float) -> torch.Tensor:
    r""":func:`soft_normalize` of every degree at once: ``x`` ``(B, τ, N, Σ(2l+1))``, channels first, degrees stacked.

    :math:`y_{c,m} = x_{c,m}\, r_{l(m)}` with :math:`r_l = (\varepsilon + a \sum_{c,\, m \in l} x_{c,m}^2)^{-1/2}`,
    :math:`a = 1/(\tau\kappa^2)`, per molecule and atom; ``degree_sum`` ``(Σ(2l+1), L+1)`` is the 0/1 matrix that
    sums the components of each degree (its transpose spreads a per-degree factor over them).

    An autograd Function with the derivatives written out (below), whose backward is itself one: a step that
    trains on forces differentiates the backward pass, and autograd's own graph of this chain (square, sum,
    product, scale, reciprocal root, spread, product) costs ~74 kernels per level there, these ~40.
    Equal to ``self.normalize`` degree by degree, first and second derivatives included
    (``tests/nn/test_lean_forms.py``), and to :func:`soft_normalize_stacked_plain`.

    Per degree block (over c and m ∈ l), with :math:`\bar y` the gradient of y:
    :math:`\bar x = r \bar y - a r^3 (\bar y \cdot x)\, x` (the matrix :math:`r I - a r^3 x x^\top` is symmetric).
    """
    return _SoftNormalizeStacked.apply(x, degree_sum, 1.0 / (x.shape[-3] * scale * scale), float(epsilon))


def soft_normalize_stacked_plain(
    x: torch.Tensor, degree_sum: torch.Tensor, scale: float, epsilon: float
) -> torch.Tensor:
    """:func:`soft_normalize_stacked` as the formula reads, differentiated by autograd (the textbook form)."""
    q = (x.square().sum(-3) @ degree_sum) / (x.shape[-3] * scale * scale)  # (B, N, L+1)
    factor = torch.rsqrt(epsilon + q) @ degree_sum.transpose(0, 1)  # (B, N, Σ(2l+1))
    return x * factor.unsqueeze(-3)


def _block_dots(u: torch.Tensor, v: torch.Tensor, degree_sum: torch.Tensor) -> torch.Tensor:
    """``Σ_{c, m ∈ l} u_{c,m} v_{c,m}`` per degree: ``(B, τ, N, M)`` twice → ``(B, N, L+1)``."""
    return (u * v).sum(-3) @ degree_sum


def _spread(per_degree: torch.Tensor, degree_sum: torch.Tensor) -> torch.Tensor:
    """A per-degree factor ``(..., L+1)`` on every component of its degree, ``(..., M)``, ready for the channels."""
    return (per_degree @ degree_sum.transpose(0, 1)).unsqueeze(-3)


class _SoftNormalizeStacked(torch.autograd.Function):
    """``y = x · r`` (see :func:`soft_normalize_stacked`); keeps ``x``, ``r`` ``(B, N, L+1)``, its spread and
    ``-a r³`` (which every backward pass needs: training on forces runs two per forward pass)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, degree_sum: torch.Tensor, a: float, epsilon: float) -> torch.Tensor:
        root = _block_dots(x, x, degree_sum).mul_(a).add_(epsilon).rsqrt_()  # r, (B, N, L+1)
        spread = _spread(root, degree_sum)  # (B, 1, N, M)
        cube = root.pow(3).mul_(-a)  # -a r³, (B, N, L+1)
        ctx.save_for_backward(x, degree_sum, root, spread, cube)
        ctx.a = a
        # y stored in the standard layout whatever x's (the next level reads it channels first, in place)
        return torch.mul(x, spread, out=torch.empty(x.shape, dtype=x.dtype, device=x.device))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, degree_sum, root, spread, cube = ctx.saved_tensors
        # -3 a r² (3 a² r⁵ = (-a r³)(-3 a r²)): only for the second derivatives, when this pass is recorded
        square = root.square().mul_(-3.0 * ctx.a) if torch.is_grad_enabled() else None
        return _SoftNormalizeGradient.apply(x, grad, degree_sum, spread, cube, square), None, None, None


class _SoftNormalizeGradient(torch.autograd.Function):
    r""":math:`\bar x = r \bar y - a r^3 (\bar y \cdot x)\, x` per degree block, as a function of x and :math:`\bar y`.

    Its own gradient, for a gradient h of :math:`\bar x` (second derivatives: training on forces), per block:

    .. math::

        \partial_{\bar y} = r h - a r^3 (h \cdot x)\, x, \qquad
        \partial_x = \bigl(3 a^2 r^5 (\bar y \cdot x)(h \cdot x) - a r^3 (h \cdot \bar y)\bigr) x
            - a r^3 (h \cdot x)\, \bar y - a r^3 (\bar y \cdot x)\, h

    (from :math:`\partial r / \partial x = -a r^3 x`). The spread of ``r``, ``-a r³`` (from the forward pass) and
    ``-3 a r²`` (``None`` when this pass is not recorded: then no second derivative is taken) are constants here,
    their dependence on x is in the formula. Checked by ``gradcheck`` and ``gradgradcheck``.
    """

    @staticmethod
    def forward(ctx, x, grad, degree_sum, spread, cube, square):
        cube_dot = _block_dots(grad, x, degree_sum) * cube  # -a r³ (ȳ · x)
        ctx.save_for_backward(x, grad, degree_sum, spread, cube, square, cube_dot)
        # x's term first: the result is laid out as x is (the atom level stores x components-major)
        return torch.addcmul(x * _spread(cube_dot, degree_sum), grad, spread)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, h: torch.Tensor):
        x, grad, degree_sum, spread, cube, square, cube_dot = ctx.saved_tensors
        # h·x and h·ȳ per degree block: one product, one reduction and one matrix product for both
        h_x, h_grad = _block_dots(h, torch.stack([x, grad]), degree_sum).unbind(0)
        # 3 a² r⁵ (ȳ·x)(h·x) - a r³ (h·ȳ) = (-a r³ ȳ·x)(h·x)(-3 a r²) + (-a r³)(h·ȳ)
        on_x = torch.addcmul(cube * h_grad, cube_dot * h_x, square)
        factors = torch.stack([on_x, cube * h_x, cube_dot], dim=-2) @ degree_sum.transpose(0, 1)  # (B, N, 3, M)
        on_x, on_grad, on_h = (factors[..., k, :].unsqueeze(-3) for k in range(3))
        grad_x = torch.addcmul(torch.addcmul(x * on_x, grad, on_grad), h, on_h)
        grad_grad = torch.addcmul(h * spread, x, on_grad)
        return grad_x, grad_grad, None, None, None, None
