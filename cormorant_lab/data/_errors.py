"""Exceptions raised by the dataset loaders.

Every message names where the problem is: the file, the molecule (index or name), the line
and the atom when they are known, so that a user can open the file at the right place.
"""

from __future__ import annotations

import os


def describe_location(
    file: str | os.PathLike | None = None,
    molecule: str | int | None = None,
    line: int | None = None,
    atom: int | None = None,
) -> str:
    """Return ``"file 'x', molecule 3, line 7, atom 2"`` for the parts that are known."""
    parts = []
    if file is not None:
        parts.append(f"file {os.fspath(file)!r}")
    if molecule is not None:
        parts.append(f"molecule {molecule}")
    if line is not None:
        parts.append(f"line {line}")
    if atom is not None:
        parts.append(f"atom {atom}")
    return ", ".join(parts)


class DataFormatError(ValueError):
    """A data file is truncated or does not follow its format.

    The attributes ``file``, ``molecule``, ``line`` (1-based) and ``atom`` (0-based) hold the
    location when known; the message repeats them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike | None = None,
        molecule: str | int | None = None,
        line: int | None = None,
        atom: int | None = None,
    ) -> None:
        self.file = None if file is None else os.fspath(file)
        self.molecule = molecule
        self.line = line
        self.atom = atom
        where = describe_location(file, molecule, line, atom)
        super().__init__(f"{where}: {message}" if where else message)


class InvalidMoleculeError(DataFormatError):
    """A molecule parsed fine but is physically unusable (unknown element, NaN/inf, overlapping atoms)."""


class ChecksumError(ValueError):
    """A downloaded or local file does not match its published size or SHA-256; it was deleted."""


class DownloadError(OSError):
    """A transfer failed (connection refused, cut off midway); nothing was kept."""
