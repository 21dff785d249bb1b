r"""Glyphs: the exact maps from real-basis spherical tensors of degree 1 and 2 to Cartesian objects one can draw.

A Cormorant activation :math:`F_l` of degree l transforms as :math:`F_l \mapsto D^l(R) F_l` when the molecule
turns by :math:`R` (real basis, components ordered :math:`m = -l, \dots, l`; see :mod:`cormorant_lab.so3`). For
l = 1 and l = 2 there are *unitary* (norm-preserving) maps to Cartesian objects on which the rotation acts the
familiar way, so the glyphs drawn from them turn with the molecule:

**l = 1 → vector.** The real l = 1 harmonics are :math:`\sqrt{3/4\pi}\,(y, z, x)/r`, i.e. the components
:math:`(f_{-1}, f_0, f_1)` are the Cartesian components :math:`(v_y, v_z, v_x)`. With the permutation matrix
:math:`P` (:data:`L1_TO_CARTESIAN`), :math:`v = P f`. From :math:`Y_1(Rr) = D^1(R) Y_1(r)` and
:math:`Y_1(r) \propto P^\top r` follows :math:`D^1(R) = P^\top R P`, hence

.. math::  v(D^1(R) f) = P P^\top R P f = R\, v(f).

**l = 2 → symmetric traceless tensor.** The real solid harmonics of degree 2 are quadratic forms,
:math:`r^2 Y_{2m}(\hat r) = \sqrt{15/8\pi}\; r^\top B_m r`, with the Frobenius-orthonormal basis
(:data:`L2_BASIS`) of symmetric traceless 3×3 matrices

.. math::

    B_{-2} = \tfrac{1}{\sqrt2}(e_x e_y^\top + e_y e_x^\top),\quad
    B_{-1} = \tfrac{1}{\sqrt2}(e_y e_z^\top + e_z e_y^\top),\quad
    B_{0} = \tfrac{1}{\sqrt6}\operatorname{diag}(-1, -1, 2),\quad
    B_{1} = \tfrac{1}{\sqrt2}(e_x e_z^\top + e_z e_x^\top),\quad
    B_{2} = \tfrac{1}{\sqrt2}\operatorname{diag}(1, -1, 0).

The map is :math:`T(f) = \sum_m f_m B_m`, an isometry :math:`\mathbb{R}^5 \to` {symmetric traceless matrices}
(:math:`\lVert T \rVert_F = \lVert f \rVert`). Since :math:`Y_2(Rr) = D^2(R) Y_2(r)` and quadratic forms of
traceless matrices are independent on the sphere, :math:`R B_m R^\top = \sum_{m'} D^2(R)_{m'm} B_{m'}`, so

.. math::  T(D^2(R) f) = R\, T(f)\, R^\top.

**Ellipsoid.** A traceless T has eigenvalues of both signs, so it is drawn as the ellipsoid
:math:`\{M u : \lVert u\rVert = 1\}` with :math:`M = \rho\, \exp(T/s)` (matrix exponential; semi-axes
:math:`\rho\, e^{\lambda_i/s}` along the eigenvectors of T, volume :math:`\frac{4}{3}\pi\rho^3` whatever T is): elongated along
positive eigenvalues, flattened along negative ones, a sphere for T = 0, and :math:`T \ne -T` as shapes. As
:math:`\exp(R T R^\top) = R \exp(T) R^\top`, the ellipsoid matrix is covariant too: :math:`M(D^2(R) f) = R M(f) R^\top`.
"""

from __future__ import annotations

import math

import torch

#: ``v = f @ L1_TO_CARTESIAN.T``: real l = 1 components (m = -1, 0, 1) ≅ (y, z, x) → Cartesian (x, y, z).
L1_TO_CARTESIAN = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)

_S2, _S6 = 1 / math.sqrt(2), 1 / math.sqrt(6)
#: ``L2_BASIS[m + 2]`` is the symmetric traceless matrix B_m of the module docstring, shape (5, 3, 3).
L2_BASIS = torch.tensor(
    [
        [[0, _S2, 0], [_S2, 0, 0], [0, 0, 0]],  # m = -2: xy
        [[0, 0, 0], [0, 0, _S2], [0, _S2, 0]],  # m = -1: yz
        [[-_S6, 0, 0], [0, -_S6, 0], [0, 0, 2 * _S6]],  # m = 0: 2z² - x² - y²
        [[0, 0, _S2], [0, 0, 0], [_S2, 0, 0]],  # m = 1: xz
        [[_S2, 0, 0], [0, -_S2, 0], [0, 0, 0]],  # m = 2: x² - y²
    ],
    dtype=torch.float64,
)

#: ``r² Y_2m(r̂) = L2_HARMONIC_SCALE · rᵀ B_m r`` for the package's real spherical harmonics.
L2_HARMONIC_SCALE = math.sqrt(15 / (8 * math.pi))


def _check_last(features: torch.Tensor, size: int, what: str) -> None:
    if features.shape[-1] != size:
        raise ValueError(f"{what} needs a last axis of size {size}, got shape {tuple(features.shape)}")


