"""Lean forms of the levels against their plain forms: the normalization of every degree at once, the concatenation
whose gradient is one split."""

import inspect

import pytest
import torch

from cormorant_lab.nn import AtomLevel
from cormorant_lab.nn._mixing import cat_split_backward
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
    for form in (level._soft_normalize_all, textbook):
        out = form(parts)
        loss = sum(((w * o).sum(dim=(-2, -1)) ** 2).sum() for w, o in zip(weights, out, strict=True))
        grads = torch.autograd.grad(loss, parts, create_graph=True)
        second = torch.autograd.grad(sum((g * g).sum() for g in grads), parts)
        results.append([o.detach() for o in out] + [g.detach() for g in grads] + list(second))
    for lean, textbook in zip(*results, strict=True):
        assert lean.shape == textbook.shape
        assert torch.allclose(lean, textbook, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-13), (torch.float32, 3e-6)])
def test_all_degrees_at_once_are_covariant_and_bounded(dtype, tolerance, generator):
    level = AtomLevel((3,) * 4, max_sh=3, maxl=3, channels_out=3).to(dtype)
    parts = [p.detach() for p in _parts(generator, dtype, scale=30.0)]
    rotation = random_rotation(generator=generator, dtype=torch.float64)
    rotated = [p @ wigner_d(l, rotation).T.to(dtype) for l, p in enumerate(parts)]
    for l, (out, out_rotated) in enumerate(
        zip(level._soft_normalize_all(parts), level._soft_normalize_all(rotated), strict=True)
    ):
        expected = out @ wigner_d(l, rotation).T.to(dtype)
        assert (out_rotated - expected).abs().max() <= tolerance * expected.abs().max()
        # afterwards q = mean_c ||F_c||² < 1 (the input's q is ~900 per degree here)
        assert (out.pow(2).sum(dim=(-2, -1)) / out.shape[-2]).max() < 1
    assert torch.equal(
        level._soft_normalize_all([torch.zeros_like(p) for p in parts])[2], torch.zeros(2, 4, 3, 5, dtype=dtype)
    )


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
