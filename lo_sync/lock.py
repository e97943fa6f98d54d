"""One writer per database: an advisory lock beside the file.

`flock` is released by the kernel when the process dies, however it dies, so a
lock left by a killed run never blocks the next night.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lo_sync.errors import LockHeld
from lo_sync.files import open_private


@contextmanager
def exclusive(db_path: Path) -> Iterator[int]:
    """Hold the database's lock; yields its descriptor, which a forked fetch worker
    is told to close (the lock is the parent's alone)."""
    # Never through a link: the PID written below would empty the file it points to.
    fd = open_private(db_path.with_name(db_path.name + ".lock"), "lock file")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another lo-sync run holds {db_path}; try again when it ends") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield fd
    finally:
        os.close(fd)
