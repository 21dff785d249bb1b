"""No wrong answer passes silently and no bad file poisons the cache: non-finite QM9 properties, fractional MD-17
charges, a file of another molecule, short or HTML downloads, corrupt cache entries and pinned SHA-256s."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest

from cormorant_lab.data import ChecksumError, DataFormatError, InvalidMoleculeError, load_md17, read_qm9_xyz
from cormorant_lab.data._md17 import read_md17_npz
from cormorant_lab.data._qm9_xyz import parse_qm9_xyz
from cormorant_lab.data._qm9pack import QM9PACK_COLUMNS, parse_qm9pack_row


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_non_finite_qm9_property_is_rejected_with_file_molecule_and_line(fixtures_dir, token):
    lines = (fixtures_dir / "dsgdb9nsd_000001.xyz").read_text().splitlines()
    fields = lines[1].split("\t")
    fields[12] = token  # U (fields: "gdb 1", A, B, C, mu, alpha, homo, lumo, gap, r2, zpve, U0, U)
    lines[1] = "\t".join(fields)
    with pytest.raises(
        InvalidMoleculeError, match=rf"file 'x.xyz', molecule 1, line 2: property U = '{token}' is not finite"
    ):
        parse_qm9_xyz("\n".join(lines) + "\n", file="x.xyz")
    assert np.isfinite(read_qm9_xyz(fixtures_dir / "dsgdb9nsd_000001.xyz")["U0"])


def test_non_finite_qm9pack_property_is_rejected():
    row = {
        "Index": "7",
        "Elements": "['C', 'H', 'H', 'H', 'H']",
        "XYZ_Ang": "[[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63], [-0.63, 0.63, -0.63], [0.63, -0.63, -0.63]]",
        "Mulliken_pop": "[-0.5, 0.125, 0.125, 0.125, 0.125]",
        **{column: "1.0" for column in QM9PACK_COLUMNS},
    }
    assert parse_qm9pack_row(row, file="qm9_part1.csv", line=9)["U0"] == 1.0
    row["GibbsFreeEnergy_298K_au"] = "nan"
    with pytest.raises(
        InvalidMoleculeError, match=r"file 'qm9_part1.csv', molecule 7, line 9: property G = nan is not finite"
    ):
        parse_qm9pack_row(row, file="qm9_part1.csv", line=9)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_fractional_md17_charge_is_refused(md17_helpers, tmp_path):
    z, R, E, F = md17_helpers.harmonic_trajectory(5)
    path = _npz(tmp_path / "frac.npz", z=np.where(z == 6, 6.7, z).astype(np.float64), R=R, E=E, F=F)
    with pytest.raises(DataFormatError, match=r"molecule ethanol, atom 0: z\[0\] = 6.7 is not an atomic number"):
        load_md17("ethanol", source="md17", path=path)
    whole = _npz(tmp_path / "whole.npz", z=z.astype(np.float64), R=R, E=E, F=F)  # 6.0 is an atomic number
    assert load_md17("ethanol", source="md17", path=whole)[0][0]["charges"].tolist() == z.tolist()
    strings = _npz(tmp_path / "text.npz", z=z, R=R.astype(str), E=E, F=F)
    with pytest.raises(DataFormatError, match=r"R holds <U\d+ values, expected numbers"):
        read_md17_npz(strings)


def test_a_file_of_another_molecule_is_not_relabelled(md17_helpers, tmp_path):
    z, R, E, F = md17_helpers.harmonic_trajectory(5)
    path = _npz(tmp_path / "md17_ethanol.npz", z=z, R=R, E=E, F=F)
    with pytest.raises(DataFormatError, match=r"the file holds C2H6O, not aspirin \(C9H8O4\)"):
        load_md17("aspirin", source="md17", path=path)


@pytest.fixture
def md17_remote(file_server, md17_helpers):
    good = md17_helpers.md17_npz_bytes()
    file_server.files["md17_ethanol.npz"] = good
    return file_server, good


def _cached(tmp_path):
    folder = tmp_path / "cache" / "md17"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    "served", [b"<html><body>503 Service Unavailable</body></html>", "short"], ids=["html-page", "cut-short"]
)
def test_bad_md17_download_never_enters_the_cache(md17_remote, tmp_path, served):
    server, good = md17_remote
    server.files["md17_ethanol.npz"] = good[: len(good) // 2] if served == "short" else served  # status 200, "complete"
    with pytest.warns(UserWarning), pytest.raises(DataFormatError, match=r"not a valid md17_ethanol.npz, deleted"):
        load_md17("ethanol", source="md17", mirror=server.url)
    assert _cached(tmp_path) == []  # nothing kept, no staging folder left
    server.files["md17_ethanol.npz"] = good  # the server recovers: the next call succeeds
    with pytest.warns(UserWarning):
        assert len(load_md17("ethanol", source="md17", mirror=server.url)[0]) == 40


def test_corrupt_cache_entry_is_named_then_refetched(md17_remote, tmp_path):
    server, good = md17_remote
    folder = tmp_path / "cache" / "md17"
    folder.mkdir(parents=True)
    (folder / "md17_ethanol.npz").write_bytes(b"<html>error</html>")
    with (
        pytest.warns(UserWarning),
        pytest.raises(DataFormatError, match=r"md17_ethanol.npz.*the cached file is corrupt"),
    ):
        load_md17("ethanol", source="md17", download=False)
    assert server.requests == []
    with pytest.warns(UserWarning):
        assert len(load_md17("ethanol", source="md17", mirror=server.url)[0]) == 40  # re-fetched on request
    assert (folder / "md17_ethanol.npz").read_bytes() == good and server.requests == ["md17_ethanol.npz"]


def test_pinned_sha256(md17_remote, tmp_path):
    server, good = md17_remote
    digest = hashlib.sha256(good).hexdigest()
    with pytest.raises(ChecksumError):
        load_md17("ethanol", source="md17", mirror=server.url, sha256="0" * 64)
    assert _cached(tmp_path) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pinned, matching hash: verified, no UnverifiedDownloadWarning
        dataset, _ = load_md17("ethanol", source="md17", mirror=server.url, sha256=digest.upper())
        load_md17("ethanol", source="md17", path=tmp_path / "cache" / "md17" / "md17_ethanol.npz", sha256=digest)
    assert len(dataset) == 40
    with pytest.raises(ChecksumError, match="left untouched"):  # a user's own file is never deleted
        load_md17("ethanol", source="md17", path=tmp_path / "cache" / "md17" / "md17_ethanol.npz", sha256="1" * 64)
    with pytest.raises(ValueError, match="64 hex digits"):
        load_md17("ethanol", source="md17", mirror=server.url, sha256="abc")
