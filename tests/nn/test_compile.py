"""The compiled path: ``torch.compile(fullgraph=True)`` traces the network without graph breaks and computes the
same function as eager mode — outputs and parameter gradients (qm9 training step), energies and forces (md17).

Small models (two levels, l ≤ 2, 3 channels) keep the compile time modest; the code paths are the full
model's (message-passing and linear inputs, both heads, the lean recompute-in-backward forms). In CI the graphs
are compiled with the ``aot_eager`` backend: Dynamo's capture (``fullgraph``) and AOTAutograd's forward and
backward graphs exactly as inductor receives them, without inductor's code generation (minutes of CPU for
this network). ``CORMORANT_LAB_COMPILE_BACKEND=inductor`` runs them through inductor
(``benchmarks/gpu_check.sh`` does, on the GPU).
"""

import copy
import os

import torch

from cormorant_lab.checks import random_molecules
from cormorant_lab.nn import Cormorant

BACKEND = os.environ.get("CORMORANT_LAB_COMPILE_BACKEND", "aot_eager")
SMALL = dict(num_cg_levels=2, maxl=2, max_sh=2, num_channels=3, mlp_width=8, num_mixed=4)


def _pair(preset: str, device: str = "cpu"):
    torch.manual_seed(0)
    eager = Cormorant.from_preset(preset, dtype=torch.float64, device=device, **SMALL)
    eager.validate_inputs = False
    compiled = copy.deepcopy(eager)
    compiled.compile(fullgraph=True, backend=BACKEND)  # fullgraph: any graph break is an error
    positions, charges = random_molecules(
        3, 6, species=eager.species, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
    )
    charges[0, -1] = 0  # a padding atom
    return eager, compiled, positions.to(device), charges.to(device)


def test_compiled_qm9_training_step_equals_eager(device):
    eager, compiled, positions, charges = _pair("qm9", device)
    eager.recompute_in_backward = True  # the eager lean forms against the compiled plain ones
    results = []
    for model in (eager, compiled):
        model.zero_grad()
        y = model(positions, charges)
        y.square().sum().backward()
        results.append([y.detach(), *(p.grad for p in model.parameters())])
    assert all(g is not None for g in results[1])
    for a, b in zip(*results, strict=False):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


def test_compiled_qm9_evaluation_without_gradients_equals_eager(device):
    """Under ``torch.no_grad`` (validation) too: no autograd Function is traced where nothing is recorded."""
    eager, compiled, positions, charges = _pair("qm9", device)
    with torch.no_grad():
        torch.testing.assert_close(compiled(positions, charges), eager(positions, charges), rtol=1e-10, atol=1e-12)


def test_compiled_md17_energy_and_forces_equal_eager(device):
    eager, compiled, positions, charges = _pair("md17", device)
    eager.eval(), compiled.eval()
    (e0, f0), (e1, f1) = (model.energy_and_forces(positions, charges) for model in (eager, compiled))
    torch.testing.assert_close(e1, e0, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(f1, f0, rtol=1e-10, atol=1e-12)
    assert f1[0, -1].abs().max() == 0  # the padding atom feels no force


def test_layer_plans_are_exact_after_any_dtype_round_trip():
    """The CG plans a layer holds (what lets the compiled graph skip the cache) equal the cache's exact float64
    matrices after .to(float32).to(float64): they are converted from exact values, never from rounded ones."""
    from cormorant_lab.nn._cg_plans import CouplingPlans
    from cormorant_lab.so3._cg_product import plans_for

    layer = CouplingPlans(3, 3, 3, basis="real", square=True).to(torch.float32).to(torch.float64)
    cached = plans_for(3, 3, 3, torch.zeros((), dtype=torch.float64), "real", square=True)
    held = layer()
    assert [p.degrees for p in held] == [p.degrees for p in cached]
    for mine, exact in zip(held, cached, strict=False):
        assert mine.matrix.dtype == torch.float64 and torch.equal(mine.matrix, exact.matrix)
