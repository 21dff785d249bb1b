"""SO3Vec: structure checks, algebra, rotation and invariants."""

import pytest
import torch

from cormorant_lab.so3 import SO3Vec, random_rotation


def make(channels=(2, 3, 4), batch=(5,), dtype=torch.float64, generator=None, basis="real"):
    parts = [
        torch.randn(*batch, c, 2 * l + 1, generator=generator, dtype=torch.float64).to(dtype)
        for l, c in enumerate(channels)
    ]
    if basis == "complex":
        parts = [p.to(torch.complex128) for p in parts]
    return SO3Vec(parts, basis=basis)


def test_structure(generator):
    v = make(generator=generator)
    assert v.maxl == 2 and v.channels == (2, 3, 4) and v.batch_shape == (5,) and len(v) == 3
    assert v.scalars().shape == (5, 2)
    assert "maxl=2" in repr(v)


@pytest.mark.parametrize(
    "parts, message",
    [
        ([], "at least"),
        ([torch.zeros(4, 2, 1), torch.zeros(4, 2, 2)], r"part l=1 must have shape \(\.\.\., channels, 3\)"),
        ([torch.zeros(4, 2, 1), torch.zeros(5, 2, 3)], "batch shape"),
        ([torch.zeros(4, 2, 1), torch.zeros(4, 2, 3, dtype=torch.float64)], "float64"),
        ([torch.zeros(4, 2, 1, dtype=torch.complex64)], "complex"),
    ],
)
def test_bad_parts_raise(parts, message):
    with pytest.raises(ValueError, match=message):
        SO3Vec(parts)


def test_algebra(generator):
    a, b = make(generator=generator), make(generator=generator)
    assert torch.equal((a + b)[1], a[1] + b[1])
    assert torch.equal((a - b)[2], a[2] - b[2])
    assert torch.equal((2.0 * a)[2], 2 * a[2])
    assert torch.equal((-a)[0], -a[0])
    scale = torch.rand(5, 1, dtype=torch.float64)
    assert torch.equal((a * scale)[1], a[1] * scale.unsqueeze(-1))
    with pytest.raises(ValueError, match="different degrees or channels"):
        a + make(channels=(2, 3), generator=generator)
    with pytest.raises(TypeError, match="cg_product"):
        a * b
    with pytest.raises(ValueError, match="different bases"):
        a + make(generator=generator, basis="complex")


def test_cat_and_truncate(generator):
    a, b = make(generator=generator), make(channels=(1, 1), generator=generator)
    c = SO3Vec.cat([a, b])
    assert c.channels == (3, 4, 4)
    assert torch.equal(c[2], a[2])
    assert c.truncate(1).channels == (3, 4)
    with pytest.raises(ValueError, match="at least one"):
        SO3Vec.cat([])


@pytest.mark.parametrize("basis", ["real", "complex"])
def test_invariants_do_not_change_under_rotation(basis, generator):
    v, w = make(generator=generator, basis=basis), make(generator=generator, basis=basis)
    rotation = random_rotation(generator=generator)
    rv, rw = v.rotate(rotation), w.rotate(rotation)
    for before, after in zip(v.squared_norms(), rv.squared_norms(), strict=False):
        assert torch.allclose(before, after, atol=1e-12)
    for before, after in zip(v.dot(w), rv.dot(rw), strict=False):
        assert torch.allclose(before, after, atol=1e-12)
    assert torch.allclose(rv.scalars(), v.scalars(), atol=1e-14)
    if basis == "real":
        # The real l = 1 part is a 3-vector in (y, z, x) order: it turns like one.
        xyz = v[1][..., [2, 0, 1]]
        assert torch.allclose(rv[1][..., [2, 0, 1]], xyz @ rotation.T, atol=1e-12)


def test_batched_rotation_and_to(generator):
    v = make(generator=generator)
    rotations = random_rotation(5, generator=generator)
    rotated = v.rotate(rotations)
    for i in range(5):
        single = SO3Vec([p[i] for p in v.parts]).rotate(rotations[i])
        assert torch.allclose(rotated[2][i], single[2], atol=1e-13)
    assert v.to(torch.float32).dtype == torch.float32


def test_rotation_batch_must_not_grow_the_vector(generator):
    v = make(generator=generator)  # batch (5,)
    with pytest.raises(ValueError, match="does not broadcast"):
        v.rotate(random_rotation(5, generator=generator).unsqueeze(1))  # (5, 1, 3, 3) would give (5, 5)
    with pytest.raises(ValueError, match="does not broadcast"):
        v.rotate(random_rotation(4, generator=generator))


def test_from_stacked_gives_views_and_stacked_returns_the_tensor_itself(generator):
    stacked = torch.randn(2, 4, 3, 16, generator=generator)
    vec = SO3Vec.from_stacked(stacked)
    assert vec.channels == (3, 3, 3, 3)
    assert all(torch.equal(part, stacked[..., l * l : (l + 1) ** 2]) for l, part in enumerate(vec.parts))
    assert vec.stacked() is stacked  # no copy
    plain = SO3Vec([part.clone() for part in vec.parts])
    assert plain.stacked() is not stacked and torch.equal(plain.stacked(), stacked)  # made by concatenation
    vec.parts[2] = torch.zeros_like(vec.parts[2])  # a part replaced: the remembered tensor is stale, not returned
    assert torch.equal(vec.stacked()[..., 4:9], torch.zeros(2, 4, 3, 5))
    with pytest.raises(ValueError, match=r"\(L\+1\)²"):
        SO3Vec.from_stacked(torch.zeros(2, 3, 15))
    with pytest.raises(ValueError, match="same number of channels"):
        SO3Vec([torch.zeros(2, 3, 1), torch.zeros(2, 4, 3)]).stacked()
