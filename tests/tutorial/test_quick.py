import pytest

from cormorant_lab.tutorial import quick_mode


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_quick_mode_on(value):
    assert quick_mode({"CORMORANT_LAB_QUICK": value}) is True


@pytest.mark.parametrize(
    "environ", [{}, {"CORMORANT_LAB_QUICK": ""}, {"CORMORANT_LAB_QUICK": "0"}, {"CORMORANT_LAB_QUICK": "False"}]
)
def test_quick_mode_off(environ):
    assert quick_mode(environ) is False


def test_quick_mode_rejects_typos():
    with pytest.raises(ValueError, match="CORMORANT_LAB_QUICK"):
        quick_mode({"CORMORANT_LAB_QUICK": "quick"})


def test_quick_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv("CORMORANT_LAB_QUICK", "1")
    assert quick_mode()
    monkeypatch.delenv("CORMORANT_LAB_QUICK")
    assert not quick_mode()


def test_notebook_size():
    import pytest

    from cormorant_lab.tutorial import notebook_size

    assert notebook_size({}) == "default"
    assert notebook_size({"CORMORANT_LAB_QUICK": "1"}) == "quick"
    assert notebook_size({"CORMORANT_LAB_SIZE": "Paper"}) == "paper"
    assert notebook_size({"CORMORANT_LAB_SIZE": "quick", "CORMORANT_LAB_QUICK": "1"}) == "quick"
    with pytest.raises(ValueError, match="one of"):
        notebook_size({"CORMORANT_LAB_SIZE": "huge"})
    with pytest.raises(ValueError, match="contradicts"):
        notebook_size({"CORMORANT_LAB_SIZE": "paper", "CORMORANT_LAB_QUICK": "1"})
