"""QM9 from a local archive: exclusion, the paper's targets and units, the cache, the splits."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from cormorant_lab.data import (
    HARTREE_TO_EV,
    QM9_ATOMREF_HARTREE,
    QM9_TARGETS,
    DataFormatError,
    InvalidMoleculeError,
    _qm9,
    load_qm9,
    qm9_splits,
)


@pytest.fixture
def local_archive(tmp_path, qm9_archive_files):
    folder = tmp_path / "download"
    folder.mkdir()
    for name, data in qm9_archive_files.items():
        (folder / name).write_bytes(data)
    return folder / "dsgdb9nsd.xyz.tar.bz2"


def test_atomref_fixture_is_the_published_file(fixtures_dir):
    data = (fixtures_dir / "atomref.txt").read_bytes()
    assert len(data) == _qm9.QM9_ATOMREF.size
    assert hashlib.sha256(data).hexdigest() == _qm9.QM9_ATOMREF.sha256


def test_atomref_table_matches_the_file(fixtures_dir):
    table = _qm9.parse_atomref(fixtures_dir / "atomref.txt")
    for z, refs in QM9_ATOMREF_HARTREE.items():
        assert tuple(table[z][c] for c in ("zpve", "U0", "U", "H", "G")) == refs
        assert table[z]["Cv"] == 2.981


def test_uncharacterized_parser(tmp_path, qm9_helpers):
    path = tmp_path / "uncharacterized.txt"
    path.write_text(qm9_helpers.uncharacterized_text([21725, 58, 87037]))
    np.testing.assert_array_equal(_qm9.parse_uncharacterized(path), [58, 21725, 87037])


def test_archive_excludes_uncharacterized_and_converts_units(local_archive):
    dataset, metadata = load_qm9(archive=local_archive, progress=False)
    assert len(dataset) == 2 and dataset.index.tolist() == [1, 3]  # molecule 58 excluded
    assert metadata["source"] == "archive" and metadata["skipped"] == 0
    methane = dataset[0]
    # U0 minus the atoms' reference energies, Hartree -> eV (CODATA 2018).
    expected_u0 = (-40.47893 - (-37.846772 + 4 * -0.500273)) * HARTREE_TO_EV
    assert methane["U0"].item() == pytest.approx(expected_u0, abs=1e-12)
    assert methane["U0"].item() == pytest.approx(-17.1722, abs=1e-4)  # methane's known atomization energy
    assert methane["homo"].item() == pytest.approx(-0.3877 * 27.211386245988, abs=1e-12)
    assert methane["Cv"].item() == 6.469 and methane["mu"].item() == 0.0 and methane["alpha"].item() == 13.21
    water = dataset[1]
    expected_g = (-76.422349 - (-75.079532 + 2 * -0.510927)) * HARTREE_TO_EV
    assert water["G"].item() == pytest.approx(expected_g, abs=1e-12)
    assert metadata["units"]["U0"] == "eV" and metadata["reported_units"]["gap"] == "meV"
    assert set(metadata["units"]) - {"positions"} == set(QM9_TARGETS)


def test_requested_targets_only(local_archive):
    dataset, metadata = load_qm9(archive=local_archive, targets=["U0", "A"], progress=False)
    assert dataset.target_names == ["U0", "A"] and metadata["units"]["A"] == "GHz"
    assert dataset[0]["A"].item() == 157.7118
    with pytest.raises(ValueError, match="unknown QM9 target 'U7'"):
        load_qm9(archive=local_archive, targets=["U7"], progress=False)


def test_cache_is_reused_without_the_archive(local_archive):
    first, _ = load_qm9(archive=local_archive, progress=False)
    local_archive.unlink()
    second, metadata = load_qm9(progress=False)  # the processed cache alone
    assert metadata["source"] == "archive"
    np.testing.assert_array_equal(first.targets("U0"), second.targets("U0"))


def test_missing_uncharacterized_list_is_a_clear_error(local_archive):
    (local_archive.parent / "uncharacterized.txt").unlink()
    with pytest.raises(FileNotFoundError, match="uncharacterized.txt"):
        load_qm9(archive=local_archive, source="archive", progress=False)


def test_nothing_available_offline_says_what_to_do(monkeypatch):
    monkeypatch.setattr(_qm9, "qm9pack_data_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_qm9(progress=False)


def _leftovers(tmp_path):
    folder = tmp_path / "cache" / "qm9"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_interrupted_parsing_leaves_no_cache(local_archive, monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_qm9, "parse_qm9_xyz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_qm9(archive=local_archive, progress=False)
    assert _leftovers(tmp_path) == []


def test_interrupted_write_leaves_no_half_written_cache(local_archive, monkeypatch, tmp_path):
    from cormorant_lab.data import _cache

    def half_written(file, **arrays):
        file.write(b"PK\x03\x04 half of a zip")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(_cache.np, "savez_compressed", half_written)
        with pytest.raises(KeyboardInterrupt):
            load_qm9(archive=local_archive, progress=False)
    assert _leftovers(tmp_path) == []  # neither the cache nor its temporary file
    dataset, _ = load_qm9(archive=local_archive, progress=False)  # and a later run succeeds
    assert len(dataset) == 2


def test_malformed_member_names_archive_member_and_line(tmp_path, qm9_helpers, fixtures_dir):
    broken = (fixtures_dir / "dsgdb9nsd_000003.xyz").read_text().replace("0.9775395708", "0.97x")
    archive = tmp_path / "dsgdb9nsd.xyz.tar.bz2"
    archive.write_bytes(qm9_helpers.make_tar_bz2({"dsgdb9nsd_000003.xyz": broken}))
    (tmp_path / "uncharacterized.txt").write_text(qm9_helpers.uncharacterized_text([58]))
    with pytest.raises(DataFormatError) as info:
        load_qm9(archive=archive, progress=False)
    assert "dsgdb9nsd_000003.xyz" in str(info.value) and info.value.line == 3 and info.value.molecule == 3


def test_truncated_archive_is_a_clear_error(tmp_path, qm9_archive_files):
    archive = tmp_path / "dsgdb9nsd.xyz.tar.bz2"
    archive.write_bytes(qm9_archive_files["dsgdb9nsd.xyz.tar.bz2"][:200])
    (tmp_path / "uncharacterized.txt").write_bytes(qm9_archive_files["uncharacterized.txt"])
    with pytest.raises(DataFormatError, match="cannot read the archive"):
        load_qm9(archive=archive, progress=False)
    assert not (tmp_path / "cache" / "qm9" / _qm9.PROCESSED_NAME).exists()


def test_invalid_molecules_raise_or_are_skipped_with_a_count(tmp_path, qm9_helpers, fixtures_dir):
    members = {
        "dsgdb9nsd_000001.xyz": (fixtures_dir / "dsgdb9nsd_000001.xyz").read_text(),
        "dsgdb9nsd_000007.xyz": qm9_helpers.overlapping_molecule_xyz(7),
    }
    archive = tmp_path / "dsgdb9nsd.xyz.tar.bz2"
    archive.write_bytes(qm9_helpers.make_tar_bz2(members))
    (tmp_path / "uncharacterized.txt").write_text(qm9_helpers.uncharacterized_text([58]))
    with pytest.raises(InvalidMoleculeError, match="molecule 7"):
        load_qm9(archive=archive, progress=False)
    with pytest.warns(UserWarning, match="skipped 1 invalid"):
        dataset, metadata = load_qm9(archive=archive, on_invalid="skip", progress=False)
    assert len(dataset) == 1 and metadata["skipped"] == 1


def test_paper_split_sizes_and_properties():
    splits = qm9_splits()
    assert {k: len(v) for k, v in splits.items()} == {"train": 100_000, "valid": 17_748, "test": 13_083}
    everything = np.concatenate(list(splits.values()))
    assert len(np.unique(everything)) == 130_831 and everything.min() == 0 and everything.max() == 130_830
    again = qm9_splits()
    for name in splits:
        np.testing.assert_array_equal(splits[name], again[name])
    other = qm9_splits(seed=1)
    assert not np.array_equal(other["test"], splits["test"])


def test_smaller_training_sets_are_nested_and_keep_heldout_sets():
    full = qm9_splits()
    small = qm9_splits(n_train=1000)
    np.testing.assert_array_equal(small["train"], full["train"][:1000])
    np.testing.assert_array_equal(small["valid"], full["valid"])
    np.testing.assert_array_equal(small["test"], full["test"])
    with pytest.raises(ValueError, match="exceeds"):
        qm9_splits(n_train=120_000)
