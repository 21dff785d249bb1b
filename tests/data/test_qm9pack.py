"""qm9pack, the offline QM9 source: found without importing it, and identical to the archive path."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from cormorant_lab.data import _qm9, _qm9pack, load_qm9, read_qm9_xyz

pytestmark = pytest.mark.skipif(
    _qm9pack.qm9pack_data_dir() is None, reason="qm9pack is not installed (pip install 'cormorant_lab[qm9]')"
)

# Molecules to compare: the first ten, 212 (its coordinates use the *^ exponent in the archive)
# and the first of qm9pack's second and third files.
INDICES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 212, 44747, 89009)


@pytest.fixture(scope="module")
def pack_rows() -> tuple[dict[int, tuple[str, dict[str, str]]], dict[str, list[str]]]:
    """Raw CSV rows of INDICES from the installed qm9pack (index -> (file name, row)) and each file's header.

    Each molecule is one line and each file a contiguous, increasing range of indices, so a file
    is read only until its last wanted molecule.
    """
    folder = _qm9pack.qm9pack_data_dir()
    rows, header, starts = {}, {}, []
    for name in _qm9pack.QM9PACK_FILES:
        with open(folder / name, encoding="utf-8") as f:
            header[name] = next(csv.reader([f.readline()]))
            starts.append(int(f.readline().split(",", 2)[1]))
    bounds = starts[1:] + [10**9]
    for name, start, stop in zip(_qm9pack.QM9PACK_FILES, starts, bounds, strict=False):
        wanted = {i for i in INDICES if start <= i < stop}
        with open(folder / name, encoding="utf-8") as f:
            f.readline()
            for line in f:
                if not wanted:
                    break
                index = int(line.split(",", 2)[1])
                if index in wanted:
                    wanted.discard(index)
                    rows[index] = (name, next(csv.DictReader([line], fieldnames=header[name])))
    assert sorted(rows) == sorted(INDICES)
    return rows, header


def _mini_pack(folder, pack_rows, indices):
    """A qm9pack-like data folder holding only the rows of ``indices``, in qm9pack's own CSV text."""
    rows, header = pack_rows
    folder.mkdir()
    for name in _qm9pack.QM9PACK_FILES:
        with open(folder / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header[name], quoting=csv.QUOTE_NONNUMERIC)
            writer.writeheader()
            for index in indices:
                if rows[index][0] == name:
                    writer.writerow(rows[index][1])
    return folder


def test_data_folder_is_found_without_importing_qm9pack(monkeypatch):
    # qm9pack's __init__ imports pkg_resources, gone from current setuptools: importing it may fail.
    monkeypatch.delitem(sys.modules, "qm9pack", raising=False)
    folder = _qm9pack.qm9pack_data_dir()
    assert folder is not None and (folder / "qm9_part1.csv").is_file()
    assert "qm9pack" not in sys.modules


def test_qm9pack_ships_every_characterized_molecule():
    folder = _qm9pack.qm9pack_data_dir()
    n_rows = 0
    for name in _qm9pack.QM9PACK_FILES:
        with open(folder / name, "rb") as f:
            n_rows += sum(1 for _ in f) - 1  # one line per molecule after the header
    assert n_rows == _qm9.QM9_N_CHARACTERIZED == 130_831


def test_real_xyz_files_match_qm9pack_rows(fixtures_dir, pack_rows):
    rows, _ = pack_rows
    for index in (1, 3):
        from_xyz = read_qm9_xyz(fixtures_dir / f"dsgdb9nsd_{index:06d}.xyz")
        name, row = rows[index]
        from_pack = _qm9pack.parse_qm9pack_row(row, file=name, line=0)
        for key, value in from_pack.items():
            np.testing.assert_array_equal(from_xyz[key], value, err_msg=f"molecule {index}, {key}")


def test_both_sources_give_identical_arrays(tmp_path, fixtures_dir, pack_rows, qm9_helpers):
    """Archive path (real xyz for 1 and 3, the rest written in the original layout) vs qm9pack path."""
    rows, _ = pack_rows
    members = {}
    for index in INDICES:
        if index in (1, 3):
            members[f"dsgdb9nsd_{index:06d}.xyz"] = (fixtures_dir / f"dsgdb9nsd_{index:06d}.xyz").read_text()
        else:
            name, row = rows[index]
            record = _qm9pack.parse_qm9pack_row(row, file=name, line=0)
            members[f"dsgdb9nsd_{index:06d}.xyz"] = qm9_helpers.render_qm9_xyz(record)
    assert "*^" in members["dsgdb9nsd_000212.xyz"]
    archive = tmp_path / "dsgdb9nsd.xyz.tar.bz2"
    archive.write_bytes(qm9_helpers.make_tar_bz2(members))
    (tmp_path / "uncharacterized.txt").write_text(qm9_helpers.uncharacterized_text([58]))
    pack_dir = _mini_pack(tmp_path / "pack", pack_rows, INDICES)

    from_archive = _qm9.convert_archive(archive, [58], tmp_path / "a.npz", progress=False)
    from_pack = _qm9.convert_qm9pack(pack_dir, tmp_path / "b.npz", progress=False)
    a, b = np.load(from_archive), np.load(from_pack)
    assert set(a.files) == set(b.files)
    for key in a.files:
        if key != "source":
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(a["index"], INDICES)


def test_load_qm9_reads_qm9pack_when_nothing_else_is_there(tmp_path, pack_rows, monkeypatch):
    pack_dir = _mini_pack(tmp_path / "pack", pack_rows, INDICES)
    monkeypatch.setattr(_qm9, "qm9pack_data_dir", lambda: pack_dir)
    dataset, metadata = load_qm9(progress=False)
    assert metadata["source"] == "qm9pack" and len(dataset) == len(INDICES)
    assert dataset[0]["U0"].item() == pytest.approx(-17.1722, abs=1e-4)  # methane
