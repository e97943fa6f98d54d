"""What every staging run shares: the TEMP tables it replaces, and one transaction a page."""

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


class Stage:
    """One provider's fetch being staged into TEMP tables, which replace the previous
    stage's. They stay when the `with` block ends: the diff the stage finishes into
    reads them until the next stage of its kind replaces them."""

    def __init__(self, conn: sqlite3.Connection, provider: str):
        self.conn = conn
        self.provider = provider

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def _replace_table(self, name: str, columns: str) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
        self.conn.execute(f"CREATE TEMP TABLE {name} ({columns})")
