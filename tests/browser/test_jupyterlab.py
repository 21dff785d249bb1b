"""Every tutorial notebook in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium driven by Playwright.

Each notebook (quick mode) is run cell by cell in JupyterLab, then checked for what a person would see: no error
output, no widget left as "Loading widget…" or as its text fallback, every plotly figure drawn (traces and
non-background pixels), every 3Dmol.js canvas non-blank. In 07 the l = 1 arrows are visible (pixels of the arrow
colour, which no atom, bond, sphere or ellipsoid has) and moving an Euler-angle slider of the rotation explorer
changes both its plotly figure and the 3D view. Screenshots go to ``artifacts/browser/`` (CI keeps that folder).

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
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOK = ROOT / "notebooks" / "07_seeing_the_features.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("CORMORANT_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU: SwiftShader, which Chromium no longer falls back to by itself.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
RUN_ALL_TIMEOUT = 240  # seconds for every cell of one notebook (quick mode: 10–50 s of work on 2 cores)
ARROW_RGB = (0x1A, 0x98, 0x50)  # cormorant_lab.viz._molecule_view.ARROW_COLOR

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
    """A JupyterLab on 127.0.0.1 (random port and token) serving temp copies of the notebooks; shut down afterwards.

    ``data/`` is linked beside the copies, so notebooks that look for the bundled trajectories find them.
    """
    home = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, home / notebook.name)
    (home / "data").symlink_to(ROOT / "data", target_is_directory=True)
    settings = home / ".settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "CORMORANT_LAB_QUICK": "1",
        "CORMORANT_LAB_ARTIFACTS": str(home / "exports"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
        "JUPYTER_CONFIG_DIR": str(home / ".config"),
    }
    env.pop("CORMORANT_LAB_SIZE", None)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home}",
        "--ServerApp.port_retries=0",
        "--allow-root",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={home / '.workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
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
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def _shutdown_kernels(url: str, token: str) -> None:
    """Stop every kernel of the lab (one notebook at a time keeps the machine's memory flat)."""
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as response:
        sessions = json.loads(response.read())
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=20).close()


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

# Outputs that show a widget which did not render: the placeholder, or the text fallback of a widget model.
WIDGET_FAILURES = r"""() => {
  const bad = [];
  for (const node of document.querySelectorAll('.jp-OutputArea-output')) {
    const text = node.innerText || '';
    const m = text.match(/Loading widget|Error displaying widget|^(VBox|HBox|FigureWidget|Output|IntSlider|FloatSlider)\(/m);
    if (m) bad.push(m[0]);
  }
  return bad;
}"""

# Every plotly figure: its trace and annotation counts and size (with none of them, or no size, it draws nothing).
PLOTLY_FIGURES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => {
  const box = p.getBoundingClientRect();
  return {traces: (p._fullData || []).length, annotations: ((p._fullLayout || {}).annotations || []).length,
          width: box.width, height: box.height};
})"""

# The explorer's plotly figure is the one with a heatmap; its trace 2 holds the "after" bars.
EXPLORER_FIGURE = """() => {
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    if (plot.data && plot.data.some(t => t.type === 'heatmap') && plot.data.some(t => t.type === 'bar'))
      return JSON.stringify(plot.data.map(t => t.y));
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
    return list(zip(data[0::3], data[1::3], data[2::3], strict=False))


def _drawn_fraction(image) -> float:
    """Fraction of pixels that differ from the viewer's white background by more than 40 in some channel."""
    pixels = _pixels(image)
    return sum(1 for p in pixels if max(255 - c for c in p) > 40) / len(pixels)


def _changed_fraction(a, b) -> float:
    pairs = list(zip(_pixels(a), _pixels(b), strict=False))
    return sum(1 for p, q in pairs if max(abs(x - y) for x, y in zip(p, q, strict=False)) > 40) / len(pairs)


def _arrow_fraction(image) -> float:
    """Fraction of pixels of the arrows' green (shaded): green well above red and blue, as no atom, bond, l = 0 sphere
    (red–white–blue) or l = 2 ellipsoid (purple) is."""
    r0, g0, b0 = ARROW_RGB
    pixels = _pixels(image)
    return sum(1 for r, g, b in pixels if g > r + 40 and g > b + 25 and g > 60) / len(pixels)


def _run_notebook(context, lab, name: str):
    """Open ``name`` in JupyterLab, Run All, wait; return the page and the final state."""
    url, token, _ = lab
    page = context.new_page()
    # a workspace of its own (reset): the lab must not restore the previous notebook's tab, whose kernel is gone
    workspace = Path(name).stem.replace("_", "-")
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{name}?token={token}&reset")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.isReady"
        f" && window.jupyterapp.shell.currentWidget.context.path === {json.dumps(name)}",
        timeout=90_000,
    )
    page.evaluate(
        "() => { const app = window.jupyterapp; app.shell.activateById(app.shell.currentWidget.id);"
        " return app.commands.execute('notebook:run-all-cells'); }"
    )
    deadline, state = time.monotonic() + RUN_ALL_TIMEOUT, None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE)
        if state["errors"] or (state["pending"] == 0 and state["kernel"] == "idle"):
            break
        page.wait_for_timeout(1000)
    page.wait_for_timeout(1500)  # let plotly and 3Dmol.js finish their first frames
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}_after_run_all.png"), full_page=True)
    return page, state


