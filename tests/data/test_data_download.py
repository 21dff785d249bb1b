"""Download -> verify -> parse -> cache, end to end, against a local HTTP server on 127.0.0.1.

The served files are in the real formats. The published atomref.txt is served byte for byte and
verified against its real SHA-256; for the archive and uncharacterized.txt (which we cannot ship)
the registry is pointed at the served test files' own sizes and hashes.
"""

from __future__ import annotations

import hashlib
import warnings

import pytest

from cormorant_lab.data import ChecksumError, DownloadError, UnverifiedDownloadWarning, _md17, _qm9, load_md17, load_qm9
from cormorant_lab.data._download import RemoteFile, fetch


def _registry_entry(real: RemoteFile, data: bytes) -> RemoteFile:
    return RemoteFile(real.filename, real.url, len(data), hashlib.sha256(data).hexdigest(), "test file")


@pytest.fixture
def qm9_server(file_server, qm9_archive_files, monkeypatch):
    file_server.files.update(qm9_archive_files)
    for attr in ("QM9_ARCHIVE", "QM9_UNCHARACTERIZED"):
        real = getattr(_qm9, attr)
        monkeypatch.setattr(_qm9, attr, _registry_entry(real, qm9_archive_files[real.filename]))
    monkeypatch.setattr(_qm9, "qm9pack_data_dir", lambda: None)  # the archive path, even if qm9pack is installed
    return file_server


def _qm9_folder(tmp_path):
    folder = tmp_path / "cache" / "qm9"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_qm9_download_verify_parse_cache(qm9_server, tmp_path):
    dataset, metadata = load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert dataset.index.tolist() == [1, 3] and metadata["source"] == "archive"
    assert sorted(qm9_server.requests) == ["atomref.txt", "dsgdb9nsd.xyz.tar.bz2", "uncharacterized.txt"]
    assert _qm9_folder(tmp_path) == [
        "atomref.txt",
        "dsgdb9nsd.xyz.tar.bz2",
        "qm9_processed_v1.npz",
        "uncharacterized.txt",
    ]
    again, _ = load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert len(qm9_server.requests) == 3  # everything came from the cache
    assert again[1]["U0"].item() == dataset[1]["U0"].item()


def test_mirror_from_the_environment(qm9_server, monkeypatch):
    monkeypatch.setenv("CORMORANT_LAB_MIRROR", qm9_server.url + "/")
    dataset, _ = load_qm9(download=True, progress=False)
    assert len(dataset) == 2 and "dsgdb9nsd.xyz.tar.bz2" in qm9_server.requests


def test_corrupted_download_is_deleted_and_never_used(qm9_server, tmp_path):
    qm9_server.corrupt.add("dsgdb9nsd.xyz.tar.bz2")
    with pytest.raises(ChecksumError, match="dsgdb9nsd.xyz.tar.bz2"):
        load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert "dsgdb9nsd.xyz.tar.bz2" not in _qm9_folder(tmp_path)
    assert not any(name.startswith("tmp") or name.endswith(".part") for name in _qm9_folder(tmp_path))
    assert "qm9_processed_v1.npz" not in _qm9_folder(tmp_path)


def test_corrupted_published_file_fails_its_real_checksum(qm9_server, tmp_path):
    qm9_server.corrupt.add("atomref.txt")
    with pytest.raises(ChecksumError, match="atomref.txt"):
        load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert "atomref.txt" not in _qm9_folder(tmp_path)


def test_transfer_cut_off_midway_leaves_nothing_then_retry_succeeds(qm9_server, tmp_path):
    qm9_server.truncate.add("dsgdb9nsd.xyz.tar.bz2")
    with pytest.raises(DownloadError, match="dsgdb9nsd.xyz.tar.bz2"):
        load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert _qm9_folder(tmp_path) == ["atomref.txt"]  # no partial archive, no temporary file, no cache
    qm9_server.truncate.clear()
    dataset, _ = load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert len(dataset) == 2


