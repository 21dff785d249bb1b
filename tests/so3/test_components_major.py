"""Components-major CG rows (the atom level's layout) and the aggregate that keeps G: equal to the plain forms.

``components_major_matmul`` stores ``x @ M`` with its last axis outermost; the square's and the aggregate's pieces
made so, and the aggregate that keeps ``G = gY`` for the gradient of ``f`` (no forces), must give the same values,
first derivatives and (where a backward pass is differentiated) second derivatives as the plain forms.
"""

import pytest
import torch

from cormorant_lab.so3 import iter_separable_aggregate_pieces, iter_square_pieces, spherical_harmonics_all
from cormorant_lab.so3._cg_product import components_major_matmul


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-14), (torch.float32, 1e-6)])
def test_components_major_matmul_is_the_product_stored_components_first(dtype, tolerance, generator):
    x = torch.randn(2, 3, 4, 6, generator=generator, dtype=torch.float64).to(dtype)
    matrix = torch.randn(6, 5, generator=generator, dtype=torch.float64).to(dtype)
    out = components_major_matmul(x, matrix)
    expected = x @ matrix
    assert out.shape == expected.shape
    assert (out - expected).abs().max() <= tolerance * expected.abs().max()
    assert out.stride(-1) == 2 * 3 * 4 and out.stride(-2) == 1  # components outermost in memory


def _derivatives(pieces_of, inputs, generator, *, second: bool):
    """Values, first and (``second``) second derivatives of a weighted sum of squares of the pieces."""
    pieces = [piece for _, piece in pieces_of(*inputs)]
    weights = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in pieces]
    loss = sum((w * p.square()).sum() for w, p in zip(weights, pieces, strict=True))
    grads = torch.autograd.grad(loss, inputs, create_graph=second, allow_unused=True)
    results = [p.detach() for p in pieces] + [g.detach() for g in grads if g is not None]
    if second:
        results += torch.autograd.grad(sum((g.sin() * g).sum() for g in grads if g is not None), inputs)
    return results


def _assert_equal(lean, plain):
    assert len(lean) == len(plain)
    for a, b in zip(lean, plain, strict=True):
        assert a.shape == b.shape and (a - b).abs().max() <= 1e-13 * b.abs().max()


@pytest.mark.parametrize("second", [False, True])
def test_components_major_square_pieces_equal_the_plain_ones(second, generator):
    parts = [
        torch.randn(3, 2, 4, 2 * l + 1, generator=generator, dtype=torch.float64, requires_grad=True) for l in range(4)
    ]
    results = []
    for major in (True, False):
        torch.manual_seed(0)
        pieces_of = lambda *p, major=major: iter_square_pieces(list(p), 3, "real", components_major=major)
        results.append(_derivatives(pieces_of, parts, torch.Generator().manual_seed(1), second=second))
    _assert_equal(*results)


@pytest.mark.parametrize("forces", [False, True])
def test_components_major_aggregate_keeping_g_equals_the_plain_one(forces, generator):
    """Without forces (Y constant) the aggregate keeps G for the gradient of f; with them it forms G in the graph."""
    batch, channels, atoms, max_sh = 2, 3, 5, 3
    vectors = torch.randn(batch, atoms, atoms, 3, generator=generator, dtype=torch.float64, requires_grad=forces)
    harmonics = list(spherical_harmonics_all(max_sh, vectors))
    scalars = [
        torch.randn(batch, channels, atoms, atoms, generator=generator, dtype=torch.float64, requires_grad=True)
        for _ in range(max_sh + 1)
    ]
    f = torch.randn(batch, channels, atoms, 9, generator=generator, dtype=torch.float64, requires_grad=True)
    inputs = (*scalars, f, vectors) if forces else (*scalars, f)

    results = []
    for major in (True, False):

        def pieces_of(*tensors, major=major):
            y = spherical_harmonics_all(max_sh, tensors[-1]) if forces else harmonics
            return iter_separable_aggregate_pieces(
                tensors[:4], y, tensors[4], 3, "real", chunk=None if major else 1, components_major=major
            )

        results.append(_derivatives(pieces_of, inputs, torch.Generator().manual_seed(1), second=forces))
    _assert_equal(*results)
