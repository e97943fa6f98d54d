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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

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


def check_replaceable(path: Path, what: str) -> None:
    """Refuse, in one line, a `path` lo-sync must not replace: in a missing folder, a
    symbolic link, anything but a regular file. `what` names the file (`the report`)."""
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {what} {path}: no folder {folder}")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot write {what} {path}: {exc.strerror}") from None
    if stat.S_ISLNK(mode):
        raise InputError(
            f"{what} {path} is a symbolic link; lo-sync does not write through links "
            "(remove it: lo-sync creates the file itself)"
        )
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} {path} is not a regular file; lo-sync will not replace it")


@contextmanager
def replaced_atomically(path: Path, what: str) -> Iterator[TextIO]:
    """A text stream whose content replaces `path` only once all of it is written.

    It goes to an owner-only temporary file beside `path` (mkstemp: mode 0600, O_EXCL),
    which is then renamed over it: a reader (a mail job attaching last night's report, a
    loader reading an export) sees the old file or the new one, never half of one, and a
    failed write leaves the old file as it was.
    """
    check_replaceable(path, what)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot create {what} {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # rename never follows a link: one planted since the check is replaced, not written.
        os.replace(temp, path)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(temp)
        raise InputError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
