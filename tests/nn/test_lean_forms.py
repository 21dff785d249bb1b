"""Lean forms of the levels against their plain forms: the normalization of every degree at once, the concatenation
whose gradient is one split."""

import inspect

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from cormorant_lab.nn import AtomLevel
from cormorant_lab.nn._constants import degree_sum_matrix
from cormorant_lab.nn._mixing import cat_split_backward
from cormorant_lab.nn._normalization import soft_normalize_stacked, soft_normalize_stacked_plain
from cormorant_lab.so3 import SO3Vec, random_rotation, wigner_d

# The normalization's constants, where the level has them (κ = 2, ε = 0.5: not the plain 1, 1)
CONSTANTS = (
    [{}, {"normalization_scale": 2.0, "normalization_epsilon": 0.5}]
    if "normalization_epsilon" in inspect.signature(AtomLevel).parameters
    else [{}]
)


def _parts(generator, dtype, channels=3, atoms=4, maxl=3, scale=2.0):
    return [
        (scale * torch.randn(2, channels, atoms, 2 * l + 1, generator=generator, dtype=torch.float64))
        .to(dtype)
        .requires_grad_(True)
        for l in range(maxl + 1)
    ]  # channels first, (B, τ, N, 2l+1), as the level makes them


@pytest.mark.parametrize("constants", CONSTANTS)
def test_all_degrees_at_once_equal_the_module_with_first_and_second_derivatives(constants, generator):
    level = AtomLevel((3,) * 4, max_sh=3, maxl=3, channels_out=3, **constants).to(torch.float64)
    parts = _parts(generator, torch.float64)
    weights = [torch.randn(2, 4, 3, 2 * l + 1, generator=generator, dtype=torch.float64) for l in range(4)]

    def textbook(parts):  # soft_normalize of one degree at a time, parts (B, N, τ, 2l+1)
        return level.normalize(SO3Vec([part.transpose(-2, -3) for part in parts])).parts

    results = []
    for form in (lambda parts: _normalize_all(level, parts), textbook):
        out = form(parts)
        loss = sum(((w * o).sum(dim=(-2, -1)) ** 2).sum() for w, o in zip(weights, out, strict=True))
        grads = torch.autograd.grad(loss, parts, create_graph=True)
        second = torch.autograd.grad(sum((g * g).sum() for g in grads), parts)
        results.append([o.detach() for o in out] + [g.detach() for g in grads] + list(second))
    for lean, textbook in zip(*results, strict=True):
        assert lean.shape == textbook.shape
        # relative to each tensor's scale: the forms sum in different orders (round-off ~1e-16 of the largest)
        assert (lean - textbook).abs().max() <= 1e-13 * textbook.abs().max()


def _normalize_all(level: AtomLevel, parts: list[torch.Tensor]) -> list[torch.Tensor]:
    """The level's normalization of every degree at once, as its forward pass calls it: parts channels first
    ``(B, τ, N, 2l+1)`` → the mixing's products ``(τ, (2l+1)·B·N)`` → the normalized parts ``(B, N, τ, 2l+1)``."""
    batch, _, atoms, _ = parts[0].shape
    mixed = [part.permute(1, 3, 0, 2).reshape(part.shape[1], -1) for part in parts]
    out = level._soft_normalize_components_major(mixed, (batch, atoms))  # (B, τ, N, Σ(2l+1))
    assert out.is_contiguous()  # the next level reads it channels first in place
    return [o.transpose(-2, -3) for o in out.split([2 * l + 1 for l in range(len(parts))], dim=-1)]


class _Copies(TorchDispatchMode):
    """Counts the copies (``clone``, ``copy_``) that ATen runs inside the block."""

    count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func._overloadpacket in (torch.ops.aten.clone, torch.ops.aten.copy_)
        return func(*args, **(kwargs or {}))


def test_components_major_normalization_hands_the_mixing_gradients_it_reads_in_place(generator):
    """The gradient of each mixing product ``(τ, (2l+1)·B·N)`` is a block of columns of one gradient (a view the
    mixing's backward product reads without a copy), in a step that trains on forces too."""
    level = AtomLevel((3,) * 4, max_sh=3, maxl=3, channels_out=3).to(torch.float64)
    mixed = [
        p.permute(1, 3, 0, 2).reshape(p.shape[1], -1).detach().requires_grad_(True)
        for p in _parts(generator, torch.float64)
    ]
    out = level._soft_normalize_components_major(mixed, (2, 4))
    weights = torch.randn(out.shape, generator=generator, dtype=torch.float64)
    loss = ((weights * out).sum(-1) ** 2).sum()
    with _Copies() as copies:
        grads = torch.autograd.grad(loss, mixed, create_graph=True)
    assert copies.count == 0  # no gradient is copied into another layout on its way to the products
    total = sum(g.shape[-1] for g in grads)
    for grad in grads:
        assert grad.stride() == (total, 1)  # a column block of one (τ, Σ(2l+1)·B·N) gradient
    second = torch.autograd.grad(sum((g * g).sum() for g in grads), mixed)
    assert all(torch.isfinite(g).all() for g in second)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-13), (torch.float32, 3e-6)])
