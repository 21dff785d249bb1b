r"""The paper's complex form beside the real one: the reality condition, and the reference mode's converter check.

A complex SO(3) vector part :math:`F_l` (``(..., channels, 2l+1)``, :math:`m = -l..l`) satisfies the **reality
condition** if

.. math:: F_{l,-m} = (-1)^m\, \overline{F_{l,m}} \quad \text{for every } m,

exactly when :math:`U_l F_l` is real (:func:`~cormorant_lab.so3.complex_to_real`): the real basis describes these
vectors and no others. Spherical harmonics satisfy it, and CG products and *real* mixing weights keep it — so the
default (real-basis) network is the complex one restricted to such vectors. The reference implementation's
activations break it from the input on (two arbitrary reals read as one complex number) and its weights are
complex: its C complex channels hold 2(2l+1) reals per degree where a real channel holds 2l+1
(``docs/differences.md``). :func:`reality_defect` measures how far a vector is from the condition;
:func:`converter_check` runs the reference mode's weight-conversion check live.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..so3 import SO3Vec


def reality_defect(vec: SO3Vec) -> list[float]:
    r"""Per degree, :math:`\lVert F_{l,-m} - (-1)^m \overline{F_{l,m}} \rVert / \lVert F_l \rVert` (0 for a real vector).

    A real-basis ``SO3Vec`` is first mapped to the complex basis (where the condition is stated); for it every entry
    is 0 up to rounding.
    """
    if not isinstance(vec, SO3Vec):
        raise TypeError(f"reality_defect needs an SO3Vec, got {type(vec).__name__}")
    defects = []
    for l, part in enumerate(p.detach() for p in vec.parts):
        if vec.basis == "real":
            from ..so3 import complex_to_real

            u = complex_to_real(l, dtype=torch.complex128, device=part.device)
            part = part.to(torch.complex128) @ u.conj()  # F^c = U^† F^r, rows as vectors
        signs = torch.tensor([(-1.0) ** m for m in range(-l, l + 1)], dtype=part.real.dtype, device=part.device)
        norm = float(part.abs().square().sum().sqrt())
        gap = float((part.flip(-1) - signs * part.conj()).abs().square().sum().sqrt())
        defects.append(gap / norm if norm > 0 else gap)
    return defects


def converter_check(
    preset: str = "md17", *, reference_src: str | Path | None = None, num_molecules: int = 4, seed: int = 0
) -> dict[str, float]:
    """Check the reference mode's converter on bundled ethanol frames, float64; returns the figures.

    Always: a reference-mode model's weights written in the reference's layout
    (:func:`~cormorant_lab.nn.to_reference_state_dict`) and read back (:func:`~cormorant_lab.nn.from_reference`)
    give identical outputs (``"round_trip_max_difference"``). With ``reference_src`` (the ``src/`` folder of a
    clone of risilab/cormorant, kept outside this repository) the reference's own model is built with those
    weights and run on the same molecules: ``"reference_relative_difference"`` (the tests demand ≤ 1e-10).
    """
    import numpy as np

    from ..data import bundled_path
    from ..nn import Cormorant, from_reference, to_reference_state_dict

    with np.load(bundled_path("ethanol")) as data:
        positions = torch.tensor(data["R"][: 100 * num_molecules : 100])
        charges = torch.tensor(data["z"]).repeat(num_molecules, 1)
    torch.manual_seed(seed)
    ours = Cormorant.from_preset(preset, reference=True, dtype=torch.float64)
    weights = to_reference_state_dict(ours)
    again = from_reference(weights, preset)
    with torch.no_grad():
        y, y_again = ours(positions, charges), again(positions, charges)
    figures = {"round_trip_max_difference": float((y - y_again).abs().max()), "output_scale": float(y.abs().max())}
    if reference_src is not None:
        from ..nn.reference import reference_implementation_inputs, reference_implementation_model

        species = list(ours.species)
        theirs = reference_implementation_model(
            preset,
            species,
            dtype=torch.float64,
            reference_src=reference_src,
            top=ours.config["top"],
            input=ours.config["input"],
        )
        theirs.load_state_dict(weights)
        batch = reference_implementation_inputs(positions, charges, species, torch.float64)
        with torch.no_grad():
            expected = theirs(batch)
        figures["reference_relative_difference"] = float((y - expected).abs().max() / expected.abs().max())
    return figures
