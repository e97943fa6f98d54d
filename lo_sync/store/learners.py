"""The company's learners, imported from its HR export, that statistics rows link to.

Who a progress row is, to the company, is answered in one place: the view
`progress_people` (migration m007_people_left in schema.py). It links a row to a
person by e-mail, else by the provider's learner id against the company's
external id, and never guesses between two people; it gives the company's name,
external id and e-mail when matched and the provider's otherwise, with `matched`
(0/1) and `in_company` (matched to someone who has not left). Reports, exports
and dashboards read learners through it: `PEOPLE` below is its name.
"""

from __future__ import annotations

import sqlite3

from lo_sync.store.sql import dicts

PEOPLE = "progress_people"
# The identification every report shows for a row of PEOPLE aliased `p`.
IDENTITY = "p.learner_name, p.learner_id, p.learner_email, p.matched"


def any_learners(conn: sqlite3.Connection) -> bool:
    """Whether the company has imported any learners yet (who left included: the
    company's list exists, and reports keep to it)."""
    return conn.execute("SELECT 1 FROM learners LIMIT 1").fetchone() is not None


class Learners:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def by_email(self) -> dict[str, dict]:
        return {
            r["email"]: r
            for r in dicts(
                self.conn.execute("SELECT id, email, external_id, name, left_at FROM learners")
            )
        }

    def upsert(self, rows: list[dict], now: str) -> tuple[int, int]:
        """Create learners new by e-mail, update those whose id or name changed, and
        bring back those who had left: (created, updated). Runs inside the caller's
        transaction."""
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
            elif (old["external_id"], old["name"], old["left_at"]) != (
                row["external_id"],
                row["name"],
                None,
            ):
                self.conn.execute(
                    "UPDATE learners SET external_id = ?, name = ?, left_at = NULL, "
                    "updated_at = ? WHERE email = ?",
                    (row["external_id"], row["name"], now, row["email"]),
                )
                updated += 1
        return created, updated

    def mark_left(self, emails: list[str], now: str) -> None:
        """These people left the company on `now`: kept, with their history, out of
        the company's counts. Inside the caller's transaction."""
        self.conn.executemany(
            "UPDATE learners SET left_at = ?, updated_at = ? WHERE email = ? AND left_at IS NULL",
            [(now, now, email) for email in emails],
        )

    def find(self, key: str) -> list[dict]:
        """The people whose e-mail (any case) or company external id is `key`, those
        still at the company first."""
        cursor = self.conn.execute(
            "SELECT id, email, external_id, name, left_at FROM learners "
            "WHERE email = lower(?) OR external_id = ? "
            "ORDER BY left_at IS NOT NULL, email = lower(?) DESC, id",
            (key, key, key),
        )
        return list(dicts(cursor))