def test_all_degrees_at_once_are_covariant_and_bounded(dtype, tolerance, generator):
    level = AtomLevel((3,) * 4, max_sh=3, maxl=3, channels_out=3).to(dtype)
    parts = [p.detach() for p in _parts(generator, dtype, scale=30.0)]
    rotation = random_rotation(generator=generator, dtype=torch.float64)
    rotated = [p @ wigner_d(l, rotation).T.to(dtype) for l, p in enumerate(parts)]
    for l, (out, out_rotated) in enumerate(
        zip(_normalize_all(level, parts), _normalize_all(level, rotated), strict=True)
    ):
        expected = out @ wigner_d(l, rotation).T.to(dtype)
        assert (out_rotated - expected).abs().max() <= tolerance * expected.abs().max()
        # afterwards q = mean_c ||F_c||² < 1 (the input's q is ~900 per degree here)
        assert (out.pow(2).sum(dim=(-2, -1)) / out.shape[-2]).max() < 1
    assert torch.equal(
        _normalize_all(level, [torch.zeros_like(p) for p in parts])[2], torch.zeros(2, 4, 3, 5, dtype=dtype)
    )


@pytest.mark.parametrize("scale, epsilon", [(1.0, 1.0), (2.0, 0.5)])
def test_soft_normalize_stacked_has_exact_first_and_second_derivatives(scale, epsilon, generator):
    """The Function with its derivatives written out: against finite differences (gradcheck, gradgradcheck) and
    against the formula differentiated by autograd (``soft_normalize_stacked_plain``)."""
    degree_sum = degree_sum_matrix(2).to(torch.float64)
    x = (2 * torch.randn(2, 3, 4, 9, generator=generator, dtype=torch.float64)).requires_grad_(True)

    def lean(x):
        return soft_normalize_stacked(x, degree_sum, scale, epsilon)

    assert torch.autograd.gradcheck(lean, (x,))
    assert torch.autograd.gradgradcheck(lean, (x,))
    weights = torch.randn(x.shape, generator=generator, dtype=torch.float64)
    results = []
    for form in (lean, lambda x: soft_normalize_stacked_plain(x, degree_sum, scale, epsilon)):
        out = form(x)
        (grad,) = torch.autograd.grad(((weights * out).sum(-1) ** 2).sum(), x, create_graph=True)
        (second,) = torch.autograd.grad((grad * grad).sum(), x)
        results.append((out.detach(), grad.detach(), second))
    for a, b in zip(*results, strict=True):
        assert (a - b).abs().max() <= 1e-13 * b.abs().max()


def test_cat_split_backward_equals_torch_cat_with_first_and_second_derivatives(generator):
    pieces = [torch.randn(2, c, 4, 3, generator=generator, dtype=torch.float64, requires_grad=True) for c in (1, 3, 2)]
    weight = torch.randn(2, 6, 4, 3, generator=generator, dtype=torch.float64)
    results = []
    for cat in (cat_split_backward, torch.cat):
        out = cat(pieces, dim=-3)
        grads = torch.autograd.grad(((weight * out).sum((-3, -1)) ** 2).sum(), pieces, create_graph=True)
        second = torch.autograd.grad(sum((g.sin() * g).sum() for g in grads), pieces)
        results.append([out.detach(), *(g.detach() for g in grads), *second])
    for lean, plain in zip(*results, strict=True):
        assert torch.equal(lean, plain) or torch.allclose(lean, plain, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("previous", [0, 2, 3])  # the first level has no previous g; fewer degrees than outputs
def test_edge_mixing_in_one_product_equals_the_blockwise_one(previous, generator):
    from cormorant_lab.nn._edge_level import _mix, _mix_concatenated

    channels, degrees, dots, radial = 3, 3, 4, 5

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)

    weights = [randn(degrees * channels, dots + radial), *(randn(channels, channels) for _ in range(previous))]
    blocks = [randn(2, dots, 6), randn(2, radial, 6), *(randn(2, channels, 6) for _ in range(previous))]
    inputs = [*weights, *blocks]
    probe = torch.randn(2, degrees * channels, 6, generator=generator, dtype=torch.float64)
    results = []
    for mix in (_mix_concatenated, _mix):
        out = mix(weights, blocks)
        grads = torch.autograd.grad((probe * out.square()).sum(), inputs, create_graph=True)
        second = torch.autograd.grad(sum((g.sin() * g).sum() for g in grads), inputs)
        results.append([out.detach(), *(g.detach() for g in grads), *second])
    for lean, plain in zip(*results, strict=True):
        assert lean.shape == plain.shape and (lean - plain).abs().max() <= 1e-13 * plain.abs().max()


