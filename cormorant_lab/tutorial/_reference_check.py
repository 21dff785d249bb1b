r"""The reference mode against the reference implementation, live in a notebook: the fixture, the converter, the code.

Three checks that the reference mode (``Cormorant.from_preset(preset, reference=True)``) is risilab/cormorant's
network weight for weight, from the one that needs nothing to the one that needs the reference's code:

* :func:`fixture_check` — offline, from the golden fixture shipped in the package
  (:func:`cormorant_lab.nn.reference.load_reference_fixture`): the reference's own stored outputs against the
  reference mode carrying the fixture's weights, as the relative difference
  :math:`\max_b |E_b - E^{\rm ref}_b| / \max_b |E^{\rm ref}_b|`;
* :func:`converter_check` — the converter round trip (:func:`~cormorant_lab.nn.to_reference_state_dict` then
  :func:`~cormorant_lab.nn.from_reference`: identical outputs), and, given the reference's ``src/`` folder, the
  reference's model built with those weights and run live on the same molecules;
* :func:`find_reference_src` — where that folder is, if anywhere (``CORMORANT_LAB_REFERENCE_SRC``, else
  ``/tmp/cormorant_ref/src``). The reference's code is never part of this package.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import torch

REFERENCE_SRC_ENV_VAR = "CORMORANT_LAB_REFERENCE_SRC"
DEFAULT_REFERENCE_SRC = Path("/tmp/cormorant_ref/src")


def find_reference_src(environ: dict | None = None) -> Path | None:
    """The ``src/`` folder of a risilab/cormorant clone, or None when there is none to run.

    ``CORMORANT_LAB_REFERENCE_SRC`` names it (a ``ValueError`` says so if it holds no ``cormorant/models``);
    otherwise ``/tmp/cormorant_ref/src`` is used when it holds the reference, as ``scripts/make_reference_fixture.py``
    suggests cloning it there.
    """
    environ = os.environ if environ is None else environ
    named = environ.get(REFERENCE_SRC_ENV_VAR, "").strip()
    if named:
        path = Path(named).expanduser()
        if not (path / "cormorant" / "models").is_dir():
            raise ValueError(
                f"{REFERENCE_SRC_ENV_VAR}={named} has no cormorant/models/: name the src/ folder of a clone of "
                "https://github.com/risilab/cormorant"
            )
        return path
    return DEFAULT_REFERENCE_SRC if (DEFAULT_REFERENCE_SRC / "cormorant" / "models").is_dir() else None


def fixture_check(preset: str = "md17", dtype: torch.dtype = torch.float64) -> dict[str, float | int]:
    """The reference's stored outputs (golden fixture) against the reference mode with the fixture's weights.

    Returns ``"relative_difference"`` (the tests demand ≤ 1e-10 in float64, ≤ 1e-5 in float32), ``"molecules"``
    (QM9 molecules and trajectory frames in the batch), ``"parameters"`` (of the small fixture model) and
    ``"energy_scale"`` (the largest reference output).
    """
    from ..nn.reference import fixture_batch, fixture_model, load_reference_fixture

    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"the fixture stores float64 and float32 outputs, not {dtype}")
    fixture = load_reference_fixture()
    model = fixture_model(fixture, preset, dtype)
    positions, charges = fixture_batch(fixture, preset, dtype)
    with torch.no_grad():
        energy = model(positions, charges).double()
    expected = torch.from_numpy(fixture[f"{preset}/energy_{str(dtype).removeprefix('torch.')}"]).double()
    return {
        "relative_difference": float((energy - expected).abs().max() / expected.abs().max()),
        "molecules": int(charges.shape[0]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "energy_scale": float(expected.abs().max()),
    }


def converter_check(
    preset: str = "md17", *, reference_src: str | Path | None = None, num_molecules: int = 4, seed: int = 0
) -> dict[str, float]:
    """Check the reference mode's converter on bundled ethanol frames, float64; returns the figures.

    Always: a reference-mode model's weights written in the reference's layout
    (:func:`~cormorant_lab.nn.to_reference_state_dict`) and read back (:func:`~cormorant_lab.nn.from_reference`)
    give identical outputs (``"round_trip_max_difference"``). With ``reference_src`` (the ``src/`` folder of a
    clone of risilab/cormorant, kept outside this repository) the reference's own model is built with those
    weights and run on the same molecules: ``"reference_relative_difference"`` (the tests demand ≤ 1e-10);
    :func:`find_reference_src` says where such a folder is.
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
        # the reference prints its bookkeeping ("CGDICT", "Number of scalars at top") while it builds and runs, and
        # its source compiles with SyntaxWarnings (`is` with literals) on first import
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", SyntaxWarning)
            theirs = reference_implementation_model(
                preset,
                species,
                dtype=torch.float64,
                reference_src=reference_src,
                top=ours.config["top"],
                input=ours.config["input"],
            )
            theirs.load_state_dict(weights)
            expected = theirs(reference_implementation_inputs(positions, charges, species, torch.float64))
        figures["reference_relative_difference"] = float((y - expected).abs().max() / expected.abs().max())
    return figures
