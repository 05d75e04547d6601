"""One way to write a file durably: a temporary file unique to the writer, fsync, rename, fsync the folder.

Every durable write of the project goes through :func:`atomic_write` (result records, histories,
checkpoints, failure markers, fetched dataset files): a reader sees the old file or the whole new one,
never a half-written one; two writers of the same path never share a temporary name; a crash or a full
disk leaves at most a temporary file, which :func:`remove_stale_temporaries` clears.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "TEMP_SUFFIX",
    "DiskFullError",
    "atomic_write",
    "check_writable",
    "fs_clock",
    "remove_stale_temporaries",
]

#: Temporary files end with this suffix (and start with a dot): ``.<name>.<pid>.<random>.tmp``.
TEMP_SUFFIX = ".tmp"
_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """No space (or quota) left while writing a file durably: ``str()`` is one line naming the folder."""

    def __str__(self) -> str:
        return str(self.strerror)


def _disk_full(path: Path, err: OSError) -> DiskFullError:
    reason = os.strerror(err.errno) if err.errno in _FULL else "No space left on device"
    return DiskFullError(
        err.errno or errno.ENOSPC, f"disk full at {path.parent} (writing {path.name}: {reason})"
    )


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder, which is
    fsynced and renamed over ``path``; then the folder is fsynced so the rename survives a crash.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DiskFullError: no space left on the device (one line naming the folder; ``path`` is untouched).
        OSError: the folder cannot be written (the temporary file is removed; ``path`` is untouched).
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except DiskFullError:
        raise
    except OSError as err:
        if err.errno in _FULL or "No space left" in str(err):  # pyarrow's OSError names it in its text
            raise _disk_full(path, err) from None
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def fs_clock(folder: str | os.PathLike[str]) -> float:
    """The current time by the clock of the file system holding ``folder``: the modification time of a
    probe file created there now. Ages of files in ``folder`` computed against it involve one clock only
    (a file server's, on NFS), never this machine's, however skewed. The local clock where no probe can be
    written (a read-only folder)."""
    probe = Path(folder) / f".clock-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return time.time()
    try:
        return os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            probe.unlink()


def remove_stale_temporaries(folder: str | os.PathLike[str], older_than: float = 3600.0) -> list[Path]:
    """Delete the temporary files :func:`atomic_write` leaves after a kill or a full disk in ``folder``
    (not recursive), if older than ``older_than`` seconds (a live writer's file is younger; ages by the
    file system's clock, :func:`fs_clock`); return them."""
    removed = []
    now = fs_clock(folder)
    for tmp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
    return removed


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Create the folder ``path`` if needed and prove a file can be written in it, before any work starts.

    Raises:
        ValueError: one line naming the path and the reason (read-only file system, no permission, a file
            in the way, a symbolic link to nothing, a full disk).
    """
    path = Path(path)
    for part in (path, *path.parents):  # mkdir says only "File exists" for a link to nothing
        if part.is_symlink() and not part.exists():
            raise ValueError(f"cannot write to {path}: {part} is a symbolic link to {os.readlink(part)}, "
                             "which does not exist")  # fmt: skip
    try:
        path.mkdir(parents=True, exist_ok=True)
        atomic_write(path / f".write-test-{os.getpid()}", lambda tmp: tmp.write_bytes(b"x")).unlink()
    except OSError as err:
        raise ValueError(f"cannot write to {path}: {err.strerror or err}") from None
    return path
