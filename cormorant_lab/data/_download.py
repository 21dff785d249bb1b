"""Downloading published dataset files with size and SHA-256 verification (through pooch).

pooch streams each file to a temporary name in the destination folder, checks its hash, and
only then renames it into place; on a hash mismatch or a broken transfer the temporary file is
deleted (``pooch.core.stream_download``). We add a size check, clear errors naming the URL, and a
mirror: ``CORMORANT_LAB_MIRROR`` (or ``mirror=``) replaces every URL by ``<mirror>/<file name>``,
for users behind a proxy cache and for the tests, which serve files from 127.0.0.1.

A registry entry whose publisher gives no checksum has ``sha256=None``: the file is then used
unverified and a :class:`UnverifiedDownloadWarning` says so every time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from pathlib import Path

import pooch
import requests

from ._errors import ChecksumError, DownloadError

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


def fetch(
    remote: RemoteFile,
    directory: str | os.PathLike,
    *,
    mirror: str | None = None,
    progressbar: bool = True,
) -> Path:
    """Return the local path of ``remote`` in ``directory``, downloading it if needed.

    A file already present is re-verified; a corrupt one is deleted and downloaded again. Raises
    :class:`ChecksumError` if the transfer does not match the published size or hash (nothing is
    kept) and :class:`DownloadError` if the transfer fails or is cut off (nothing is kept).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / remote.filename
    if target.exists():
        try:
            verify_file(target, remote)
            return target
        except ChecksumError:
            pass  # deleted by verify_file; download a fresh copy below
    url = resolve_url(remote, mirror)
    known_hash = f"sha256:{remote.sha256}" if remote.sha256 else None
    try:
        pooch.retrieve(
            url,
            known_hash=known_hash,
            fname=remote.filename,
            path=directory,
            progressbar=progressbar,
        )
    except ValueError as exc:  # pooch's hash mismatch; its temporary file is already deleted
        raise ChecksumError(f"download of {remote.filename} from {url} failed verification: {exc}") from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        raise DownloadError(f"download of {remote.filename} from {url} failed: {exc}") from exc
    verify_file(target, remote)
    return target
