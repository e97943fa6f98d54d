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

from lo_sync.store.sql import dicts, placeholders

# The one matching rule, for statistics rows aliased `r`: a row is the company's
# person with its e-mail (stored lower-cased on both sides), else the person with its
# external id. `link_counts` counts both; a row is unmatched or ambiguous as below.
_BY_EMAIL = "(SELECT count(*) FROM learners l WHERE l.email = r.learner_email) AS by_email"
_BY_EXTERNAL_ID = (
    "(SELECT count(*) FROM learners l WHERE r.learner_external_id IS NOT NULL "
    "AND l.external_id = r.learner_external_id) AS by_external_id"
)
LINK_COUNTS = f"{_BY_EMAIL}, {_BY_EXTERNAL_ID}"
UNMATCHED = "by_email = 0 AND by_external_id = 0"
AMBIGUOUS = "by_email > 1 OR (by_email = 0 AND by_external_id > 1)"

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

    def unmatched(self, providers: tuple[str, ...] = ()) -> list[dict]:
        """Each learner in the stored statistics whom no person, or more than one,
        matches: provider, e-mail, external id, `match` (unmatched or ambiguous), how
        many statistics rows and courses. Unmatched first, then most rows first."""
        where = f"WHERE provider IN ({placeholders(len(providers))})" if providers else ""
        # Grouped first: the rule reads only the e-mail and the external id, so each
        # learner is matched once rather than once per row.
        cursor = self.conn.execute(
            f"""
            SELECT provider, learner_email, learner_external_id,
                   CASE WHEN {UNMATCHED} THEN 'unmatched' ELSE 'ambiguous' END AS match,
                   rows, courses
            FROM (SELECT r.*, {LINK_COUNTS} FROM (
                    SELECT provider, learner_email, learner_external_id, count(*) AS rows,
                           count(DISTINCT course_external_id) AS courses
                    FROM progress {where}
                    GROUP BY provider, learner_email, learner_external_id) r)
            WHERE ({UNMATCHED}) OR ({AMBIGUOUS})
            ORDER BY provider, match DESC, rows DESC, learner_email, learner_external_id
            """,
            providers,
        )
        return list(dicts(cursor))
