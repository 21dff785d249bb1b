"""Atomic, durable file writes: the one helper behind the data cache and the training checkpoints.

A write goes to a temporary file beside the target, ``.<name>.<pid>.<random>.tmp``, which is flushed and
fsynced, given the permissions an ordinary ``open(path, "w")`` would give (``0o666`` minus the umask, usually
``0644``), renamed onto the target with ``os.replace`` (atomic on one file system), and then the folder is fsynced
so that the rename itself survives a power cut. A reader sees the old file or the new one, never half of one.

Why these choices (the cache and the checkpoints used to differ): both kinds of file are ordinary outputs that
users copy and share, so neither should be private to the owner as ``mkstemp``'s ``0600`` would make it, nor more
readable than the user's umask allows; and both must survive a crash, so both fsync the data and the folder.

A process killed with SIGKILL cannot remove its temporary file. :func:`remove_stale_temporaries` deletes the
temporaries of a target whose writing process no longer exists (the pid is in the name), and every write calls
it first, so they do not accumulate; a live writer's temporary is never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    try:  # not possible on every platform (e.g. Windows); the data themselves are already fsynced
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but is not ours, or unknown: keep its file
    return True


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writers of ``target`` left behind; return what was deleted."""
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[^.]+{re.escape(_SUFFIX)}$")
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for candidate in target.parent.iterdir():
        match = pattern.match(candidate.name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_write_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the body returns, make it durable and rename it onto ``target``.

    The body writes the temporary path (the helper fsyncs it afterwards). If the body raises, or the process is
    interrupted, the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike) -> Iterator:
    """``with atomic_open(path) as handle: handle.write(...)``: a binary file handle, written atomically and durably."""
    with atomic_write_path(target) as tmp, open(tmp, "wb") as handle:
        yield handle
        handle.flush()
