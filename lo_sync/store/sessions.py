"""Program sessions: the company's ordered lists of provider courses, their cohorts, and
the progress of a session's learners read back. Only `sessions import` writes here."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from lo_sync.store.learners import PEOPLE, any_learners
from lo_sync.store.sql import dicts, placeholders


@dataclass(frozen=True)
class StoredSession:
    name: str
    group: str
    start: str | None  # YYYY-MM-DD
    end: str | None
    courses: tuple[tuple[str, str], ...]  # (provider, external_id), in the session's order
    cohort: tuple[str, ...]  # lower-cased e-mails, sorted


class Sessions:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    # --- what the catalog offers a session ------------------------------------------------

    def groups(self) -> set[str]:
        """The synchronized groups the catalog syncs have fed."""
        return {r[0] for r in self.conn.execute("SELECT DISTINCT group_name FROM group_courses")}

    def catalog_courses(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """The catalog's row (title, archived, groups) for each (provider, id) it holds."""
        found: dict[tuple[str, str], dict] = {}
        for provider, external_id in set(keys):
            row = self.conn.execute(
                "SELECT title, archived FROM courses WHERE provider = ? AND external_id = ?",
                (provider, external_id),
            ).fetchone()
            if row is None:
                continue
            groups = {
                r[0]
                for r in self.conn.execute(
                    "SELECT group_name FROM group_courses WHERE provider = ? AND external_id = ?",
                    (provider, external_id),
                )
            }
            found[(provider, external_id)] = {
                "title": row[0],
                "archived": bool(row[1]),
                "groups": groups,
            }
        return found

    # --- the sessions ---------------------------------------------------------------------

    def all(self) -> dict[str, StoredSession]:
        courses: dict[str, list[tuple[str, str]]] = {}
        for name, provider, external_id in self.conn.execute(
            "SELECT session_name, provider, external_id FROM session_courses "
            "ORDER BY session_name, position"
        ):
            courses.setdefault(name, []).append((provider, external_id))
        cohorts: dict[str, list[str]] = {}
        for name, email in self.conn.execute(
            "SELECT session_name, email FROM session_learners ORDER BY session_name, email"
        ):
            cohorts.setdefault(name, []).append(email)
        return {
            name: StoredSession(
                name,
                group,
                start,
                end,
                tuple(courses.get(name, ())),
                tuple(cohorts.get(name, ())),
            )
            for name, group, start, end in self.conn.execute(
                "SELECT name, group_name, starts_on, ends_on FROM program_sessions ORDER BY name"
            )
        }

    def get(self, name: str) -> StoredSession | None:
        return self.all().get(name)

    def replace(self, session: StoredSession, now: str) -> None:
        """Write `session` as the whole truth about its name: its courses and cohort are
        replaced. Inside the caller's transaction."""
        self.conn.execute(
            "INSERT INTO program_sessions (name, group_name, starts_on, ends_on, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "group_name = excluded.group_name, starts_on = excluded.starts_on, "
            "ends_on = excluded.ends_on, updated_at = excluded.updated_at",
            (session.name, session.group, session.start, session.end, now, now),
        )
        for table in ("session_courses", "session_learners"):
            self.conn.execute(f"DELETE FROM {table} WHERE session_name = ?", (session.name,))
        self.conn.executemany(
            "INSERT INTO session_courses (session_name, position, provider, external_id) "
            "VALUES (?, ?, ?, ?)",
            [(session.name, i, p, e) for i, (p, e) in enumerate(session.courses, 1)],
        )
        self.conn.executemany(
            "INSERT INTO session_learners (session_name, email) VALUES (?, ?)",
            [(session.name, email) for email in session.cohort],
        )

    def holding(self, provider: str, external_ids: Iterable[str], today: str) -> list[tuple]:
        """(external_id, session name, 'open' or 'upcoming') for each session not yet
        closed on `today` that holds one of these courses."""
        ids = sorted(set(external_ids))
        found: list[tuple] = []
        # Bounded batches: SQLite caps the number of parameters of one statement.
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            found += self.conn.execute(
                "SELECT sc.external_id, s.name, CASE WHEN s.starts_on > ? THEN 'upcoming' "
                "ELSE 'open' END FROM session_courses sc JOIN program_sessions s "
                "ON s.name = sc.session_name WHERE sc.provider = ? AND (s.ends_on IS NULL "
                f"OR s.ends_on >= ?) AND sc.external_id IN ({placeholders(len(batch))})",
                (today, provider, today, *batch),
            ).fetchall()
        return sorted(found)

    # --- the progress of a session's learners ---------------------------------------------

    def cohort_progress(self, name: str) -> list[dict]:
        """One row per (cohort e-mail, session course) the statistics hold. Who a row is
        comes from PEOPLE, as in every report: the company's e-mail when the row is
        linked to one of its people (by e-mail, or by external id when the provider
        sent none), else the provider's."""
        return self._progress(
            name,
            learner="co.email",
            join="JOIN session_learners co ON co.session_name = sc.session_name "
            "AND co.email = p.learner_email",
        )

    def activity_progress(self, name: str) -> list[dict]:
        """One row per (learner, session course) the statistics hold, for a session with
        no cohort: everyone the providers report on its courses; once the company
        imported its people, only those still in it, as in every report."""
        company = "AND p.in_company" if any_learners(self.conn) else ""
        return self._progress(
            name, learner="coalesce(p.learner_email, p.learner_key)", where=company
        )

    def _progress(self, name: str, learner: str, join: str = "", where: str = "") -> list[dict]:
        # A learner may have two rows at one course (one keyed by e-mail, one by the
        # provider's id before the e-mail arrived): the furthest they got counts.
        cursor = self.conn.execute(
            f"""
            SELECT {learner} AS learner, sc.position, max(p.completed) AS completed,
                   max(p.progress_percent) AS progress_percent,
                   max(p.time_spent_minutes) AS time_spent_minutes,
                   max(p.last_activity_at) AS last_activity_at,
                   max(p.learner_name) AS learner_name
            FROM session_courses sc
            JOIN {PEOPLE} p ON p.provider = sc.provider AND p.course_external_id = sc.external_id
            {join}
            WHERE sc.session_name = :name {where}
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            {"name": name},
        )
        return list(dicts(cursor))

    def course_links(self, name: str) -> list[dict]:
        """The session's courses in order, with the catalog's title and START link."""
        return list(
            dicts(
                self.conn.execute(
                    "SELECT sc.position, sc.provider, sc.external_id, c.title, c.url, c.archived "
                    "FROM session_courses sc LEFT JOIN courses c ON c.provider = sc.provider "
                    "AND c.external_id = sc.external_id WHERE sc.session_name = ? "
                    "ORDER BY sc.position",
                    (name,),
                )
            )
        )

    def learner_names(self) -> dict[str, str]:
        return {
            email: name
            for email, name in self.conn.execute(
                "SELECT email, name FROM learners WHERE name IS NOT NULL"
            )
        }
