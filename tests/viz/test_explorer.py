"""The rotation explorer, kernel side: widget values drive the figure; the glyphs turn exactly as D(R) predicts."""

import math

import pytest
import torch

from cormorant_lab.so3 import euler_to_rotation
from cormorant_lab.viz import RotationExplorer


@pytest.fixture(scope="module")
def explorer(small_model, molecule):
    positions, charges = molecule
    return RotationExplorer(small_model, positions, charges=charges, level="atom_2", channel=1, atom=2, js="cdn")


def test_slider_changes_the_figure(explorer):
    explorer.set_angles(0, 0, 0)
    before = [list(trace.y) for trace in explorer.figure.data[:4]]
    heat_before = explorer.figure.data[4].z
    explorer.beta.value = 50.0  # one slider, as a user moves it
    after = [list(trace.y) for trace in explorer.figure.data[:4]]
    assert len(after[0]) == len(before[0]) + 1  # one more output point
    assert after[1] == before[1]  # "before" bars are the reference
    assert max(abs(a - b) for a, b in zip(after[2], before[2], strict=False)) > 1e-3  # the "after" bars moved
    assert explorer.figure.data[4].z is not None and len(explorer.figure.data[4].y) >= 2
    assert heat_before is not None


def test_features_turn_as_d_of_r_predicts(explorer):
    explorer.set_angles(30, 70, 200)
    after, predicted = explorer.figure.data[2].y, explorer.figure.data[3].y
    assert max(abs(a - p) for a, p in zip(after, predicted, strict=False)) < 1e-10
    rotation = euler_to_rotation(*(math.radians(a) for a in (30, 70, 200)))
    assert torch.allclose(explorer.rotation, rotation)
    reference = explorer.scene.rotated(torch.eye(3, dtype=torch.float64))
    explorer.set_angles(0, 0, 0)
    identity_scene = explorer.scene
    expected = identity_scene.rotated(rotation)
    assert torch.allclose(reference.arrows, expected.arrows, atol=1e-10)
    assert torch.allclose(reference.ellipsoids, expected.ellipsoids, atol=1e-10)


def test_output_is_invariant_and_checker_is_live(explorer):
    explorer.randomize()
    outputs = explorer.outputs
    assert max(outputs) - min(outputs) < 1e-10 * max(1.0, abs(outputs[0]))
    assert explorer.report is not None and explorer.report.worst < 1e-10
    assert "checker:" in explorer.status.value
    z = [e for row in explorer.figure.data[4].z for e in row if e is not None]
    assert max(z) < -9  # log10 of float64 covariance errors


def test_random_button_sets_all_sliders(explorer):
    explorer.set_angles(0, 0, 0)
    explorer.random_button.click()
    angles = (explorer.alpha.value, explorer.beta.value, explorer.gamma.value)
    assert angles != (0.0, 0.0, 0.0)
    assert 0 <= angles[1] <= 180


def test_view_updates_in_place(explorer):
    html = explorer.view_output.outputs[0]["data"]["text/html"]
    viewer_id = explorer.view.viewer_id
    assert f"3dmolviewer_{viewer_id}" in html
    explorer.set_angles(10, 20, 30)
    script = explorer._script_sink.outputs[0]["data"]["text/html"]
    assert f"viewer_{viewer_id}" in script and "addArrow" in script
    assert explorer.view_output.outputs[0]["data"]["text/html"] == html  # the viewer itself is not re-created