def _geometry(generator, atoms=6, max_sh=3):
    from cormorant_lab.nn import edge_geometry

    positions = (1.5 * torch.randn(2, atoms, 3, generator=generator, dtype=torch.float64)).requires_grad_(True)
    charges = torch.tensor([[1, 6, 8, 1, 7, 1], [6, 6, 1, 1, 0, 0]])
    return positions, edge_geometry(positions, charges != 0, max_sh)


def _first_and_second_derivatives(outputs, inputs):
    """The outputs, their gradients with respect to ``inputs`` (a fixed random projection) and a second derivative."""
    projection = torch.Generator().manual_seed(1)  # the same weights for both forms
    weights = [torch.randn(o.shape, generator=projection, dtype=o.dtype) for o in outputs]
    loss = sum((w * o).sum() ** 2 for w, o in zip(weights, outputs, strict=True))
    grads = torch.autograd.grad(loss, inputs, create_graph=True)
    second = torch.autograd.grad(sum((g * g).sum() for g in grads), inputs, allow_unused=True, retain_graph=True)
    return [o.detach() for o in outputs] + [g.detach() for g in grads] + [s for s in second if s is not None]


def test_sigmoid_step_equals_the_formula_with_first_and_second_derivatives(generator):
    """``mask · σ((r_c - ρ) / w)`` with its derivatives written out (no sigmoid in the backward pass: y (1 - y))
    against autograd's derivatives of the formula, a 0/1 mask with zeros in it (padding, i = j)."""
    from cormorant_lab.nn._cutoff import _SigmoidStep

    r = (3 * torch.rand(2, 1, 5, 5, generator=generator, dtype=torch.float64)).requires_grad_(True)
    radius = (1 + torch.rand(3, 1, 1, generator=generator, dtype=torch.float64)).requires_grad_(True)
    width = (0.1 + torch.rand(3, 1, 1, generator=generator, dtype=torch.float64)).requires_grad_(True)
    mask = (torch.rand(2, 1, 5, 5, generator=generator) > 0.3).to(torch.float64)
    inputs = [r, radius, width]
    lean = _first_and_second_derivatives([_SigmoidStep.apply(r, radius, width, mask)], inputs)
    plain = _first_and_second_derivatives([mask * torch.sigmoid((radius - r) / width)], inputs)
    _assert_all_close(lean, plain)
    assert torch.autograd.gradgradcheck(lambda *x: _SigmoidStep.apply(*x, mask), tuple(inputs))


def _assert_all_close(lean, plain):
    assert len(lean) == len(plain)
    for a, b in zip(lean, plain, strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-13), (a - b).abs().max()


@pytest.mark.parametrize("k_max", [(3, 3), "mixed"])
def test_every_levels_radial_functions_at_once_equal_level_by_level(k_max, generator):
    from cormorant_lab.nn._radial import RadialPolyTrig, radial_functions_all

    torch.manual_seed(0)
    basis_sets = [(3, 3)] * 4 if k_max != "mixed" else [(3, 3), (2, 1), (3, 3)]
    radials = [RadialPolyTrig(basis).to(torch.float64) for basis in basis_sets]
    with torch.no_grad():  # every level's own frequencies and phases, not the shared initial ones
        for radial in radials:
            radial.frequencies.add_(
                0.3 * torch.randn(radial.frequencies.shape, generator=generator, dtype=torch.float64)
            )
            radial.phases.add_(0.3 * torch.randn(radial.phases.shape, generator=generator, dtype=torch.float64))
    positions, geometry = _geometry(generator)
    inputs = [positions, *(p for radial in radials for p in radial.parameters())]
    lean = _first_and_second_derivatives(radial_functions_all(radials, geometry), inputs)
    plain = _first_and_second_derivatives([radial(geometry) for radial in radials], inputs)
    _assert_all_close(lean, plain)


