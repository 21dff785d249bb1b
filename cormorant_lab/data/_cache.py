"""The cache folder and atomic writes into it.

Everything the loaders download or convert lives under :func:`cache_dir`. Files are written to
a temporary name in the same folder and renamed into place (``os.replace`` is atomic on one file
system), so an interrupted write leaves no half-written file and a second process reading the
cache meanwhile sees either nothing or the whole file.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import platformdirs

from .._atomic import atomic_write_path
from ._errors import DataFormatError

#: Environment variable that moves the cache folder (an explicit ``root=`` argument wins over it).
CACHE_ENV_VAR = "CORMORANT_LAB_DATA"


def cache_dir(root: str | os.PathLike | None = None) -> Path:
    """Return the folder for downloaded and processed datasets, creating it if needed.

    Precedence: the ``root`` argument, then the ``CORMORANT_LAB_DATA`` environment variable,
    then platformdirs' user cache folder for ``cormorant_lab`` (e.g. ``~/.cache/cormorant_lab``).
    """
    if root is None:
        root = os.environ.get(CACHE_ENV_VAR) or platformdirs.user_cache_dir("cormorant_lab")
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_path(target: str | os.PathLike):
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    If the body raises (or the process is interrupted) the temporary file is removed and
    ``target`` is untouched. The one helper of the package, :func:`cormorant_lab._atomic.atomic_write_path`
    (the checkpoints use it too): fsync of the file and its folder, the umask's permissions.
    """
    return atomic_write_path(target)


def save_npz_atomic(target: str | os.PathLike, arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write ``arrays`` to ``target`` as an ``.npz`` file atomically and return ``target``."""
    target = Path(target)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:  # a file object stops numpy from appending ".npz" to the name
            (np.savez_compressed if compress else np.savez)(f, **cast("dict[str, Any]", arrays))
    return target


def load_npz(path: str | os.PathLike, *, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file into memory (no pickles).

    Raises :class:`DataFormatError` naming the file if it is truncated, not an npz archive, holds
    pickled objects, or lacks one of the ``required`` keys.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        raise DataFormatError(f"not a readable .npz archive ({type(exc).__name__}: {exc})", file=path) from exc
    missing = [key for key in required if key not in data]
    if missing:
        raise DataFormatError(f"missing keys {missing}; found {sorted(data)}", file=path)
    return data
