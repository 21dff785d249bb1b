"""What every tutorial notebook must contain, read from the committed files (no kernel): goals, sizes with measured
times, exercises answered by the learner and checked by the package, no solution inside the notebook, a summary."""

import json
import re
from pathlib import Path

import pytest

from cormorant_lab.tutorial import EXERCISES

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(cells, kind=None):
    return "\n".join("".join(c["source"]) for c in cells if kind is None or c["cell_type"] == kind)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_goals_sizes_exercises_summary(path):
    cells = _cells(path)
    markdown = _text(cells, "markdown")
    assert "**Learning goals.**" in markdown and "## Summary" in markdown, path.name
    assert "**Three sizes**" in markdown and all(f"| {size} |" in markdown for size in ("quick", "default", "paper"))
    assert "{{" not in markdown, f"{path.name}: an unfilled time placeholder"
    code = _text(cells, "code")
    assert "notebook_size()" in code, f"{path.name}: parameters must come from notebook_size()"
    names = re.findall(r'check_answer\("([a-z0-9_]+)"', code)
    assert len(set(names)) >= 2, f"{path.name}: at least two exercises checked by the package"
    assert set(names) <= set(EXERCISES), set(names) - set(EXERCISES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_solution_runs_or_shows(path):
    """Run All must not execute or print a solution, and a collapsed preview must not show one."""
    for index, cell in enumerate(_cells(path)):
        source = "".join(cell["source"])
        meta = cell.get("metadata", {})
        assert "solution" not in meta.get("tags", []) and not meta.get("jupyter", {}).get("source_hidden"), (
            path.name,
            index,
        )
        if cell["cell_type"] == "code":
            for line in source.splitlines():
                assert not re.match(r"\s*show_solution\(", line), (
                    f"{path.name} cell {index}: show_solution is for the learner"
                )
                assert not line.lstrip().startswith("# Solution"), (
                    f"{path.name} cell {index}: a solution in the notebook"
                )
            if "check_answer(" in source:
                # the learner's cell: the answer is still open (None), the checker only reports
                assert re.search(r"answer = None|return None", source), f"{path.name} cell {index}: a filled-in answer"
                assert "assert check_answer" not in source


def test_every_exercise_is_used_by_a_notebook():
    used = set()
    for path in NOTEBOOKS:
        used |= set(re.findall(r'check_answer\("([a-z0-9_]+)"', _text(_cells(path), "code")))
    assert used == set(EXERCISES), set(EXERCISES) ^ used
