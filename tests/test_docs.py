"""The documentation site's sources: every notebook and page is in the nav, and the docstring conversion
(reST roles and blocks to Markdown, grouped Google-style arguments split) does what the build relies on.
The build itself runs in CI (`bash run.sh docs`, mkdocs build --strict)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _nav_targets() -> set[str]:
    return set(re.findall(r":\s+(\S+\.(?:md|ipynb))\s*$", (ROOT / "mkdocs.yml").read_text(), flags=re.M))


def test_every_page_and_notebook_is_in_the_nav():
    targets = _nav_targets()
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert pages <= targets and notebooks <= targets
    assert "differences.md" in targets and "conventions.md" in targets
    assert all((ROOT / "docs" / t).exists() for t in targets)


def test_rst_docstrings_become_markdown():
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("rst_docstrings", ROOT / "docs" / "_ext" / "rst_docstrings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = """Intro with :math:`D^l(R)` and :func:`~cormorant_lab.so3.wigner_d` and :class:`SO3Vec`.

.. math::

    Y(Rr) = D(R) Y(r)

Example::

    model = Cormorant.from_preset("qm9")
    y = model(positions, charges)

Args:
    a, b: the two factors.
    c: alone.
"""
    out = module.rst_to_markdown(text)
    assert (
        "$D^l(R)$" in out and "`wigner_d`" in out and "`SO3Vec`" in out and ":math:" not in out and ":func:" not in out
    )
    assert "$$\nY(Rr) = D(R) Y(r)\n$$" in out
    assert '```python\nmodel = Cormorant.from_preset("qm9")\ny = model(positions, charges)\n```' in out
    assert "Example:" in out and "Example::" not in out
    assert "    a: the two factors.\n    b: the two factors.\n    c: alone." in out
