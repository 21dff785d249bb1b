r"""The mathematics of SO(3) that Cormorant is written in — and every convention, on one page.

Conventions
-----------
* **Vectors and rotations.** Cartesian ``(x, y, z)``, right-handed. Rotations are *active* 3×3 matrices,
  :math:`r \mapsto R r`; row-vector batches rotate as ``v @ R.T``. Euler angles are **ZYZ**,
  :math:`R(\alpha,\beta,\gamma) = R_z(\alpha) R_y(\beta) R_z(\gamma)` (:func:`euler_to_rotation`).
* **Basis order.** Every spherical index runs :math:`m = -l, \dots, l` and sits at position ``m + l``.
* **Complex spherical harmonics** :math:`Y_l^m`: orthonormal on the sphere, with the **Condon–Shortley phase**
  :math:`(-1)^m`; :math:`\theta` from +z, :math:`\varphi` from +x; :math:`Y_l^{-m} = (-1)^m \overline{Y_l^m}`.
* **One default basis.** Every function and class here that takes ``basis=`` (``spherical_harmonics``,
  ``wigner_d``, ``clebsch_gordan`` and their ``_all`` versions, ``SO3Vec``, ...) defaults to ``"real"``; pass
  ``basis="complex"`` for the textbook complex basis. Never mix objects from the two bases.
* **Real spherical harmonics** :math:`Y^{\mathrm{real}} = U_l Y` (:func:`complex_to_real`); for l = 1 they are
  :math:`\sqrt{3/4\pi}\,(y, z, x)/r`. **Not e3nn's order**: e3nn (since 0.2.2) orders l = 1 as
  :math:`(x, y, z)`. The two real bases differ by a fixed rotation of the frame,
  :math:`Y^{\mathrm{e3nn}}_l = Q_l Y_l` and :math:`D^{\mathrm{e3nn}} = Q_l D Q_l^\top` with
  :math:`Q_l = D^l(P)`, :math:`P: (x, y, z) \mapsto (z, x, y)` (:func:`real_to_e3nn`, tested against e3nn).
* **Wigner-D** defined by :math:`Y_l(R r) = D^l(R)\, Y_l(r)` in either basis, so
  ``spherical_harmonics(l, v @ R.T) == spherical_harmonics(l, v) @ wigner_d(l, R).T``. It is a representation,
  :math:`D(R_1 R_2) = D(R_1) D(R_2)`; :math:`D^{\mathrm{real}} = U D U^\dagger`. Relative to the textbook
  :math:`\mathcal{D}^l(\alpha,\beta,\gamma) = \langle l m| e^{-i\alpha J_z} e^{-i\beta J_y} e^{-i\gamma J_z}|l m'\rangle`,
  ours is the complex conjugate.
* **Clebsch–Gordan** :math:`\langle l_1 m_1; l_2 m_2 | l m\rangle`: Condon–Shortley sign convention, exact
  (integer arithmetic), entry ``[m1+l1, m2+l2, m+l]``; they satisfy
  :math:`C (D^{l_1} \otimes D^{l_2}) = D^l C`. Real-basis blocks are the complex ones transformed by
  :math:`U` (times :math:`-i` when :math:`l_1+l_2+l` is odd), real and orthonormal too. Swapping the two
  factors, :math:`\langle l_2 m_2; l_1 m_1 | l m\rangle = (-1)^{l_1+l_2-l}\langle l_1 m_1; l_2 m_2 | l m\rangle` in
  both bases — why :func:`cg_square` needs only half the blocks of :math:`a \otimes_{cg} a`.
* **SO(3) vectors** (:class:`SO3Vec`): part ``l`` is ``(*batch, channels, 2l+1)``; rotation acts on the last axis.
  The default network works in the real basis (real arithmetic). That is the paper's complex mathematics only for
  vectors satisfying the reality condition :math:`F_{l,-m} = (-1)^m \overline{F_{l,m}}`; the reference
  implementation's are general complex vectors (``cormorant_lab.nn.reference``, ``docs/differences.md``).
* **At r = 0** :math:`Y_0^0 = 1/\sqrt{4\pi}` and :math:`Y_{l>0} = 0`, with zero (never NaN) gradients.
"""

from ._basis import complex_to_real, real_to_e3nn
from ._cg_aggregate import cg_aggregate, cg_aggregate_separable, iter_separable_aggregate_pieces
from ._cg_product import RowPlan, all_rows_matrix, cg_product, output_channels, pieces_by_degree, plans_for
from ._cg_square import cg_square, cg_square_expansion, iter_square_pieces
from ._clebsch_gordan import clebsch_gordan, clebsch_gordan_exact, clebsch_gordan_squared
from ._rotation import check_rotation, euler_to_rotation, quaternion_to_rotation, random_rotation, rotation_to_euler
from ._so3vec import SO3Vec
from ._spherical_harmonics import (
    harmonics_coefficients,
    spherical_harmonics,
    spherical_harmonics_all,
    spherical_harmonics_recurrence,
    stacked_harmonics,
)
from ._wigner import wigner_d, wigner_d_all

__all__ = [
    "RowPlan",
    "all_rows_matrix",
    "SO3Vec",
    "cg_aggregate",
    "cg_aggregate_separable",
    "cg_product",
    "cg_square",
    "cg_square_expansion",
    "check_rotation",
    "clebsch_gordan",
    "clebsch_gordan_exact",
    "clebsch_gordan_squared",
    "complex_to_real",
    "euler_to_rotation",
    "harmonics_coefficients",
    "iter_separable_aggregate_pieces",
    "iter_square_pieces",
    "output_channels",
    "pieces_by_degree",
    "plans_for",
    "quaternion_to_rotation",
    "random_rotation",
    "real_to_e3nn",
    "rotation_to_euler",
    "spherical_harmonics",
    "spherical_harmonics_all",
    "spherical_harmonics_recurrence",
    "stacked_harmonics",
    "wigner_d",
    "wigner_d_all",
]
