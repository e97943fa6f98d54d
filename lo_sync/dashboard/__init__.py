"""The HTML dashboard an L&D admin opens: figures (figures.py), the page (html.py, with
charts.py and assets.py), and writing it (here).

The file is written as lo-sync writes every file: owner-only from the first byte, never
through a symbolic link, and atomically: the page goes to a temporary file in the same
folder, which then replaces FILE in one rename, so a reader (a mail job attaching last
night's report) sees the old page or the new one, never half of one.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from lo_sync.dashboard.figures import Figures, collect
from lo_sync.dashboard.html import render
from lo_sync.errors import InputError
from lo_sync.files import PRIVATE

__all__ = ["Figures", "check_target", "collect", "render", "write_page"]


def check_target(path: Path) -> None:
    """Refuse, in one line, a FILE lo-sync must not write: in a missing folder, a folder
    itself, a link, anything but a regular file. Checked before the database is read."""
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write the report {path}: no folder {folder}")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot write the report {path}: {exc.strerror}") from None
    if stat.S_ISLNK(mode):
        raise InputError(
            f"the report {path} is a symbolic link; lo-sync does not write through links "
            "(remove it: lo-sync creates the file itself)"
        )
    if not stat.S_ISREG(mode):
        raise InputError(f"the report {path} is not a regular file; lo-sync will not replace it")


def write_page(path: Path, page: str) -> None:
    """Write `page` to `path` atomically, owner-only, never through a link."""
    check_target(path)
    data = page.encode("utf-8")
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise InputError(
                f"cannot write the report {path}: {temporary} is in the way (a run that was "
                "stopped leaves it; remove it)"
            ) from None
        raise InputError(f"cannot write the report {path}: {exc.strerror}") from None
    try:
        try:
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write the report {path}: {exc.strerror}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
