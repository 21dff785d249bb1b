"""cormorant_lab: learn, check and train Cormorant, the rotationally covariant Clebsch–Gordan network.

Subpackages: :mod:`cormorant_lab.so3` (the SO(3) mathematics).
"""

__version__ = "0.1.0"
