"""The package's layers: so3 <- nn <- train, data beside them; no cycles and no reaching into another
subpackage's private modules (names that cross a subpackage boundary are exported publicly)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cormorant_lab"


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute dotted names of every ``from ... import`` in a module of the package (relative ones resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def test_no_private_imports_across_subpackages():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0]
        for line, name in _imports(path):
            parts = name.split(".")
            if parts[0] != "cormorant_lab" or len(parts) < 3:
                continue
            if parts[1] != own.removesuffix(".py") and any(p.startswith("_") for p in parts[2:]):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not offenders, "import the public names instead:\n" + "\n".join(offenders)


def test_nn_and_so3_do_not_import_train():
    code = (
        "import sys, cormorant_lab.nn, cormorant_lab.so3, cormorant_lab.checks; "
        "print(sorted(m for m in sys.modules if m.startswith('cormorant_lab.train')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_module_outside_train_and_cli_imports_train():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ("train", "cli.py", "tutorial", "viz")
        for line, name in _imports(path)
        if name.startswith("cormorant_lab.train")
    ]
    assert not offenders, offenders
