"""Fixtures for the dataset tests: fixture files, a local HTTP server, generated QM9/MD-17 files.

The HTTP server listens on 127.0.0.1 on a free port, serves an in-memory dict of files and can
cut a transfer off midway or serve corrupted bytes. No test touches the network.
"""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from ase.build import molecule as ase_molecule

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder and no mirror from the environment."""
    monkeypatch.setenv("CORMORANT_LAB_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("CORMORANT_LAB_MIRROR", raising=False)


class FileServer:
    """Serves ``files`` over HTTP; ``truncate`` and ``corrupt`` hold names to break on purpose."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.corrupt: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = self.path.lstrip("/")
                server.requests.append(name)
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                if name in server.corrupt:
                    body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in server.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)  # cut the transfer off midway
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


# ---------------------------------------------------------------- QM9 files in the original layout


def format_qm9_number(x: float) -> str:
    """Shortest round-trip text of x, with Mathematica's ``*^`` exponent like the archive."""
    return repr(float(x)).replace("e", "*^")


def render_qm9_xyz(record: Mapping, smiles: str = "C", inchi: str = "InChI=1S/CH4/h1H4") -> str:
    """Write a record (charges, positions, mulliken_charges, 15 properties) in the original xyz layout."""
    from ase.data import chemical_symbols

    from cormorant_lab.data import QM9_PROPERTY_NAMES

    props = "\t".join(format_qm9_number(record[name]) for name in QM9_PROPERTY_NAMES)
    lines = [str(len(record["charges"])), f"gdb {record['index']}\t{props}\t"]
    for z, (x, y, zz), q in zip(record["charges"], record["positions"], record["mulliken_charges"], strict=False):
        lines.append("\t".join([chemical_symbols[int(z)], *(format_qm9_number(v) for v in (x, y, zz, q))]))
    lines += [
        "\t".join(["1000.0"] * max(1, 3 * len(record["charges"]) - 6)),
        f"{smiles}\t{smiles}\t",
        f"{inchi}\t{inchi}",
    ]
    return "\n".join(lines) + "\n"


def uncharacterized_text(indices) -> str:
    """A file in the layout of uncharacterized.txt: header lines, one row per index, a footer."""
    header = [
        " Molecules whose B3LYP geometry does not match the GDB-17 SMILES (test file, not the published text)",
        "",
        "   Index    GDB17-SMILES        B3LYP-SMILES          Corina  dE(PM7)",
        "=" * 80,
    ]
    rows = [f"{i:8d}    C{i}    C{i}    1    0.0" for i in indices]
    return "\n".join(header + rows + ["=" * 80]) + "\n"


def make_tar_bz2(members: Mapping[str, str | bytes]) -> bytes:
    """A tar.bz2 archive (bytes) holding ``members`` (name -> text or bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def overlapping_molecule_xyz(index: int) -> str:
    """A QM9-layout file whose two atoms coincide: it must never be read (listed as uncharacterized)."""
    props = "\t".join(["1.0"] * 15)
    return (
        f"2\ngdb {index}\t{props}\t\nC\t0.0\t0.0\t0.0\t0.0\nC\t0.0\t0.0\t0.0\t0.0\n1.0\nC\tC\t\n"
        "InChI=1S/C2\tInChI=1S/C2\n"
    )


@pytest.fixture
def qm9_archive_files() -> dict[str, bytes]:
    """A small QM9 archive (real molecules 1 and 3 plus an excluded one) and its uncharacterized list."""
    members = {
        "dsgdb9nsd_000001.xyz": (FIXTURES / "dsgdb9nsd_000001.xyz").read_text(),
        "dsgdb9nsd_000003.xyz": (FIXTURES / "dsgdb9nsd_000003.xyz").read_text(),
        "dsgdb9nsd_000058.xyz": overlapping_molecule_xyz(58),
    }
    return {
        "dsgdb9nsd.xyz.tar.bz2": make_tar_bz2(members),
        "uncharacterized.txt": uncharacterized_text([58, 21725]).encode(),
        "atomref.txt": (FIXTURES / "atomref.txt").read_bytes(),
    }


# ---------------------------------------------------------------- MD-17 style trajectories


def harmonic_trajectory(n_frames: int = 40, seed: int = 0, name: str = "CH3CH2OH"):
    """Frames of a real molecule displaced at random, with a harmonic energy and its exact forces.

    Returns z (atoms,), R (frames, atoms, 3) Å, E (frames,) kcal/mol, F (frames, atoms, 3) kcal/mol/Å.
    """
    atoms = ase_molecule(name)
    rng = np.random.default_rng(seed)
    R0 = atoms.positions
    R = R0[None] + rng.normal(scale=0.05, size=(n_frames, *R0.shape))
    k = 300.0  # kcal/mol/Å^2
    E = -97000.0 + 0.5 * k * ((R - R0) ** 2).sum(axis=(1, 2))
    F = -k * (R - R0)
    return atoms.numbers.astype(np.int64), R, E, F


def md17_npz_bytes(n_frames: int = 40, seed: int = 0) -> bytes:
    """An npz in the MD-17 layout (E (frames, 1), F, R, z, plus name/theory strings)."""
    z, R, E, F = harmonic_trajectory(n_frames, seed)
    buffer = io.BytesIO()
    np.savez(buffer, E=E[:, None], F=F, R=R, z=z.astype(np.uint8), name=np.array("ethanol"), theory=np.array("test"))
    return buffer.getvalue()


def rmd17_npz_bytes(n_frames: int = 40, seed: int = 1) -> bytes:
    """An npz in the rMD17 layout (nuclear_charges, coords, energies, forces, old_* keys)."""
    z, R, E, F = harmonic_trajectory(n_frames, seed)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        nuclear_charges=z,
        coords=R,
        energies=E,
        forces=F,
        old_indices=np.arange(n_frames),
        old_energies=E,
        old_forces=F,
    )
    return buffer.getvalue()


# ---------------------------------------------------------------- the helpers, as fixtures


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def qm9_helpers() -> SimpleNamespace:
    return SimpleNamespace(
        render_qm9_xyz=render_qm9_xyz,
        uncharacterized_text=uncharacterized_text,
        make_tar_bz2=make_tar_bz2,
        overlapping_molecule_xyz=overlapping_molecule_xyz,
    )


@pytest.fixture
def md17_helpers() -> SimpleNamespace:
    return SimpleNamespace(
        harmonic_trajectory=harmonic_trajectory, md17_npz_bytes=md17_npz_bytes, rmd17_npz_bytes=rmd17_npz_bytes
    )
