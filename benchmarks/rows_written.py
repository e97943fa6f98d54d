"""What a run wrote, read from the database itself.

Per table: the rows found only after the run and the rows found only before it
(SQL EXCEPT both ways), so an updated row shows up once as added and once as
removed; content hashes for "nothing changed"; a file hash for "untouched".
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def table_diff(before: Path | None, after: Path) -> dict[str, dict[str, int]]:
    """Per table: rows before and after, rows only in after (added), only in before (removed).

    An updated row counts once as added and once as removed.
    """
    conn = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    old: list[str] = []
    if before is not None and before.exists():
        conn.execute("ATTACH DATABASE ? AS b", (f"file:{before}?mode=ro",))
        old = _tables(conn, "b")
    result = {}
    new = _tables(conn, "main")
    for table in sorted(set(new) | set(old)):
        count = f'SELECT count(*) FROM {{}}."{table}"'
        n_after = conn.execute(count.format("main")).fetchone()[0] if table in new else 0
        n_before = conn.execute(count.format("b")).fetchone()[0] if table in old else 0
        if n_before == 0 or n_after == 0:
            added, removed = n_after, n_before
        else:
            except_ = 'SELECT count(*) FROM (SELECT * FROM {}."{}" EXCEPT SELECT * FROM {}."{}")'
            added = conn.execute(except_.format("main", table, "b", table)).fetchone()[0]
            removed = conn.execute(except_.format("b", table, "main", table)).fetchone()[0]
        result[table] = {"before": n_before, "after": n_after, "added": added, "removed": removed}
    conn.close()
    return result


def table_hashes(path: Path, skip: tuple[str, ...] = ("sync_runs",)) -> dict[str, str]:
    """A content hash of every table but `skip`, rows in a fixed order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    hashes = {}
    for table in _tables(conn, "main"):
        if table in skip:
            continue
        width = len(conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description)
        order = ", ".join(str(i) for i in range(1, width + 1))
        digest = hashlib.sha256()
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
            digest.update(repr(row).encode())
        hashes[table] = digest.hexdigest()[:16]
    conn.close()
    return hashes


def table_hash(path: Path, table: str) -> str:
    """A content hash of one table, rows in primary-key order (no sort for a WITHOUT
    ROWID table such as progress); "" when there is no such table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    key = [f'"{c[1]}"' for c in sorted(info, key=lambda c: c[5]) if c[5]] or ["rowid"]
    digest = hashlib.sha256()
    if info:
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {", ".join(key)}'):
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()[:16] if info else ""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_rows(diff: dict[str, dict[str, int]]) -> str:
    parts = []
    for table, d in diff.items():
        if table.startswith("_"):
            continue  # sqlite-utils' migrations table
        updated = min(d["added"], d["removed"])
        net_added, net_removed = d["added"] - updated, d["removed"] - updated
        bits = []
        if net_added:
            bits.append(f"+{net_added:,}")
        if net_removed:
            bits.append(f"-{net_removed:,}")
        if updated:
            bits.append(f"{updated:,} changed")
        if bits:
            parts.append(f"{table} {' '.join(bits)}")
    return "; ".join(parts) or "nothing"
