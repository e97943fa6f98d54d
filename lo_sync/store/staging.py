"""What every staging run shares: one transaction a page."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def staging(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction per staged page: autocommit would make every row its own
    transaction on the TEMP database. Inside a write transaction, part of it."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # not after a full disk: SQLite rolled back already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
