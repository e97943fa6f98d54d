"""Files lo-sync writes: owner-only from the first byte, and never through a symbolic link.

lo-sync often runs from root's crontab, beside files other users can reach. A link planted
where lo-sync writes (its lock file, the demo's files) would aim the truncate and the write
that follow at any file on the system. `O_NOFOLLOW` refuses the link, dangling or not, before
anything is created or emptied; SQLite opens its own files the same way.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from lo_sync.errors import InputError

PRIVATE = 0o600


def open_private(path: Path, what: str) -> int:
    """A read-write descriptor on `path`, created owner-only if missing, not yet truncated.

    A symbolic link, or a path that is no regular file (a FIFO, a device), is an `InputError`
    naming `what` the file is for.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                f"{what} {path} is a symbolic link; lo-sync does not write through links "
                "(remove it: lo-sync creates the file itself)"
            ) from None
        raise InputError(f"cannot create {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{what} {path} is not a regular file; lo-sync will not write to it")
    return fd


def write_private(path: Path, text: str, what: str) -> None:
    """Replace the contents of `path` with `text`, leaving it owner-only."""
    fd = open_private(path, what)
    try:
        os.fchmod(fd, PRIVATE)  # a file left by an earlier run may have looser permissions
        os.ftruncate(fd, 0)
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise InputError(f"cannot write {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
