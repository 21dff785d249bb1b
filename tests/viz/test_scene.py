"""Feature scenes from a real model: the glyphs of the rotated molecule are the rotated glyphs (D(R) covariance)."""

import pytest
import torch
from ase import Atoms

from cormorant_lab.so3 import random_rotation
from cormorant_lab.viz import GlyphScales, as_molecule, atom_features, diverging_color, feature_scene, xyz_block


def test_as_molecule_accepts_atoms_records_and_arrays(molecule):
    positions, charges = molecule
    atoms = Atoms(numbers=charges.numpy(), positions=positions.numpy())
    padded = {
        "positions": torch.cat([positions, torch.zeros(2, 3, dtype=torch.float64)]),
        "charges": torch.cat([charges, torch.zeros(2, dtype=torch.int64)]),
    }
    for p, c in [
        as_molecule(atoms),
        as_molecule(padded),
        as_molecule(positions, charges),
        as_molecule(positions.unsqueeze(0), charges.unsqueeze(0)),
    ]:
        assert torch.equal(c, charges) and torch.allclose(p, positions)
    with pytest.raises(ValueError):
        as_molecule(positions)
    assert xyz_block(positions, charges).splitlines()[0] == str(len(charges))


@pytest.mark.parametrize("level", ["atom_1", "atom_2"])
def test_scene_of_rotated_molecule_is_rotated_scene(small_model, molecule, level, generator):
    positions, charges = molecule
    rotation = random_rotation(generator=generator)
    features = atom_features(small_model, positions, charges, level=level, channel=1)
    rotated_features = atom_features(small_model, positions @ rotation.T, charges, level=level, channel=1)
    assert set(features.parts) == {0, 1, 2}
    scene = feature_scene(positions, charges, features)
    rotated = feature_scene(positions @ rotation.T, charges, rotated_features, scales=scene.scales)
    expected = scene.rotated(rotation)
    assert torch.allclose(rotated.arrows, expected.arrows, atol=1e-10)
    assert torch.allclose(rotated.ellipsoids, expected.ellipsoids, atol=1e-10)
    assert torch.allclose(rotated.sphere_radii, scene.sphere_radii, atol=1e-10)
    assert torch.allclose(rotated.positions, expected.positions)
    # the fitted scales depend on invariants only
    refit = GlyphScales.fit(rotated_features)
    assert refit.l1 == pytest.approx(scene.scales.l1, rel=1e-10) and refit.l2 == pytest.approx(
        scene.scales.l2, rel=1e-10
    )
    # and the glyphs are not trivial: the arrows did turn
    assert (rotated.arrows - scene.arrows).abs().max() > 1e-3


def test_fitted_scales_set_the_largest_glyph(small_model, molecule):
    positions, charges = molecule
    scene = feature_scene(
        positions, charges, atom_features(small_model, positions, charges), arrow_length=1.5, max_axis_ratio=3.0
    )
    assert float(scene.arrows.norm(dim=-1).max()) == pytest.approx(1.5)
    assert float(scene.sphere_values.abs().max()) == pytest.approx(1.0)
    semi_axes = torch.linalg.eigvalsh(scene.ellipsoids)
    ratio = (semi_axes / scene.ellipsoid_radius).log().abs().amax(-1).max().exp()
    assert float(ratio) == pytest.approx(3.0)


def test_unknown_level_or_channel(small_model, molecule):
    positions, charges = molecule
    with pytest.raises(KeyError, match="edge_1|available"):
        atom_features(small_model, positions, charges, level="edge_1")
    with pytest.raises(ValueError):
        atom_features(small_model, positions, charges, level="atom_1", channel=99)


def test_diverging_color():
    assert diverging_color(0.0) == "#ffffff"
    assert diverging_color(1.0) == "#b40426" and diverging_color(5.0) == "#b40426"
    assert diverging_color(-1.0) == "#3b4cc0"