def l1_to_vector(features: torch.Tensor) -> torch.Tensor:
    """Real l = 1 features ``(..., 3)`` (m = -1, 0, 1) → Cartesian vectors ``(..., 3)`` (x, y, z); exact, unitary."""
    _check_last(features, 3, "l1_to_vector")
    return features @ L1_TO_CARTESIAN.to(features).T


def vector_to_l1(vectors: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`l1_to_vector`: Cartesian ``(..., 3)`` → real l = 1 components ``(..., 3)``."""
    _check_last(vectors, 3, "vector_to_l1")
    return vectors @ L1_TO_CARTESIAN.to(vectors)


def l2_to_tensor(features: torch.Tensor) -> torch.Tensor:
    r"""Real l = 2 features ``(..., 5)`` → symmetric traceless matrices :math:`T = \sum_m f_m B_m`, ``(..., 3, 3)``."""
    _check_last(features, 5, "l2_to_tensor")
    return torch.einsum("...m,mij->...ij", features, L2_BASIS.to(features))


def tensor_to_l2(tensors: torch.Tensor) -> torch.Tensor:
    r"""The inverse of :func:`l2_to_tensor` on symmetric traceless matrices: :math:`f_m = \langle B_m, T\rangle_F`, ``(..., 5)``."""
    if tensors.shape[-2:] != (3, 3):
        raise ValueError(f"tensor_to_l2 needs (..., 3, 3) matrices, got shape {tuple(tensors.shape)}")
    return torch.einsum("...ij,mij->...m", tensors, L2_BASIS.to(tensors))


def ellipsoid_matrix(tensors: torch.Tensor, *, radius: float, scale: float) -> torch.Tensor:
    r""":math:`M = \rho \exp(T / s)` for symmetric ``tensors`` ``(..., 3, 3)``: the ellipsoid is ``M @ unit sphere``.

    ``radius`` is ρ (Å), ``scale`` is s (feature units per e-fold of a semi-axis). Computed from the symmetric
    eigen-decomposition, so M is symmetric positive definite; :math:`M(R T R^\top) = R M(T) R^\top`.
    """
    if scale <= 0 or radius <= 0:
        raise ValueError(f"radius and scale must be positive, got radius={radius}, scale={scale}")
    eigenvalues, eigenvectors = torch.linalg.eigh(tensors)
    return radius * (eigenvectors * torch.exp(eigenvalues / scale).unsqueeze(-2)) @ eigenvectors.transpose(-1, -2)


def ellipsoid_axes(tensors: torch.Tensor, *, radius: float, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Semi-axis lengths ``(..., 3)`` (ascending) and unit axis directions (columns of ``(..., 3, 3)``) of :func:`ellipsoid_matrix`."""
    eigenvalues, eigenvectors = torch.linalg.eigh(tensors)
    return radius * torch.exp(eigenvalues / scale), eigenvectors


def unit_sphere_mesh(resolution: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """A UV sphere: vertices ``(V, 3)`` float64 on the unit sphere and triangles ``(F, 3)`` (indices, outward normals).

    ``resolution`` latitude bands and ``2·resolution`` longitudes; the poles are shared vertices.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    theta = torch.linspace(0, math.pi, resolution + 1, dtype=torch.float64)[1:-1]
    phi = torch.arange(2 * resolution, dtype=torch.float64) * (math.pi / resolution)
    t, p = torch.meshgrid(theta, phi, indexing="ij")
    ring = torch.stack([t.sin() * p.cos(), t.sin() * p.sin(), t.cos()], dim=-1).reshape(-1, 3)
    poles = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]], dtype=torch.float64)
    vertices = torch.cat([poles[:1], ring, poles[1:]])
    n, bands = 2 * resolution, resolution - 1
    index = lambda band, k: 1 + band * n + k % n  # noqa: E731
    faces = [(0, index(0, k), index(0, k + 1)) for k in range(n)]
    for band in range(bands - 1):
        for k in range(n):
            a, b, c, d = index(band, k), index(band, k + 1), index(band + 1, k), index(band + 1, k + 1)
            faces += [(a, c, b), (b, c, d)]
    south = len(vertices) - 1
    faces += [(south, index(bands - 1, k + 1), index(bands - 1, k)) for k in range(n)]
    return vertices, torch.tensor(faces, dtype=torch.long)


def ellipsoid_mesh(
    center: torch.Tensor, matrix: torch.Tensor, resolution: int = 12
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Vertices ``(V, 3)``, normals ``(V, 3)`` and faces ``(F, 3)`` of the ellipsoid ``center + M u``, ``|u| = 1``.

    Normals are :math:`M^{-1} u` normalised (the inverse transpose of a symmetric M), for smooth shading.
    """
    sphere, faces = unit_sphere_mesh(resolution)
    matrix = matrix.to(torch.float64)
    vertices = center.to(torch.float64) + sphere @ matrix.T
    normals = torch.linalg.solve(matrix, sphere.T).T
    return vertices, normals / normals.norm(dim=-1, keepdim=True), faces
