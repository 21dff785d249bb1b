"""The visualization notebook in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium driven by Playwright.

Runs ``notebooks/07_seeing_the_features.ipynb`` (quick mode) cell by cell in JupyterLab, then checks what a person
would see: the 3Dmol.js canvases have drawn a molecule (non-background pixels), and moving an Euler-angle slider
of the rotation explorer changes its plotly figure and turns the molecule. Screenshots go to ``artifacts/browser/``.

Skips (with the reason) when Chromium, Playwright, JupyterLab or the local 3Dmol.js are missing:
``scripts/setup_browser_tests.sh`` installs them. No network but 127.0.0.1 is used: 3Dmol.js is inlined from the
local npm package, which is what makes the viewer draw at all on a closed network.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "07_seeing_the_features.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("CORMORANT_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    # WebGL without a GPU: SwiftShader, which Chromium no longer falls back to by itself.
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
RUN_ALL_TIMEOUT = 150  # seconds for every cell of the notebook (quick mode)

# JupyterLab user settings: render every cell (no windowing: off-screen outputs would not exist in the DOM), no news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (run scripts/setup_browser_tests.sh)"
    for module in ("playwright.sync_api", "jupyterlab", "PIL", "py3Dmol", "plotly", "anywidget"):
        try:
            __import__(module)
        except ImportError:
            return f"Python package {module.split('.')[0]} is not installed (run scripts/setup_browser_tests.sh)"
    from cormorant_lab.viz import find_3dmol_js

    if find_3dmol_js() is None:
        return "no local 3Dmol.js: the viewer cannot draw offline (run scripts/setup_browser_tests.sh)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout} s")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab on 127.0.0.1 (random port and token) serving a temp copy of the notebook; shut down afterwards."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, home / NOTEBOOK.name)
    settings = home / ".settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "CORMORANT_LAB_QUICK": "1", "CORMORANT_LAB_ARTIFACTS": str(home / "exports"),
           "JUPYTER_RUNTIME_DIR": str(home / ".runtime"), "JUPYTER_CONFIG_DIR": str(home / ".config")}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}", "--ServerApp.port_retries=0",
               "--allow-root", "--LabApp.extension_manager=readonly",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / '.workspaces'}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(home / "jupyterlab.log", "wb")
    process = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", process)
        yield f"http://127.0.0.1:{port}", token, home
    finally:
        process.send_signal(signal.SIGTERM)  # our own process only; it shuts its kernels down
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(home / "jupyterlab.log", ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def page(jupyterlab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    url, token, _ = jupyterlab
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.isReady", timeout=90_000)
            yield page
        finally:
            context.close()


NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  let pending = 0, errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    if (cell.executionCount === null) pending += 1;
    for (const output of cell.outputs.toJSON()) {
      if (output.output_type === 'error') errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
    }
  }
  return {pending, errors, kernel: panel.sessionContext.session.kernel.status};
}"""

# The explorer's plotly figure is the one with a heatmap; its trace 2 holds the "after" bars.
EXPLORER_FIGURE = """() => {
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    if (plot.data && plot.data.some(t => t.type === 'heatmap')) return JSON.stringify(plot.data.map(t => t.y));
  }
  return null;
}"""


def _screenshot(locator, name: str):
    from PIL import Image

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    png = locator.screenshot(path=str(ARTIFACTS / name))
    return Image.open(io.BytesIO(png)).convert("RGB")


def _pixels(image) -> list[tuple[int, int, int]]:
    data = image.convert("RGB").tobytes()  # portable across Pillow versions (getdata is deprecated)
    return list(zip(data[0::3], data[1::3], data[2::3]))


def _drawn_fraction(image) -> float:
    """Fraction of pixels that differ from the viewer's white background by more than 40 in some channel."""
    pixels = _pixels(image)
    return sum(1 for p in pixels if max(255 - c for c in p) > 40) / len(pixels)


def _changed_fraction(a, b) -> float:
    pairs = list(zip(_pixels(a), _pixels(b)))
    return sum(1 for p, q in pairs if max(abs(x - y) for x, y in zip(p, q)) > 40) / len(pairs)


def test_notebook_runs_and_draws(page):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline, state = time.monotonic() + RUN_ALL_TIMEOUT, None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE)
        if state["errors"] or (state["pending"] == 0 and state["kernel"] == "idle"):
            break
        page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notebook_after_run_all.png"), full_page=True)
    assert state is not None and not state["errors"], state
    assert state["pending"] == 0, f"cells still unexecuted after {RUN_ALL_TIMEOUT} s: {state}"

    canvases = page.locator("div[id^='3dmolviewer_'] canvas")
    canvases.first.wait_for(timeout=30_000)
    assert canvases.count() >= 2, "expected the molecule view and the explorer's view"
    page.wait_for_timeout(1500)  # let 3Dmol.js finish its first frames
    molecule = _screenshot(canvases.nth(0), "molecule_view.png")
    assert _drawn_fraction(molecule) > 0.01, "the 3Dmol canvas of the molecule view is blank"


def test_slider_turns_the_molecule_and_changes_the_plot(page):
    figure_before = page.evaluate(EXPLORER_FIGURE)
    assert figure_before is not None, "the explorer's plotly figure is not in the page"
    canvas = page.locator("div[id^='3dmolviewer_'] canvas").nth(1)
    view_before = _screenshot(canvas, "explorer_before.png")
    assert _drawn_fraction(view_before) > 0.01, "the explorer's 3Dmol canvas is blank"

    slider = page.locator(".widget-slider").filter(has_text="β").first
    slider.scroll_into_view_if_needed()
    handle, track = slider.locator(".noUi-handle").first, slider.locator(".noUi-target").first
    h, t = handle.bounding_box(), track.bounding_box()
    page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
    page.mouse.down()
    page.mouse.move(t["x"] + 0.8 * t["width"], h["y"] + h["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => ({EXPLORER_FIGURE})() !== {json.dumps(figure_before)}", timeout=60_000)
    page.wait_for_timeout(1500)  # the molecule redraw follows the figure update
    figure = page.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer")).first
    _screenshot(figure, "explorer_figure_after.png")
    view_after = _screenshot(canvas, "explorer_after.png")
    page.screenshot(path=str(ARTIFACTS / "explorer_page.png"))
    assert _changed_fraction(view_before, view_after) > 0.002, "the molecule did not turn in the 3D view"


def test_exported_pages_work_offline(page, jupyterlab):
    """The notebook's exports, opened from disk: the molecule page draws, the embedded sliders render (no CDN)."""
    exports = jupyterlab[2] / "exports" / "cormorant_lab_viz"
    offline = page.context.new_page()
    try:
        offline.goto((exports / "07_molecule.html").as_uri())
        canvas = offline.locator("div[id^='3dmolviewer_'] canvas").first
        canvas.wait_for(timeout=30_000)
        offline.wait_for_timeout(1500)
        assert _drawn_fraction(_screenshot(canvas, "export_molecule.png")) > 0.01, "the exported page draws nothing"
        offline.goto((exports / "07_sliders.html").as_uri())
        offline.locator(".widget-slider").nth(2).wait_for(timeout=30_000)
        assert offline.locator(".widget-slider").count() == 3
        offline.screenshot(path=str(ARTIFACTS / "export_sliders.png"))
    finally:
        offline.close()
