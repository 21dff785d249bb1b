"""Downloading published dataset files with size and SHA-256 verification (through pooch).

pooch streams each file to a temporary name in the destination folder, checks its hash, and
only then renames it into place; on a hash mismatch or a broken transfer the temporary file is
deleted (``pooch.core.stream_download``). We add a size check, clear errors naming the URL, and a
mirror: ``CORMORANT_LAB_MIRROR`` (or ``mirror=``) replaces every URL by ``<mirror>/<file name>``,
for users behind a proxy cache and for the tests, which serve files from 127.0.0.1.

A registry entry whose publisher gives no checksum has ``sha256=None``: the file is then used
unverified and a :class:`UnverifiedDownloadWarning` says so every time, unless the user pins a SHA-256
(``fetch(..., sha256=...)``, ``load_md17(..., sha256=...)``, ``cormorant-lab fetch --sha256``). Such files
are checked for their content instead: a ``validate`` function (for MD-17, an npz with the expected keys,
shapes and dtypes) runs on the download in a staging folder before it enters the cache, and on a cached
file before it is used. A download that fails is deleted; a cached file that fails is deleted and
downloaded again when downloading is allowed, and otherwise named in a :class:`DataFormatError`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pooch
import requests

from ._errors import ChecksumError, DataFormatError, DownloadError

#: Environment variable holding a base URL that replaces the publishers' hosts.
MIRROR_ENV_VAR = "CORMORANT_LAB_MIRROR"


class UnverifiedDownloadWarning(UserWarning):
    """A file was used although no published checksum exists to verify it."""


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """A published file: where it lives and what it must hash to.

    Attributes:
        filename: name in the cache folder (and under a mirror).
        url: the publisher's download address.
        size: exact size in bytes, or None if unknown.
        sha256: lowercase hex SHA-256, or None if no published value could be found.
        provenance: where ``size`` and ``sha256`` were taken from.
    """

    filename: str
    url: str
    size: int | None
    sha256: str | None
    provenance: str = ""


def sha256_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, remote: RemoteFile, *, delete: bool = True) -> None:
    """Check size and SHA-256 of a local file against ``remote``.

    On a mismatch the file is deleted (unless ``delete=False``, used for a user's own copy) and
    :class:`ChecksumError` is raised. A missing published hash only warns.
    """
    path = Path(path)
    problem = None
    actual_size = path.stat().st_size
    if remote.size is not None and actual_size != remote.size:
        problem = f"has {actual_size} bytes, expected {remote.size}"
    elif remote.sha256 is not None:
        actual = sha256_of(path)
        if actual != remote.sha256:
            problem = f"has SHA-256 {actual}, expected {remote.sha256}"
    if problem:
        if delete:
            path.unlink(missing_ok=True)
        raise ChecksumError(
            f"{path} ({remote.filename} from {remote.url}) {problem}; "
            + ("the file was deleted." if delete else "the file is left untouched.")
        )
    if remote.sha256 is None:
        warnings.warn(
            f"{remote.filename}: no published checksum is known, so {path} is used UNVERIFIED"
            + ("" if remote.size is None else f" (size {remote.size} bytes checked)")
            + ". Check it yourself if it matters.",
            UnverifiedDownloadWarning,
            stacklevel=3,
        )


def resolve_url(remote: RemoteFile, mirror: str | None = None) -> str:
    """The publisher's URL, or ``<mirror>/<filename>`` when a mirror is given or set in the environment."""
    mirror = mirror or os.environ.get(MIRROR_ENV_VAR)
    if mirror:
        return f"{mirror.rstrip('/')}/{remote.filename}"
    return remote.url


def _short(exc: BaseException) -> str:
    """One line for a network error (requests chains several exceptions into one long message)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:240]}{'...' if len(text) > 240 else ''}"


def fetch(
    remote: RemoteFile,
    directory: str | os.PathLike,
    *,
    mirror: str | None = None,
    progressbar: bool = True,
    validate: Callable[[Path], object] | None = None,
    sha256: str | None = None,
    download: bool = True,
) -> Path:
    """Return the local path of ``remote`` in ``directory``, downloading it if needed.

    A file already present is re-verified (size, hash, ``validate``); a corrupt one is deleted and downloaded
    again (with ``download=False``: :class:`DataFormatError` or :class:`ChecksumError` naming it). ``sha256`` pins
    a hash where the registry has none (or overrides it). ``validate(path)`` raises :class:`DataFormatError` for
    bad content; it runs before the file enters ``directory``. Raises :class:`ChecksumError` if the transfer does
    not match the size or hash and :class:`DownloadError` if it fails or is cut off (nothing is kept).
    """
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
        remote = dataclasses.replace(remote, sha256=sha256, provenance="pinned by the user")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / remote.filename
    if target.exists():
        try:
            verify_file(target, remote, delete=download)
            if validate is not None:
                validate(target)
            return target
        except DataFormatError as exc:
            if not download:
                raise DataFormatError(f"the cached file is corrupt ({exc}); download it again", file=target) from None
            target.unlink(missing_ok=True)
        except ChecksumError:
            if not download:
                raise
            # deleted by verify_file; download a fresh copy below
    elif not download:
        raise FileNotFoundError(f"{target} not found and downloading is off")
    url = resolve_url(remote, mirror)
    known_hash = f"sha256:{remote.sha256}" if remote.sha256 else None
    staging = Path(tempfile.mkdtemp(prefix=".download.", dir=directory))
    try:
        try:
            pooch.retrieve(url, known_hash=known_hash, fname=remote.filename, path=staging, progressbar=progressbar)
        except ValueError as exc:  # pooch's hash mismatch; its temporary file is already deleted
            raise ChecksumError(f"download of {remote.filename} from {url} failed verification: {exc}") from exc
        except (requests.exceptions.RequestException, OSError) as exc:
            raise DownloadError(f"download of {remote.filename} from {url} failed ({_short(exc)})") from exc
        staged = staging / remote.filename
        verify_file(staged, remote)
        if validate is not None:
            try:
                validate(staged)
            except DataFormatError as exc:
                raise DataFormatError(
                    f"the download from {url} is not a valid {remote.filename}, deleted: {exc}"
                ) from None
        os.replace(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