def test_corrupt_file_already_in_the_cache_is_replaced(qm9_server, tmp_path, qm9_archive_files):
    folder = tmp_path / "cache" / "qm9"
    folder.mkdir(parents=True)
    (folder / "dsgdb9nsd.xyz.tar.bz2").write_bytes(b"not the archive")
    dataset, _ = load_qm9(download=True, mirror=qm9_server.url, progress=False)
    assert len(dataset) == 2
    assert (folder / "dsgdb9nsd.xyz.tar.bz2").read_bytes() == qm9_archive_files["dsgdb9nsd.xyz.tar.bz2"]


def test_missing_file_on_the_server(file_server, tmp_path):
    remote = RemoteFile("absent.bin", "https://example.invalid/absent.bin", 10, "0" * 64)
    with pytest.raises(DownloadError, match="absent.bin"):
        fetch(remote, tmp_path / "dl", mirror=file_server.url, progressbar=False)
    assert list((tmp_path / "dl").iterdir()) == []


def test_md17_download_without_published_hash_warns(file_server, md17_helpers, tmp_path):
    file_server.files["md17_ethanol.npz"] = md17_helpers.md17_npz_bytes()
    with pytest.warns(UnverifiedDownloadWarning, match="md17_ethanol.npz"):
        dataset, metadata = load_md17("ethanol", source="md17", mirror=file_server.url)
    assert len(dataset) == 40 and metadata["units"]["energy"] == "kcal/mol"
    assert (tmp_path / "cache" / "md17" / "md17_ethanol.npz").exists()


def test_md17_transfer_cut_off_is_detected_without_a_hash(file_server, md17_helpers, tmp_path):
    file_server.files["md17_ethanol.npz"] = md17_helpers.md17_npz_bytes()
    file_server.truncate.add("md17_ethanol.npz")
    with pytest.raises(DownloadError):
        load_md17("ethanol", source="md17", mirror=file_server.url)
    assert list((tmp_path / "cache" / "md17").iterdir()) == []


def test_md17_without_download_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="not downloaded yet"):
        load_md17("aspirin", source="md17", download=False)


def test_rmd17_archive_download_and_extraction(file_server, md17_helpers, qm9_helpers, monkeypatch, tmp_path):
    archive = qm9_helpers.make_tar_bz2(
        {
            "rmd17/readme.txt": "test archive in the rMD17 layout\n",
            "rmd17/npz_data/rmd17_aspirin.npz": b"not read",
            "rmd17/npz_data/rmd17_ethanol.npz": md17_helpers.rmd17_npz_bytes(),
        }
    )
    file_server.files["rmd17.tar.bz2"] = archive
    monkeypatch.setattr(_md17, "RMD17_ARCHIVE", _registry_entry(_md17.RMD17_ARCHIVE, archive))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a verified download warns about nothing
        dataset, metadata = load_md17("ethanol", source="rmd17", mirror=file_server.url)
    assert len(dataset) == 40 and metadata["source"] == "rmd17"
    assert (tmp_path / "cache" / "rmd17" / "rmd17_ethanol.npz").exists()
    load_md17("ethanol", source="rmd17", mirror=file_server.url)
    assert file_server.requests == ["rmd17.tar.bz2"]  # the extracted file is reused


def test_rmd17_corrupted_archive(file_server, md17_helpers, qm9_helpers, monkeypatch, tmp_path):
    archive = qm9_helpers.make_tar_bz2({"rmd17/npz_data/rmd17_ethanol.npz": md17_helpers.rmd17_npz_bytes()})
    file_server.files["rmd17.tar.bz2"] = archive
    file_server.corrupt.add("rmd17.tar.bz2")
    monkeypatch.setattr(_md17, "RMD17_ARCHIVE", _registry_entry(_md17.RMD17_ARCHIVE, archive))
    with pytest.raises(ChecksumError):
        load_md17("ethanol", source="rmd17", mirror=file_server.url)
    assert list((tmp_path / "cache" / "rmd17").iterdir()) == []
