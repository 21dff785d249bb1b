"""The every-row-at-once forms of the CG square and of the separable aggregate equal their row-by-row forms.

``_SquareCoupledAll`` and ``_SeparableCoupledAll`` (few, large kernels) are used when their temporaries fit
``FUSED_BYTES`` and their switches allow (``_cg_square.ALL_ROWS_AT_ONCE``; ``_cg_aggregate.ALL_DEGREES_AT_ONCE``,
"auto": off a CPU only); otherwise the same calls take the row-by-row forms (one degree l1 at a time), which
``test_cg_square_and_separable.py`` checks against the full CG product and the materialized aggregate. Here the
two forms are compared with each other in float64: values, first derivatives and second derivatives (training on
forces differentiates the backward pass), and each test checks which form its graph was built with, so that a
form silently not taken cannot pass.
"""

import pytest
import torch

from cormorant_lab.nn import Cormorant
from cormorant_lab.so3 import (
    _cg_aggregate,
    _cg_product,
    _cg_square,
    iter_separable_aggregate_pieces,
    iter_square_pieces,
)


def graph_node_names(tensors) -> set[str]:
    """The class names of every autograd node behind ``tensors``."""
    names, seen, stack = set(), set(), [t.grad_fn for t in tensors]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


def derivatives(pieces, inputs, generator):
    """A random linear functional of ``pieces``, its gradient (recorded, and not: the backward passes may take
    other forms then), and the gradient of that gradient's square norm."""
    weights = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in pieces]
    value = sum((w * p).sum() for w, p in zip(weights, pieces, strict=True))
    plain = torch.autograd.grad(value, inputs, retain_graph=True)
    first = torch.autograd.grad(value, inputs, create_graph=True)
    second = torch.autograd.grad(sum(g.square().sum() for g in first), inputs)
    return (*first, *plain), second


def assert_close(xs, ys, rtol=1e-12):
    for x, y in zip(xs, ys, strict=True):
        x, y = x.detach(), y.detach()
        scale = float(y.abs().max()) or 1.0
        assert float((x - y).abs().max()) <= rtol * scale


def use_forms(monkeypatch, fused: bool) -> None:
    """Both all-rows-at-once forms on as an accelerator takes them (whatever the device), or both off."""
    monkeypatch.setattr(_cg_square, "ALL_ROWS_AT_ONCE", fused)
    monkeypatch.setattr(_cg_aggregate, "ALL_DEGREES_AT_ONCE", "always" if fused else "never")


def coupled_tensors(pieces) -> int:
    """How many coupled tensors the pieces are views of (one per row, or one for every row)."""
    return len({id(piece._base if piece._base is not None else piece) for piece in pieces})


SQUARE_FORMS = {  # (ALL_ROWS_AT_ONCE, ALL_DEGREES_AT_ONCE)
    "row by row": (False, "never"),
    "all rows, one product per row": (True, "never"),  # a CPU's default
    "all rows, one product": (True, "always"),  # an accelerator's: the block-diagonal all_rows_matrix
}


def run_square(parts, maxl, components_major, form, monkeypatch):
    all_rows, accelerator = SQUARE_FORMS[form]
    monkeypatch.setattr(_cg_square, "ALL_ROWS_AT_ONCE", all_rows)
    monkeypatch.setattr(_cg_aggregate, "ALL_DEGREES_AT_ONCE", accelerator)
    pieces = [piece for _, piece in iter_square_pieces(parts, maxl, "real", components_major=components_major)]
    assert ("_SquareCoupledAllBackward" in graph_node_names(pieces)) == all_rows
    rows = len(parts)
    assert coupled_tensors(pieces) == (1 if form == "all rows, one product" else rows)
    return pieces


@pytest.mark.parametrize("max_l, maxl", [(0, 0), (1, 2), (2, 2), (3, 3), (3, 6)])
@pytest.mark.parametrize("components_major", [False, True])
def test_square_all_rows_at_once_equals_row_by_row(max_l, maxl, components_major, monkeypatch):
    generator = torch.Generator().manual_seed(7)
    base = [torch.randn(3, 4, 5, 2 * l + 1, generator=generator, dtype=torch.float64) for l in range(max_l + 1)]
    results = []
    for form in SQUARE_FORMS:
        parts = [p.clone().requires_grad_(True) for p in base]
        pieces = run_square(parts, maxl, components_major, form, monkeypatch)
        first, second = derivatives(pieces, parts, torch.Generator().manual_seed(3))
        results.append((pieces, first, second))
    for fused_result in results[1:]:
        for fused, row in zip(fused_result, results[0], strict=True):
            assert_close(fused, row)


def separable(generator, batch=2, channels=3, atoms=5, max_sh=3, atom_maxl=2):
    scalars = [
        torch.randn(batch, channels, atoms, atoms, generator=generator, dtype=torch.float64) for _ in range(max_sh + 1)
    ]
    stacked = torch.randn(batch, atoms, (max_sh + 1) ** 2, atoms, generator=generator, dtype=torch.float64)
    f = torch.randn(batch, channels, atoms, (atom_maxl + 1) ** 2, generator=generator, dtype=torch.float64)
    return scalars, stacked, f


