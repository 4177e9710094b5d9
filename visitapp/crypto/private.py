"""Owner-only files and folders (0600 / 0700), made so from the moment they exist.

A profile folder, its database, key file and backups, and the server's data directory hold
the school's data and keys. Creating a file with the process umask and tightening it after
the fact leaves a moment in which anyone on the machine can open it (and an open handle stays
valid after the chmod), so these helpers create with the final mode (``os.open(…, 0o600)``,
``mkdir(mode=0o700)``) and tighten an existing, looser file or folder (one made by an older
version) at the same place. On Windows, where POSIX modes do not apply, they do no harm.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with the folder itself 0700; tighten it if it exists."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _chmod(path, DIR_MODE)
    return path


def touch_private(path: Path) -> Path:
    """Make sure ``path`` exists as an owner-only file, without touching its content.

    SQLite creates a database's ``-wal`` and ``-shm`` files with the database file's own mode,
    so touching the database 0600 before the first connection makes all three owner-only."""
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        _fchmod(fd)
    finally:
        os.close(fd)
    return path


def open_private(path: Path, mode: str = "wb"):  # noqa: ANN201 - a file object
    """``open(path, mode)`` for writing, truncating, the file 0600 from its creation on."""
    if mode not in ("wb", "w", "ab", "a"):
        raise ValueError(f"open_private is for writing, not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        _fchmod(fd)
        return os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"}))
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` (0600), flushed to disk."""
    binary = isinstance(data, bytes)
    with open_private(path, "wb" if binary else "w") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def tighten(*paths: Path) -> None:
    """Take group and other bits off files that exist (made by an older version)."""
    for p in paths:
        try:
            mode = os.stat(p).st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            _chmod(p, mode & 0o700)


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except (NotImplementedError, PermissionError):  # pragma: no cover - not ours, or not POSIX
        pass


def _fchmod(fd: int) -> None:
    # an existing file keeps its mode through os.open(O_CREAT): set it on the open handle
    if hasattr(os, "fchmod"):
        try:
            os.fchmod(fd, FILE_MODE)
        except PermissionError:  # pragma: no cover - a file owned by someone else
            pass
