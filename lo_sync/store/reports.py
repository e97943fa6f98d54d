"""Reading the statistics back: per course, per learner of one course, one learner's
courses. Learners are identified through the `progress_people` view (learners.py)."""

from __future__ import annotations

import sqlite3
import unicodedata

from lo_sync.store.learners import IDENTITY, PEOPLE, any_learners
from lo_sync.store.sql import dicts

# One learner's line, for a course or across courses.
_ACTIVITY = (
    "p.progress_percent, p.completed, p.completed_at, p.score_percent, p.time_spent_minutes, "
    "p.time_spent_theoretical, p.last_activity_at"
)
_COURSE = "LEFT JOIN courses c ON c.provider = p.provider AND c.external_id = p.course_external_id"


def fold(text: str | None) -> str | None:
    """`text` as titles are compared: case and accents aside ('Éléments' is 'elements')."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Reports:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        conn.create_function("lo_fold", 1, fold, deterministic=True)

    def course_stats(self, provider: str | None, company_only: bool) -> list[dict]:
        where, params = stats_filter(provider, company_only)
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, c.title,
                   coalesce(c.archived, 0) AS archived,
                   -- Enrolled is not started: a row at 0 % that is not completed
                   -- is a learner who has not opened the course yet.
                   count(*) FILTER (WHERE p.completed = 1 OR p.progress_percent > 0)
                       AS learners_started,
                   sum(p.completed) AS learners_completed,
                   round(avg(p.progress_percent), 1) AS average_progress_percent,
                   round(sum(coalesce(p.time_spent_minutes, 0)), 1) AS time_spent_minutes
            FROM {PEOPLE} p {_COURSE}
            {where}
            GROUP BY p.provider, p.course_external_id ORDER BY p.provider, p.course_external_id
            """,
            params,
        )
        return list(dicts(cursor))

    def course_learner_stats(
        self, provider: str | None, course: str, company_only: bool
    ) -> list[dict]:
        where, params = stats_filter(provider, company_only)
        where = (where + " AND" if where else "WHERE") + " p.course_external_id = ?"
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, {IDENTITY}, {_ACTIVITY}
            FROM {PEOPLE} p {where}
            ORDER BY p.provider, p.matched DESC, p.learner_name, p.learner_key
            """,
            (*params, course),
        )
        return list(dicts(cursor))

    def person_courses(self, person: dict) -> list[dict]:
        """Every course the company's person `person` (a learners row) follows, at
        every provider."""
        return self._learner_courses(
            "(p.provider_email = :email OR p.provider_learner_id = :external_id) "
            "AND p.person_id = :id",
            person,
        )

    def provider_learner_courses(self, key: str) -> list[dict]:
        """The courses of the rows whose provider e-mail (any case) or learner id is `key`."""
        return self._learner_courses(
            "(p.provider_email = lower(:key) OR p.provider_learner_id = :key)", {"key": key}
        )

    def _learner_courses(self, where: str, params: dict) -> list[dict]:
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, c.title,
                   coalesce(c.archived, 0) AS archived, {_ACTIVITY},
                   {IDENTITY}, p.person_id, p.left_at
            FROM {PEOPLE} p {_COURSE}
            WHERE {where}
            ORDER BY p.provider, c.title, p.course_external_id
            """,
            params,
        )
        return list(dicts(cursor))

    def course_known(self, provider: str | None, course: str) -> bool:
        """Whether the catalog or the statistics hold this course id (at `provider`)."""
        only = " AND provider = ?" if provider else ""
        params = (course, provider) if provider else (course,)
        return any(
            self.conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?{only}", params).fetchone()
            for table, column in (("courses", "external_id"), ("progress", "course_external_id"))
        )

    def courses_titled(self, provider: str | None, text: str, exact: bool) -> list[dict]:
        """The catalog's courses whose title is `text` (`exact`) or holds it, case and
        accents aside."""
        test = "lo_fold(title) = :text" if exact else "instr(lo_fold(title), :text) > 0"
        only = " AND provider = :provider" if provider else ""
        cursor = self.conn.execute(
            f"SELECT provider, external_id AS course, title, archived FROM courses "
            f"WHERE {test}{only} ORDER BY provider, title, external_id",
            {"text": fold(text), "provider": provider},
        )
        return list(dicts(cursor))

    def course_title(self, provider: str | None, course: str) -> str | None:
        """The catalog's title for this course id (at `provider`, or the first provider's)."""
        row = self.conn.execute(
            "SELECT title FROM courses WHERE external_id = :course "
            "AND (:provider IS NULL OR provider = :provider) ORDER BY provider LIMIT 1",
            {"provider": provider, "course": course},
        ).fetchone()
        return row[0] if row else None

    def has_learners(self) -> bool:
        """Whether reports can keep to the company's own learners."""
        return any_learners(self.conn)


def stats_filter(provider: str | None, company_only: bool) -> tuple[str, tuple]:
    """The WHERE of a report over PEOPLE aliased `p`: one provider, and, once the
    company has imported its people, only those matched and still at the company."""
    clauses, params = [], []
    if provider:
        clauses.append("p.provider = ?")
        params.append(provider)
    if company_only:
        clauses.append("p.in_company")
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
