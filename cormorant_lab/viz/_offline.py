"""Offline JavaScript: 3Dmol.js and the ipywidgets HTML manager from the npm registry, inlined instead of a CDN.

py3Dmol's viewers load 3Dmol.js from a CDN (the ``js=`` URL of ``py3Dmol.view``), and ``ipywidgets.embed`` loads
its HTML widget manager from a CDN too: behind a closed network the viewer stays blank. Here both scripts come
from the npm packages ``3dmol`` and ``@jupyter-widgets/html-manager``, installed once into a local folder
(:func:`install_js_packages`, ``scripts/setup_browser_tests.sh``, or by hand:
``npm install --prefix <js_dir()> 3dmol@<py3Dmol's version> @jupyter-widgets/html-manager@^1``) and embedded
into the page as ``data:`` URLs, so a notebook output or an exported HTML file needs no server and no network
(the price: about 0.7 MB per viewer output).

Where the scripts come from (:func:`threedmol_js_url`), by ``source`` or the ``CORMORANT_LAB_3DMOL`` variable:

* ``"auto"`` (default): the local copy if one is found, otherwise the CDN;
* ``"inline"``: the local copy, or ``FileNotFoundError`` saying how to install it;
* ``"cdn"``: py3Dmol's CDN URL;
* anything else: used as the URL as it is (e.g. a file served next to an HTML export).

The local copy is looked for at ``CORMORANT_LAB_3DMOL_JS`` (a file), then in :func:`js_dir`
(``CORMORANT_LAB_JS_DIR``, default ``<user cache>/cormorant_lab/js``) and ``./node_modules``.
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import platformdirs

THREEDMOL_PACKAGE = "3dmol"
HTML_MANAGER_PACKAGE = "@jupyter-widgets/html-manager"
THREEDMOL_RELATIVE = Path("node_modules/3dmol/build/3Dmol-min.js")
HTML_MANAGER_RELATIVE = Path("node_modules/@jupyter-widgets/html-manager/dist/embed.js")
SOURCES = ("auto", "inline", "cdn")


def threedmol_version() -> str:
    """The version of the installed py3Dmol; its Python side is written against the same 3Dmol.js version."""
    import py3Dmol

    return py3Dmol.__version__


def html_manager_version() -> str:
    """The ``@jupyter-widgets/html-manager`` major version the installed ipywidgets embeds (e.g. ``1``)."""
    from ipywidgets._version import __html_manager_version__

    return __html_manager_version__.lstrip("^~").split(".")[0]


def cdn_url() -> str:
    """py3Dmol's default CDN URL for 3Dmol.js."""
    return f"https://cdn.jsdelivr.net/npm/3dmol@{threedmol_version()}/build/3Dmol-min.js"


def js_dir() -> Path:
    """The npm prefix folder for the local scripts: ``CORMORANT_LAB_JS_DIR`` or ``<user cache>/cormorant_lab/js``."""
    return Path(os.environ.get("CORMORANT_LAB_JS_DIR") or Path(platformdirs.user_cache_dir("cormorant_lab")) / "js")


def npm_packages() -> list[str]:
    """The npm package specs :func:`install_js_packages` installs: 3Dmol.js matching py3Dmol, the widget manager."""
    return [f"{THREEDMOL_PACKAGE}@{threedmol_version()}", f"{HTML_MANAGER_PACKAGE}@^{html_manager_version()}"]


def _first_file(candidates: Sequence[Path]) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)


def find_3dmol_js() -> Path | None:
    """The local ``3Dmol-min.js``, or None (see the module docstring for where it is looked for)."""
    explicit = os.environ.get("CORMORANT_LAB_3DMOL_JS")
    return _first_file(
        [Path(explicit)] if explicit else [js_dir() / THREEDMOL_RELATIVE, Path.cwd() / THREEDMOL_RELATIVE]
    )


def find_widget_manager_js() -> Path | None:
    """The local ``@jupyter-widgets/html-manager/dist/embed.js``, or None."""
    return _first_file([js_dir() / HTML_MANAGER_RELATIVE, Path.cwd() / HTML_MANAGER_RELATIVE])


def install_js_packages(prefix: str | os.PathLike | None = None, *, npm: str = "npm") -> Path:
    """Install :func:`npm_packages` with ``npm install --prefix`` into ``prefix`` (default :func:`js_dir`).

    Needs ``npm`` and access to the npm registry (once); idempotent. Returns the prefix folder.
    """
    prefix = Path(prefix) if prefix is not None else js_dir()
    if shutil.which(npm) is None:
        raise FileNotFoundError(f"{npm!r} not found: install Node.js and npm (Debian: apt-get install npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", *npm_packages()]
    subprocess.run(command, check=True)
    return prefix


@functools.lru_cache(maxsize=4)
def _data_url(path: str, mtime: float) -> str:
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return "data:text/javascript;base64," + encoded


def data_url(path: str | os.PathLike) -> str:
    """A ``data:text/javascript;base64,...`` URL holding the file (cached per path and modification time)."""
    path = Path(path)
    return _data_url(str(path.resolve()), path.stat().st_mtime)


def threedmol_js_url(source: str | None = None) -> str:
    """The ``js=`` URL for ``py3Dmol.view``: ``source`` (default ``CORMORANT_LAB_3DMOL`` or ``"auto"``), see above."""
    source = source or os.environ.get("CORMORANT_LAB_3DMOL") or "auto"
    if source not in SOURCES:
        return source
    local = find_3dmol_js() if source != "cdn" else None
    if local is not None:
        return data_url(local)
    if source == "inline":
        raise FileNotFoundError(
            "no local 3Dmol.js: run cormorant_lab.viz.install_js_packages() (or scripts/setup_browser_tests.sh), "
            "or set CORMORANT_LAB_3DMOL_JS to a 3Dmol-min.js file"
        )
    return cdn_url()


def offline_status() -> dict[str, str | None]:
    """Where the scripts would come from now: the local files found (or None) and the 3Dmol.js source in use."""
    url = threedmol_js_url()
    return {
        "3Dmol.js": str(find_3dmol_js()) if find_3dmol_js() else None,
        "html-manager": str(find_widget_manager_js()) if find_widget_manager_js() else None,
        "viewer loads 3Dmol.js from": "inline (offline)" if url.startswith("data:") else url,
    }


def embed_widgets_html(path: str | os.PathLike, views, *, title: str = "cormorant_lab widgets") -> Path:
    """``ipywidgets.embed.embed_minimal_html`` with the local HTML manager inlined: a page that works offline.

    Covers the standard ipywidgets controls (the manager bundles them); custom widgets would still be fetched from
    a CDN. Raises ``FileNotFoundError`` if the manager is not installed (see :func:`install_js_packages`).
    """
    from ipywidgets.embed import dependency_state, embed_minimal_html

    manager = find_widget_manager_js()
    if manager is None:
        raise FileNotFoundError("no local @jupyter-widgets/html-manager: run cormorant_lab.viz.install_js_packages()")
    path = Path(path)
    views = list(views) if isinstance(views, (list, tuple)) else [views]
    state = dependency_state(views)  # only these widgets, not every widget the kernel has made
    embed_minimal_html(
        str(path), views=views, title=title, state=state, requirejs=False, embed_url=data_url(manager), cors=False
    )
    return path
