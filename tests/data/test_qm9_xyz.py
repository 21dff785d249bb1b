"""read_qm9_xyz: the original QM9 layout, exact values, and errors that point at the line."""

from __future__ import annotations

import numpy as np
import pytest

from cormorant_lab.data import QM9_PROPERTY_NAMES, DataFormatError, InvalidMoleculeError, read_qm9_xyz


def test_methane_is_read_exactly(fixtures_dir):
    record = read_qm9_xyz(fixtures_dir / "dsgdb9nsd_000001.xyz")
    assert record["index"] == 1
    assert record["charges"].dtype == np.int64
    np.testing.assert_array_equal(record["charges"], [6, 1, 1, 1, 1])
    assert record["positions"].shape == (5, 3)
    assert record["positions"][0].tolist() == [-0.0126981359, 1.0858041578, 0.0080009958]
    assert record["positions"][3].tolist() == [-0.540815069, 1.4475266138, -0.8766437152]
    assert record["mulliken_charges"].tolist() == [-0.535689, 0.133921, 0.133922, 0.133923, 0.133923]
    expected = [
        157.7118,
        157.70997,
        157.70699,
        0.0,
        13.21,
        -0.3877,
        0.1171,
        0.5048,
        35.3641,
        0.044749,
        -40.47893,
        -40.476062,
        -40.475117,
        -40.498597,
        6.469,
    ]
    assert [record[name] for name in QM9_PROPERTY_NAMES] == expected
    assert record["frequencies"].tolist()[:2] == [1341.307, 1341.3284] and len(record["frequencies"]) == 9
    assert (record["smiles_gdb"], record["smiles_relaxed"]) == ("C", "C")
    assert record["inchi_relaxed"] == "InChI=1S/CH4/h1H4"


def test_water_is_read_exactly(fixtures_dir):
    record = read_qm9_xyz(fixtures_dir / "dsgdb9nsd_000003.xyz")
    assert record["index"] == 3
    np.testing.assert_array_equal(record["charges"], [8, 1, 1])
    assert record["mu"] == 1.8511 and record["U0"] == -76.404702 and record["Cv"] == 6.002
    assert record["positions"][2].tolist() == [0.8717903737, 1.3007924048, 0.0006931336]


def _write(tmp_path, text, name="dsgdb9nsd_000001.xyz"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def methane_lines(fixtures_dir):
    return (fixtures_dir / "dsgdb9nsd_000001.xyz").read_text().splitlines(keepends=True)


def test_fortran_exponent_notation(tmp_path, methane_lines):
    lines = methane_lines
    lines[2] = "C\t 2.1997*^-6\t 1.4462618059\t 1.2*^-5\t-0.535689\n"
    record = read_qm9_xyz(_write(tmp_path, "".join(lines)))
    assert record["positions"][0, 0] == 2.1997e-6
    assert record["positions"][0, 2] == 1.2e-5


@pytest.mark.parametrize("keep", [1, 2, 4, 7, 8, 9])
def test_truncated_file_names_file_molecule_and_line(tmp_path, keep, methane_lines):
    path = _write(tmp_path, "".join(methane_lines[:keep]))
    with pytest.raises(DataFormatError) as info:
        read_qm9_xyz(path)
    message = str(info.value)
    assert str(path) in message
    if keep >= 2:
        assert info.value.molecule == 1 and "molecule 1" in message
    assert info.value.line is not None and f"line {info.value.line}" in message


def test_malformed_coordinate_names_line_and_atom(tmp_path, methane_lines):
    lines = methane_lines
    lines[4] = "H\t 1.01173x\t 1.4637511618\t 0.0002765748\t 0.133922\n"
    with pytest.raises(DataFormatError) as info:
        read_qm9_xyz(_write(tmp_path, "".join(lines)))
    assert (info.value.line, info.value.atom, info.value.molecule) == (5, 2, 1)
    assert "line 5" in str(info.value) and "atom 2" in str(info.value)


def test_wrong_number_of_properties(tmp_path, methane_lines):
    lines = methane_lines
    lines[1] = "gdb 1\t157.7118\t157.70997\n"
    with pytest.raises(DataFormatError, match="line 2"):
        read_qm9_xyz(_write(tmp_path, "".join(lines)))


def test_unknown_element(tmp_path, methane_lines):
    lines = methane_lines
    lines[3] = "Xx\t 0.002150416\t-0.0060313176\t 0.0019761204\t 0.133921\n"
    with pytest.raises(InvalidMoleculeError, match="unknown element 'Xx'") as info:
        read_qm9_xyz(_write(tmp_path, "".join(lines)))
    assert (info.value.line, info.value.atom) == (4, 1)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_coordinate(tmp_path, bad, methane_lines):
    lines = methane_lines
    lines[5] = f"H\t{bad}\t 1.4475266138\t-0.8766437152\t 0.133923\n"
    with pytest.raises(InvalidMoleculeError, match="non-finite") as info:
        read_qm9_xyz(_write(tmp_path, "".join(lines)))
    assert (info.value.line, info.value.atom) == (6, 3)


def test_overlapping_atoms(tmp_path, methane_lines):
    lines = methane_lines
    lines[3] = "H\t-0.0126981359\t 1.0858041578\t 0.0580009958\t 0.133921\n"  # 0.05 Å from the carbon
    with pytest.raises(InvalidMoleculeError, match="atoms 0 and 1 are 0.0500 Å apart"):
        read_qm9_xyz(_write(tmp_path, "".join(lines)))


def test_empty_and_binary_files(tmp_path, methane_lines):
    with pytest.raises(DataFormatError, match="line 1"):
        read_qm9_xyz(_write(tmp_path, ""))
    path = tmp_path / "binary.xyz"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataFormatError, match="binary.xyz"):
        read_qm9_xyz(path)
