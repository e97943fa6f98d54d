"""Opening the file: creation, pragmas, migration, recovery from a killed run; transactions;
and what to tell the operator when the disk, not lo-sync, is at fault."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from lo_sync.errors import DatabaseBusy, InputError
from lo_sync.store.schema import known_migrations, migrations

# How long a statement waits for another program's lock on the file before it fails
# (seconds; the config's `busy_timeout`). A reader blocks lo-sync only while lo-sync
# commits; a writer (or a BI tool holding a transaction open) blocks it throughout.
DEFAULT_BUSY_TIMEOUT = 5.0


def connect(
    path: Path, readonly: bool, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> tuple[sqlite_utils.Database, Path | None, bool]:
    """Open (or, unless read-only, create) the database and bring its schema up to date:
    (database, path it was opened from, readonly).

    Read-only opens of a missing file plan against an empty in-memory schema:
    a dry run must not create the file.
    """
    if readonly and not path.exists():
        return _in_memory(), None, True
    if not path.parent.is_dir():
        raise InputError(missing_folder(path))
    if not readonly and not path.exists():
        if path.is_symlink():
            raise InputError(
                f"database {path} is a symbolic link to {os.readlink(path)}, which does not "
                "exist; lo-sync does not create files through links"
            )
        try:
            # Owner-only from the first byte: progress data is personal data. (O_EXCL
            # already refuses a link; O_NOFOLLOW says so.)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise InputError(f"cannot create database {path}: {exc.strerror}") from None
    if not readonly:
        _check_writable(path)
    # SQLite opens its journal beside the real file with O_NOFOLLOW, so a link planted
    # there cannot aim its writes elsewhere; but it then says only "unable to open".
    journal = Path(f"{os.path.realpath(path)}-journal")
    if journal.is_symlink():
        raise InputError(
            f"{journal} is a symbolic link; neither SQLite nor lo-sync writes through links "
            "(remove it)"
        )
    # Quoted: in a URI, '?', '#' and '%' in a folder name would open another file.
    uri = f"file:{quote(str(path))}" + ("?mode=ro" if readonly else "")
    conn = None
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        _configure(conn, readonly, busy_timeout)
        _check_and_migrate(db, path, readonly)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        code = getattr(exc, "sqlite_errorcode", None)
        if readonly and code == sqlite3.SQLITE_READONLY_ROLLBACK:
            # A run killed mid-commit left a hot journal, which a read-only
            # connection cannot roll back. Rolling it back restores the last
            # committed state, as any SQLite reader does on open; then read.
            _roll_back_hot_journal(path)
            return connect(path, readonly=True, busy_timeout=busy_timeout)
        if is_busy(exc):
            raise DatabaseBusy(busy_message(path, busy_timeout)) from None
        raise InputError(_describe_open_error(path, exc)) from None
    return db, path, readonly


def link_warning(path: Path) -> str | None:
    """A database path that is a symbolic link is the operator's choice and is followed; but
    lo-sync did not create the file it reaches, which may let other users read it."""
    if not path.is_symlink():
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"warning: database {path} links to {path.resolve()}, which other users can open "
        f"(mode {mode:04o}) although it holds learners' personal data; chmod 600 it"
    )


def _in_memory() -> sqlite_utils.Database:
    db = sqlite_utils.Database(
        sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    )
    _configure(db.conn, readonly=False)
    migrations.apply(db)
    return db


def _configure(
    conn: sqlite3.Connection, readonly: bool, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> None:
    # The default rollback journal, not WAL: one batch writer a night needs no
    # concurrent-writer machinery, a crash leaves a hot journal SQLite rolls
    # back on the next open, and a dry run can open the file read-only without
    # creating -wal/-shm files beside it. synchronous=NORMAL is durable at
    # each commit in this mode on modern filesystems and cheaper than FULL.
    conn.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Caches are bounded so memory stays flat however large the fetch.
    conn.execute("PRAGMA cache_size = -16384")  # 16 MiB
    conn.execute("PRAGMA temp_store = FILE")  # staging spills to disk
    conn.execute("PRAGMA temp.cache_size = -16384")
    # The end-of-fetch sort of the staged rows runs once the fetch worker has
    # finished, so a helper thread can take the second core. One, not two: each
    # sorts up to a cache's worth in memory, and a second would break the bound.
    conn.execute("PRAGMA threads = 1")
    if not readonly:
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def _check_and_migrate(db: sqlite_utils.Database, path: Path, readonly: bool) -> None:
    applied = {m.name for m in migrations.applied(db)}
    unknown = applied - known_migrations()
    if unknown:
        raise InputError(
            f"database {path} was written by a newer lo-sync "
            f"(schema steps {', '.join(sorted(unknown))}); upgrade lo-sync to use it"
        )
    if not migrations.pending(db):
        return
    if readonly:
        raise InputError(f"database {path} needs a schema upgrade; run once without --dry-run")
    migrations.apply(db)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: everything inside commits together or not at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # After a full disk or an I/O error SQLite has rolled back already; a
        # second ROLLBACK would fail and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def is_busy(exc: BaseException) -> bool:
    """SQLite gave up waiting for another connection's lock on the file."""
    code = getattr(exc, "sqlite_errorcode", None) or 0
    return isinstance(exc, sqlite3.OperationalError) and code & 0xFF == sqlite3.SQLITE_BUSY


def busy_message(path: Path | None, busy_timeout: float) -> str:
    return (
        f"another process held {path} for {busy_timeout:g} s; try again when it ends, "
        "or raise busy_timeout in the config to wait longer"
    )


def disk_trouble(exc: BaseException) -> str | None:
    """What to tell the operator when SQLite failed because of the disk, not a bug of ours:
    full, an I/O error, a file gone read-only, or a damaged database file."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
    ):
        return (
            f"the disk refused a write ({exc}); check free space and permissions for the "
            "database and the temporary folder"
        )
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return (
            f"the database file is damaged ({exc}); check it with sqlite3's "
            "PRAGMA integrity_check and restore it from a backup"
        )
    return None


def _check_writable(path: Path) -> None:
    """SQLite silently opens a file it cannot write read-only, and needs the folder for
    its journal: say so before a run fetches anything, not as an internal error at its
    first write. (`os.access` also sees read-only mounts and immutable files.)"""
    if not os.access(path, os.W_OK):
        raise InputError(f"database {path} is read-only for this user")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(
            f"database folder {path.parent} is not writable for this user "
            "(SQLite writes its journal beside the database)"
        )


def _roll_back_hot_journal(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}", uri=True, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(
            f"database {path} was left mid-write by an interrupted run and this user cannot "
            f"roll it back ({exc}); run lo-sync once without --dry-run as its owner"
        ) from None


def missing_folder(path: Path) -> str:
    what = "is not a folder" if path.parent.exists() else "does not exist"
    return f"database folder {path.parent} {what}"


def _describe_open_error(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "file is not a database" in text:
        return f"{path} is not a SQLite database (refusing to touch it)"
    if "readonly" in text or "read-only" in text:
        return f"database {path} is read-only for this user"
    if "unable to open" in text:
        return f"cannot open database {path} (check the folder exists and is writable)"
    return f"database {path}: {text}"
