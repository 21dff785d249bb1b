"""The cache folder, atomic writes, and readers that never see a half-written file."""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import platformdirs
import pytest

from cormorant_lab.data import DataFormatError, cache_dir
from cormorant_lab.data._cache import atomic_path, load_npz, save_npz_atomic


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("CORMORANT_LAB_DATA", str(tmp_path / "from_env"))
    assert cache_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert cache_dir() == tmp_path / "from_env" and (tmp_path / "from_env").is_dir()
    monkeypatch.delenv("CORMORANT_LAB_DATA")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name: str(tmp_path / "platform" / name))
    assert cache_dir() == tmp_path / "platform" / "cormorant_lab"


def test_failed_write_leaves_target_untouched(tmp_path):
    target = tmp_path / "file.npz"
    save_npz_atomic(target, {"a": np.arange(3)})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.npz"]
    np.testing.assert_array_equal(load_npz(target)["a"], np.arange(3))


def test_load_npz_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.npz"
    save_npz_atomic(path, {"a": np.arange(100_000)})
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataFormatError, match="broken.npz"):
        load_npz(path)
    save_npz_atomic(path, {"a": np.arange(3)})
    with pytest.raises(DataFormatError, match=r"missing keys \['b'\]"):
        load_npz(path, required=("a", "b"))


def _writer(target: str, rounds: int) -> None:
    for i in range(rounds):
        save_npz_atomic(target, {"x": np.full(200_000, i, dtype=np.int64)}, compress=False)


def test_concurrent_reader_sees_nothing_or_everything(tmp_path):
    """A second process rewrites the cache while we read it: every read is complete or absent."""
    target = str(tmp_path / "shared.npz")
    # fork (Linux) avoids re-importing torch in the child; spawn elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    writer = multiprocessing.get_context(method).Process(target=_writer, args=(target, 30))
    writer.start()
    seen, deadline = 0, time.monotonic() + 60
    try:
        while writer.is_alive() and time.monotonic() < deadline:
            try:
                x = load_npz(target)["x"]
            except FileNotFoundError:
                continue
            assert x.shape == (200_000,) and (x == x[0]).all()
            seen += 1
    finally:
        writer.join(timeout=60)
    assert writer.exitcode == 0
    assert seen > 0
