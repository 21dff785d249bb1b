"""The py3Dmol view: its 3Dmol.js calls carry the scene, the legend states the scales, the HTML export is offline."""

import json
import re

import pytest
import torch

from cormorant_lab.viz import MoleculeView, _offline, legend_html, scene_commands, threedmol_js_url, view_features


@pytest.fixture
def view(small_model, molecule) -> MoleculeView:
    positions, charges = molecule
    return view_features(positions, small_model, charges=charges, level="atom_2", channel=0, js="cdn")


def test_commands_draw_every_glyph(view, molecule):
    n = len(molecule[1])
    methods = [method for method, _ in scene_commands(view.scene)]
    assert methods[:2] == ["addModel", "setStyle"]
    assert methods.count("addSphere") == n and methods.count("addCustom") == n
    assert 1 <= methods.count("addArrow") <= n
    assert methods.count("addCylinder") == 1 and methods.count("addLabel") == 1  # the 1 Å scale bar
    only_arrows = [method for method, _ in scene_commands(view.scene, show=(1,))]
    assert "addSphere" not in only_arrows and "addCustom" not in only_arrows


def test_arrow_commands_are_the_scene_arrows(view):
    arrows = [args[0] for method, args in scene_commands(view.scene) if method == "addArrow"]
    ends = torch.tensor([[a["end"][k] - a["start"][k] for k in "xyz"] for a in arrows], dtype=torch.float64)
    drawn = view.scene.arrows[view.scene.arrows.norm(dim=-1) > 1e-3]
    assert torch.allclose(ends, drawn, atol=2e-4)


def test_html_has_viewer_legend_and_scale(view):
    html = view.html()
    assert f"3dmolviewer_{view.viewer_id}" in html
    assert "atom_2</b>, channel 0" in html and "1 Å" in html
    assert f"{view.scene.scales.l1:.3g}" in legend_html(view.scene)
    assert "cdn.jsdelivr.net" in html  # js="cdn" was asked for


def test_update_script_redraws_the_same_viewer(view):
    with pytest.raises(RuntimeError):
        view.update_script(view.scene)
    view.html()
    script = view.update_script(view.scene.rotated(torch.eye(3, dtype=torch.float64)))
    assert f"viewer_{view.viewer_id}" in script and "removeAllShapes" in script and "zoomTo" not in script
    json.loads(re.search(r"v\.addModel\((\".*?\"),", script).group(1))  # the XYZ block is valid JSON text


def test_write_html_inlines_a_local_3dmol(tmp_path, monkeypatch, small_model, molecule):
    fake = tmp_path / "3Dmol-min.js"
    fake.write_text("window.$3Dmol = {};")
    monkeypatch.setenv("CORMORANT_LAB_3DMOL_JS", str(fake))
    positions, charges = molecule
    page = (
        view_features(positions, small_model, charges=charges, js="inline")
        .write_html(tmp_path / "page.html")
        .read_text()
    )
    assert "data:text/javascript;base64," in page and "cdn.jsdelivr" not in page
    assert page.startswith("<!DOCTYPE html>")


def test_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("CORMORANT_LAB_3DMOL_JS", str(tmp_path / "missing.js"))
    assert threedmol_js_url("cdn") == _offline.cdn_url()
    assert threedmol_js_url("auto") == _offline.cdn_url()  # nothing local: fall back to the CDN
    with pytest.raises(FileNotFoundError, match="install_js_packages"):
        threedmol_js_url("inline")
    assert threedmol_js_url("/static/3Dmol-min.js") == "/static/3Dmol-min.js"
    monkeypatch.setenv("CORMORANT_LAB_3DMOL", "cdn")
    assert threedmol_js_url() == _offline.cdn_url()
