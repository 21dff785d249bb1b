r"""The Cormorant network (Anderson, Hy & Kondor, NeurIPS 2019), built on :mod:`cormorant_lab.so3`.

One concept per private module: edge geometry (``_geometry``), radial functions (``_radial``), the soft cutoff
(``_cutoff``), covariant channel mixing (``_mixing``), the covariant normalization (``_normalization``), the
input (``_input``), the edge and atom levels (``_edge_level``, ``_atom_level``), their stack
(``_cormorant_cg``), the output (``_output``), the presets (``_presets``) and the model (``_cormorant``).

Quick start::

    model = Cormorant.from_preset("qm9")                       # or "md17"; dtype=torch.float64 for double
    y = model(positions, charges)                              # (B, N, 3) Å, (B, N) integers, 0 = padding
    energy, forces = Cormorant.from_preset("md17").energy_and_forces(positions, charges)
"""

from ._atom_level import AtomLevel
from ._cormorant import Cormorant, CormorantLevels
from ._cormorant_cg import CormorantCG
from ._cutoff import SoftCutoff
from ._edge_level import EdgeLevel, SeparableEdges, edge_activations, pair_dot_products, pair_dot_products_plain
from ._geometry import EdgeGeometry, edge_geometry
from ._input import InputLinear, InputMPNN, species_features
from ._mixing import SO3Linear
from ._normalization import CovariantNormalization, soft_normalize
from ._output import OutputLinear, OutputPMLP, atom_invariants
from ._persistence import (
    CHECKPOINT_FORMAT,
    READABLE_FORMATS,
    CheckpointError,
    load_model,
    model_from_payload,
    predict,
    read_checkpoint,
)
from ._presets import PRESETS
from ._radial import RadialPolyTrig
from .reference import ReferenceCormorant, from_reference, to_reference_state_dict

__all__ = [
    "CHECKPOINT_FORMAT",
    "PRESETS",
    "READABLE_FORMATS",
    "AtomLevel",
    "Cormorant",
    "CheckpointError",
    "CormorantCG",
    "CormorantLevels",
    "CovariantNormalization",
    "EdgeGeometry",
    "EdgeLevel",
    "InputLinear",
    "InputMPNN",
    "OutputLinear",
    "OutputPMLP",
    "RadialPolyTrig",
    "ReferenceCormorant",
    "SO3Linear",
    "SeparableEdges",
    "SoftCutoff",
    "atom_invariants",
    "edge_activations",
    "edge_geometry",
    "from_reference",
    "load_model",
    "model_from_payload",
    "pair_dot_products",
    "pair_dot_products_plain",
    "predict",
    "read_checkpoint",
    "soft_normalize",
    "species_features",
    "to_reference_state_dict",
]