@pytest.mark.parametrize("maxl", [1, 3, 5])
@pytest.mark.parametrize("components_major", [False, True])
@pytest.mark.parametrize("harmonics_need_grad", [False, True])
@pytest.mark.parametrize("pass_stacked", [False, True])
def test_aggregate_all_degrees_at_once_equals_degree_by_degree(
    maxl, components_major, harmonics_need_grad, pass_stacked, monkeypatch
):
    base_scalars, base_stacked, base_f = separable(torch.Generator().manual_seed(11))
    results = []
    for fused in (True, False):
        use_forms(monkeypatch, fused)
        scalars = [g.clone().requires_grad_(True) for g in base_scalars]
        stacked = base_stacked.clone().requires_grad_(harmonics_need_grad)
        f = base_f.clone().requires_grad_(True)
        harmonics = [p.transpose(-1, -2) for p in stacked.split([2 * l + 1 for l in range(len(scalars))], dim=-2)]
        pieces = [
            piece
            for _, piece in iter_separable_aggregate_pieces(
                scalars,
                harmonics,
                f,
                maxl,
                "real",
                components_major=components_major,
                stacked_harmonics=stacked if pass_stacked else None,
            )
        ]
        assert ("_SeparableCoupledAllBackward" in graph_node_names(pieces)) == fused
        assert coupled_tensors(pieces) == (1 if fused else len(scalars))  # fused: every row in one product
        inputs = [*scalars, f, *([stacked] if harmonics_need_grad else [])]
        first, second = derivatives(pieces, inputs, torch.Generator().manual_seed(5))
        results.append((pieces, first, second))
    for fused_result, row_result in zip(*results, strict=True):
        assert_close(fused_result, row_result)


def test_stacked_harmonics_with_more_degrees_than_the_edges(monkeypatch):
    """Edges of degrees 0..1 with harmonics stacked to degree 3 (a geometry shared with wider levels)."""
    scalars, stacked, f = separable(torch.Generator().manual_seed(2), max_sh=3)
    harmonics = [p.transpose(-1, -2) for p in stacked.split([1, 3, 5, 7], dim=-2)]
    use_forms(monkeypatch, True)
    fused = list(iter_separable_aggregate_pieces(scalars[:2], harmonics[:2], f, 3, "real", stacked_harmonics=stacked))
    use_forms(monkeypatch, False)
    rows = list(iter_separable_aggregate_pieces(scalars[:2], harmonics[:2], f, 3, "real"))
    assert [l for l, _ in fused] == [l for l, _ in rows]
    assert_close([p for _, p in fused], [p for _, p in rows])


@pytest.mark.parametrize("preset", ["qm9", "md17"])
def test_model_with_and_without_the_fused_forms(preset, monkeypatch):
    """The whole network, float64: energies, forces and the gradient of a forces loss, fused or row by row."""
    torch.manual_seed(0)
    model = Cormorant.from_preset(preset).double()
    generator = torch.Generator().manual_seed(4)
    positions = torch.randn(2, 6, 3, generator=generator, dtype=torch.float64) * 1.5
    charges = torch.tensor([[6, 1, 1, 8, 1, 0], [6, 6, 1, 1, 1, 1]])
    results = []
    for fused in (True, False):
        use_forms(monkeypatch, fused)
        model.zero_grad(set_to_none=True)
        energy, force = model.energy_and_forces(positions, charges, create_graph=True)
        names = graph_node_names([force])
        assert ("_SeparableCoupledAllBackward" in names) == fused
        assert ("_SquareCoupledAllBackward" in names) == fused
        (energy.square().sum() + force.square().sum()).backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append(([energy.detach(), force.detach()], grads))
    assert_close(*(r[0] for r in results), rtol=1e-11)
    assert_close(*(r[1] for r in results), rtol=1e-10)


def test_default_forms_by_device_and_size(device, monkeypatch):
    """By default: the square all at once everywhere; the aggregate every degree at once off a CPU only; neither
    when its temporary would exceed ``FUSED_BYTES``."""
    scalars, stacked, f = separable(torch.Generator().manual_seed(3))
    scalars = [g.to(device).requires_grad_(True) for g in scalars]
    stacked, f = stacked.to(device), f.to(device).requires_grad_(True)
    harmonics = [p.transpose(-1, -2) for p in stacked.split([1, 3, 5, 7], dim=-2)]
    parts = [p.to(device).requires_grad_(True) for p in f.split([1, 3, 5], dim=-1)]

    def forms() -> tuple[bool, bool]:
        square = [p for _, p in iter_square_pieces(parts, 3, "real")]
        aggregate = [p for _, p in iter_separable_aggregate_pieces(scalars, harmonics, f, 3, "real")]
        return (
            "_SquareCoupledAllBackward" in graph_node_names(square),
            "_SeparableCoupledAllBackward" in graph_node_names(aggregate),
        )

    assert forms() == (True, device != "cpu")
    monkeypatch.setattr(_cg_product, "FUSED_BYTES", 0)
    monkeypatch.setattr(_cg_product, "ACCELERATOR_FUSED_BYTES", 0)
    monkeypatch.setattr(_cg_aggregate, "ALL_DEGREES_AT_ONCE", "always")
    assert forms() == (False, False)


def test_size_limit_of_the_fused_forms_by_device():
    """A CPU keeps the fused forms' temporaries cache-sized; an accelerator takes them at the batches it trains on
    (G of every degree at batch 512 × 18 atoms, 10 channels, float32: 106 MiB)."""
    g_bytes = 512 * 10 * 18 * 16 * 18 * 4
    assert _cg_product.fused_bytes(torch.device("cpu")) < g_bytes <= _cg_product.fused_bytes(torch.device("cuda"))
    assert _cg_product.fused_bytes(torch.device("meta")) == _cg_product.ACCELERATOR_FUSED_BYTES
