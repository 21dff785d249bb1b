r"""The reference mode: risilab/cormorant's network reimplemented weight for weight, and its weight converter.

``Cormorant.from_preset("qm9", reference=True)`` / ``("md17", reference=True)`` build
:class:`ReferenceCormorant` (``_network``), whose pieces are its complex channel mixing (``_complex``), pair
geometry, radial functions and cutoffs (``_geometry``), input (``_input``), edge and atom levels (``_levels``) and
output (``_output``). :func:`from_reference` loads a reference model's ``state_dict`` into it and
:func:`to_reference_state_dict` writes one back (``_convert``). What differs between the reference mode and the
default presets, and what each difference costs, is listed in ``docs/differences.md``.
"""

from ._complex import ComplexMixing
from ._convert import from_reference, reference_key_map, to_reference_state_dict
from ._fixture import (
    fixture_batch,
    fixture_config,
    fixture_model,
    fixture_weights,
    load_reference_fixture,
    reference_fixture_path,
)
from ._implementation import REFERENCE_DEFAULTS, reference_implementation_inputs, reference_implementation_model
from ._network import ReferenceCormorant

__all__ = [
    "REFERENCE_DEFAULTS",
    "ComplexMixing",
    "ReferenceCormorant",
    "fixture_batch",
    "fixture_config",
    "fixture_model",
    "fixture_weights",
    "load_reference_fixture",
    "reference_fixture_path",
    "from_reference",
    "reference_implementation_inputs",
    "reference_implementation_model",
    "reference_key_map",
    "to_reference_state_dict",
]
