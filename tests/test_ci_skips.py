"""Under CI=true a skipped test fails (tests/conftest.py); elsewhere it stays a skip."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_runtime_skip():
    pytest.skip("no browser here")

@pytest.mark.skipif(True, reason="an extra is missing")
def test_marked_skip():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_failure():
    assert False
"""


@pytest.mark.parametrize("ci, failed, skipped", [("true", 3, 0), ("", 0, 3)])
def test_skips_fail_only_under_ci(pytester, monkeypatch, ci, failed, skipped):
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_skipping=SKIPPING)
    pytester.makepyfile(test_module_skip="import pytest\npytest.importorskip('no_such_module_anywhere')\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--continue-on-collection-errors")
    outcomes = result.parseoutcomes()
    # A skip at collection or in setup (skipif) becomes an error, one while running the test a failure.
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == failed and outcomes.get("skipped", 0) == skipped
    assert outcomes.get("xfailed", 0) == 1
    if ci:
        result.stdout.fnmatch_lines(["*skipped under CI=true, which counts as a failure*no browser here*"])
