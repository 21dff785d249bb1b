"""Locating the local npm scripts and the offline widget embedding (no network: fake package folders)."""

import base64

import ipywidgets
import pytest

from cormorant_lab.viz import (
    _offline,
    embed_widgets_html,
    find_3dmol_js,
    find_widget_manager_js,
    js_dir,
    npm_packages,
    offline_status,
)


@pytest.fixture
def fake_prefix(tmp_path, monkeypatch):
    monkeypatch.delenv("CORMORANT_LAB_3DMOL_JS", raising=False)
    monkeypatch.delenv("CORMORANT_LAB_3DMOL", raising=False)
    monkeypatch.setenv("CORMORANT_LAB_JS_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nothing_installed(fake_prefix):
    assert js_dir() == fake_prefix
    assert find_3dmol_js() is None and find_widget_manager_js() is None
    assert offline_status()["viewer loads 3Dmol.js from"] == _offline.cdn_url()
    with pytest.raises(FileNotFoundError):
        embed_widgets_html(fake_prefix / "w.html", [ipywidgets.IntSlider()])


def test_installed_packages_are_found_and_inlined(fake_prefix):
    threedmol = fake_prefix / _offline.THREEDMOL_RELATIVE
    manager = fake_prefix / _offline.HTML_MANAGER_RELATIVE
    for path, text in [(threedmol, "var x = '3dmol';"), (manager, "var y = 'manager';")]:
        path.parent.mkdir(parents=True)
        path.write_text(text)
    assert find_3dmol_js() == threedmol and find_widget_manager_js() == manager
    url = _offline.threedmol_js_url("auto")
    assert base64.b64decode(url.split(",", 1)[1]) == threedmol.read_bytes()
    assert offline_status()["viewer loads 3Dmol.js from"] == "inline (offline)"
    page = embed_widgets_html(fake_prefix / "w.html", [ipywidgets.IntSlider(value=7)]).read_text()
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page
    assert base64.b64encode(manager.read_bytes()).decode() in page
    assert "application/vnd.jupyter.widget-state+json" in page


def test_npm_packages_match_py3dmol():
    import py3Dmol

    specs = npm_packages()
    assert specs[0] == f"3dmol@{py3Dmol.__version__}"
    assert specs[1].startswith("@jupyter-widgets/html-manager@^")
