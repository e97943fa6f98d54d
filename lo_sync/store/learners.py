"""The company's learners, imported from its HR export, that statistics rows link to."""

from __future__ import annotations

import sqlite3

from lo_sync.store.sql import dicts


def any_learners(conn: sqlite3.Connection) -> bool:
    """Whether the company has imported any learners yet."""
    return conn.execute("SELECT 1 FROM learners LIMIT 1").fetchone() is not None


class Learners:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def by_email(self) -> dict[str, dict]:
        return {
            r["email"]: r
            for r in dicts(self.conn.execute("SELECT id, email, external_id, name FROM learners"))
        }

    def upsert(self, rows: list[dict], now: str) -> tuple[int, int]:
        """Create learners new by e-mail, update those whose id or name changed:
        (created, updated). Runs inside the caller's transaction."""
        existing = self.by_email()
        created = updated = 0
        for row in rows:
            old = existing.get(row["email"])
            if old is None:
                self.conn.execute(
                    "INSERT INTO learners (email, external_id, name, updated_at) VALUES (?,?,?,?)",
                    (row["email"], row["external_id"], row["name"], now),
                )
                created += 1
            elif (old["external_id"], old["name"]) != (row["external_id"], row["name"]):
                self.conn.execute(
                    "UPDATE learners SET external_id = ?, name = ?, updated_at = ? WHERE email = ?",
                    (row["external_id"], row["name"], now, row["email"]),
                )
                updated += 1
        return created, updated
