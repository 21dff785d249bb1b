r"""Rotation matrices: ZYZ Euler angles, Haar-random sampling, and a check that a matrix is a rotation.

Rotations are *active* 3×3 matrices acting on column vectors, :math:`r \mapsto R r`; a batch of row vectors
``v`` of shape ``(..., 3)`` is rotated as ``v @ R.T``. Euler angles are ZYZ:
:math:`R(\alpha, \beta, \gamma) = R_z(\alpha)\, R_y(\beta)\, R_z(\gamma)`, each a right-handed rotation about
a fixed axis.
"""

from __future__ import annotations

import torch


def _axis_rotation(angle: torch.Tensor, axis: str) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(angle), torch.ones_like(angle)
    if axis == "z":
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    else:  # "y"
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def euler_to_rotation(alpha, beta, gamma) -> torch.Tensor:
    r"""Rotation matrix :math:`R_z(\alpha) R_y(\beta) R_z(\gamma)`, shape ``broadcast(alpha, beta, gamma) + (3, 3)``.

    Angles are tensors or numbers (radians); numbers give float64.
    """
    dtype = _angle_dtype(alpha, beta, gamma)
    alpha, beta, gamma = torch.broadcast_tensors(*(torch.as_tensor(a, dtype=dtype) for a in (alpha, beta, gamma)))
    return _axis_rotation(alpha, "z") @ _axis_rotation(beta, "y") @ _axis_rotation(gamma, "z")


def _angle_dtype(*angles) -> torch.dtype:
    for a in angles:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            return a.dtype
    return torch.float64


def rotation_to_euler(rotation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""ZYZ Euler angles :math:`(\alpha, \beta, \gamma)` with ``euler_to_rotation(α, β, γ) == rotation``.

    :math:`\beta \in [0, \pi]`; at the gimbal-lock poles (:math:`\beta = 0, \pi`) :math:`\gamma = 0` is chosen.
    """
    check_rotation(rotation)
    beta = torch.acos(rotation[..., 2, 2].clamp(-1, 1))
    sin_beta = torch.sin(beta)
    pole = sin_beta < 1e-7 if rotation.dtype == torch.float64 else sin_beta < 1e-4
    alpha = torch.where(
        pole,
        torch.atan2(rotation[..., 1, 0], rotation[..., 0, 0]),
        torch.atan2(rotation[..., 1, 2], rotation[..., 0, 2]),
    )
    gamma = torch.where(pole, torch.zeros_like(beta), torch.atan2(rotation[..., 2, 1], -rotation[..., 2, 0]))
    # At beta = pi, R = Rz(alpha) Ry(pi): R[0,0] = -cos(alpha), R[1,0] = -sin(alpha)... fix the sign there.
    south = pole & (rotation[..., 2, 2] < 0)
    alpha = torch.where(south, torch.atan2(-rotation[..., 1, 0], -rotation[..., 0, 0]), alpha)
    return alpha, beta, gamma


def random_rotation(
    n: int | None = None,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Rotations drawn uniformly from SO(3) (the Haar measure): shape ``(n, 3, 3)``, or ``(3, 3)`` if ``n`` is None.

    Method: a unit quaternion with i.i.d. normal components is uniform on S³, and S³ → SO(3) maps the uniform
    measure to the Haar measure. (Uniform Euler angles are *not* Haar: they over-sample the poles.)
    """
    shape = (1 if n is None else n, 4)
    q = torch.randn(
        shape, generator=generator, dtype=torch.float64, device=generator.device if generator is not None else device
    )
    q = q / q.norm(dim=-1, keepdim=True)
    rotation = quaternion_to_rotation(q).to(dtype=dtype, device=device)
    return rotation[0] if n is None else rotation


def quaternion_to_rotation(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` from unit quaternions ``(..., 4)`` ordered (w, x, y, z)."""
    w, x, y, z = q.unbind(-1)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def check_rotation(rotation: torch.Tensor, *, atol: float | None = None) -> None:
    """Raise ``ValueError`` unless ``rotation`` is ``(..., 3, 3)`` with ``RᵀR = I`` and ``det R = +1``.

    ``atol`` defaults to 1e-9 in float64 and 1e-4 otherwise.
    """
    if not isinstance(rotation, torch.Tensor) or rotation.shape[-2:] != (3, 3):
        shape = tuple(rotation.shape) if isinstance(rotation, torch.Tensor) else type(rotation).__name__
        raise ValueError(f"rotation must be a tensor of shape (..., 3, 3), got {shape}")
    if not rotation.is_floating_point():
        raise ValueError(f"rotation must be floating point, got {rotation.dtype}")
    if atol is None:
        atol = 1e-9 if rotation.dtype == torch.float64 else 1e-4
    identity = torch.eye(3, dtype=rotation.dtype, device=rotation.device)
    orthogonality_error = (rotation.transpose(-1, -2) @ rotation - identity).abs().amax()
    if not orthogonality_error <= atol:
        raise ValueError(f"rotation is not orthogonal: max |RᵀR - I| = {float(orthogonality_error):.3g} > {atol:g}")
    determinant = torch.linalg.det(rotation)
    if bool((determinant < 0).any()):
        raise ValueError("rotation has det = -1: it is a reflection (improper rotation), not an element of SO(3)")