def _check_what_a_reader_sees(page, state, stem: str) -> None:
    assert state is not None and not state["errors"], state
    assert state["pending"] == 0, f"cells still unexecuted after {RUN_ALL_TIMEOUT} s: {state}"
    assert page.evaluate(WIDGET_FAILURES) == [], "a widget did not render"
    figures = page.evaluate(PLOTLY_FIGURES)
    for index, figure in enumerate(figures):
        drawn = figure["traces"] > 0 or figure["annotations"] > 0  # a diagram may be annotations only
        assert drawn and figure["width"] > 50 and figure["height"] > 50, (stem, index, figure)
        image = _screenshot(page.locator(".js-plotly-plot").nth(index), f"{stem}_plotly_{index}.png")
        assert _drawn_fraction(image) > 0.01, f"{stem}: plotly figure {index} is blank"
    canvases = page.locator("div[id^='3dmolviewer_'] canvas")
    for index in range(canvases.count()):
        image = _screenshot(canvases.nth(index), f"{stem}_3dmol_{index}.png")
        assert _drawn_fraction(image) > 0.01, f"{stem}: 3Dmol canvas {index} is blank"


BROWSED = [p.name for p in NOTEBOOKS if p.name != NOTEBOOK.name]  # 07 has its own tests below


@pytest.mark.parametrize("name", BROWSED, ids=[Path(n).stem for n in BROWSED])
def test_notebook_runs_and_draws_in_jupyterlab(browser, jupyterlab, name):
    started = time.monotonic()
    page, state = _run_notebook(browser, jupyterlab, name)
    try:
        _check_what_a_reader_sees(page, state, Path(name).stem)
        if name.startswith(("01", "02", "03", "04", "06")):
            assert page.evaluate(PLOTLY_FIGURES), f"{name}: its figures are missing"
    finally:
        page.close()
        _shutdown_kernels(*jupyterlab[:2])
        print(f"{name}: {time.monotonic() - started:.0f} s in the browser")


_STATE_07: dict = {}


@pytest.fixture(scope="module")
def page(browser, jupyterlab):
    """Notebook 07, run in JupyterLab (its kernel stays up for the slider test)."""
    page, state = _run_notebook(browser, jupyterlab, NOTEBOOK.name)
    _STATE_07["state"] = state
    yield page
    page.close()
    _shutdown_kernels(*jupyterlab[:2])


def test_notebook_runs_and_draws(page):
    _check_what_a_reader_sees(page, _STATE_07["state"], NOTEBOOK.stem)
    canvases = page.locator("div[id^='3dmolviewer_'] canvas")
    assert canvases.count() >= 2, "expected the molecule view and the explorer's view"


def test_l1_arrows_are_visible(page):
    """The flagship picture: the green l = 1 arrows show, beside and beyond the bonds (not specks inside them)."""
    molecule = _screenshot(page.locator("div[id^='3dmolviewer_'] canvas").nth(0), "07_molecule_view.png")
    fraction = _arrow_fraction(molecule)
    assert fraction > 0.003, f"only {fraction:.2%} of the molecule view is arrow-green: the l = 1 arrows cannot be seen"


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