@pytest.mark.parametrize(
    "cutoff_types",
    [[("learn",)] * 4, [("learn_rad",), ("learn",), ("soft",)], [("learn",), ("learn", "hard"), ("learn",)]],
)
def test_every_levels_cutoff_at_once_equals_level_by_level(cutoff_types, generator):
    from cormorant_lab.nn._cutoff import SoftCutoff, soft_cutoffs_all

    cutoffs = [
        SoftCutoff(3 + s, cutoff_type=words, soft_cut_rad=1.5 + 0.5 * s, soft_cut_width=0.2 + 0.1 * s, hard_cut_rad=2.5)
        for s, words in enumerate(cutoff_types)
    ]
    cutoffs = [c.to(torch.float64) for c in cutoffs]
    with torch.no_grad():  # channels with radii and widths of their own, one negative (|ρ| and |w| are used)
        for c in cutoffs:
            c.radius.add_(0.2 * torch.randn(c.radius.shape, generator=generator, dtype=torch.float64))
            c.width.add_(0.05 * torch.randn(c.width.shape, generator=generator, dtype=torch.float64))
        cutoffs[0].width[0] = -0.3
    positions, geometry = _geometry(generator)
    inputs = [positions, *(p for c in cutoffs for p in c.parameters())]
    lean = _first_and_second_derivatives(soft_cutoffs_all(cutoffs, geometry), inputs)
    plain = _first_and_second_derivatives([c(geometry) for c in cutoffs], inputs)
    _assert_all_close(lean, plain)


@pytest.mark.parametrize(
    "channels, maxls", [((4, 4, 4), (3, 3, 3)), ((4, 4), (2, 2)), ((4, 5), (3, 3)), ((4, 4), (3, 2))]
)
def test_every_levels_invariants_at_once_equal_level_by_level(channels, maxls, generator, monkeypatch):
    from cormorant_lab.nn import _output
    from cormorant_lab.nn._constants import degree_sum_matrix
    from cormorant_lab.nn._output import atom_invariants, atom_invariants_plain

    calls = []
    monkeypatch.setattr(_output, "_atom_invariants_at_once", _counted(_output._atom_invariants_at_once, calls))

    levels = [
        SO3Vec(
            [
                torch.randn(2, 5, c, 2 * l + 1, generator=generator, dtype=torch.float64).requires_grad_(True)
                for l in range(maxl + 1)
            ]
        )
        for c, maxl in zip(channels, maxls, strict=True)
    ]
    inputs = [part for vec in levels for part in vec.parts]
    degree_sum = degree_sum_matrix(maxls[-1]).to(torch.float64)
    lean = _first_and_second_derivatives([atom_invariants(levels, degree_sum=degree_sum)], inputs)
    plain = _first_and_second_derivatives([atom_invariants_plain(levels)], inputs)
    _assert_all_close(lean, plain)
    assert len(calls) == (len(set(channels)) == 1 and len(set(maxls)) == 1)  # the lean form where it applies


def _counted(function, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def test_exact_constants_keep_float64_precision_through_to():
    from cormorant_lab.nn import Cormorant
    from cormorant_lab.nn._constants import ExactConstant
    from cormorant_lab.so3 import harmonics_coefficients

    exact = harmonics_coefficients(3)
    constant = ExactConstant(exact)  # made in float32 (the default dtype), then converted
    assert constant().dtype == torch.float32
    assert torch.equal(constant.to(torch.float64)(), exact)  # not float32's rounding (~1e-8) carried over
    model = Cormorant.from_preset("md17").to(torch.float64)
    assert torch.equal(model.harmonics_coefficients(), exact)


@pytest.mark.parametrize("preset", ["qm9", "md17"])
def test_every_level_at_once_and_one_at_a_time_give_one_network(preset, monkeypatch, generator):
    """Large molecules take the forms one level (one degree) at a time: the same energies and forces."""
    from cormorant_lab.checks import random_molecules
    from cormorant_lab.nn import Cormorant, _cormorant_cg, _edge_level

    torch.manual_seed(0)
    model = Cormorant.from_preset(preset).to(torch.float64)
    positions, charges = random_molecules(3, 7, species=model.species, dtype=torch.float64, generator=generator)
    at_once = model.energy_and_forces(positions, charges, create_graph=False)
    # one sigmoid step for every cutoff, the message-passing input's (qm9) included, or one per module
    modules = len(model.cormorant_cg.edge_levels) + (len(model.input_layer.layers) if preset == "qm9" else 0)
    assert _count_nodes(model(positions, charges), "_SigmoidStepBackward") == 1
    for module in (_cormorant_cg, _edge_level):
        monkeypatch.setattr(module, "AT_ONCE_BYTES", 0)
    one_at_a_time = model.energy_and_forces(positions, charges, create_graph=False)
    assert _count_nodes(model(positions, charges), "_SigmoidStepBackward") == modules
    for a, b in zip(at_once, one_at_a_time, strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def _count_nodes(tensor: torch.Tensor, name: str) -> int:
    """How many autograd nodes of class ``name`` the graph behind ``tensor`` holds."""
    count, seen, stack = 0, set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        count += type(node).__name__ == name
        stack.extend(next_node for next_node, _ in node.next_functions)
    return count
