"""Reading the statistics back: per course, and per learner of one course."""

from __future__ import annotations

import sqlite3

from lo_sync.store.learners import any_learners
from lo_sync.store.sql import dicts


class Reports:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def course_stats(self, provider: str | None, company_only: bool) -> list[dict]:
        where, params = _stats_filter(provider, company_only)
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, c.title,
                   -- Enrolled is not started: a row at 0 % that is not completed
                   -- is a learner who has not opened the course yet.
                   count(*) FILTER (WHERE p.completed = 1 OR p.progress_percent > 0)
                       AS learners_started,
                   sum(p.completed) AS learners_completed,
                   round(avg(p.progress_percent), 1) AS average_progress_percent,
                   round(sum(coalesce(p.time_spent_minutes, 0)), 1) AS time_spent_minutes
            FROM progress p
            LEFT JOIN courses c ON c.provider = p.provider AND c.external_id = p.course_external_id
            {where}
            GROUP BY p.provider, p.course_external_id ORDER BY p.provider, p.course_external_id
            """,
            params,
        )
        return list(dicts(cursor))

    def course_learner_stats(
        self, provider: str | None, course: str, company_only: bool
    ) -> list[dict]:
        where, params = _stats_filter(provider, company_only)
        where = (where + " AND" if where else "WHERE") + " p.course_external_id = ?"
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, p.learner_email,
                   p.learner_external_id, p.progress_percent, p.completed, p.completed_at,
                   p.score_percent, p.time_spent_minutes, p.time_spent_theoretical,
                   p.last_activity_at
            FROM progress p {where} ORDER BY p.provider, p.learner_key
            """,
            (*params, course),
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

    def has_learners(self) -> bool:
        """Whether reports can keep to the company's own learners."""
        return any_learners(self.conn)


def _stats_filter(provider: str | None, company_only: bool) -> tuple[str, tuple]:
    clauses, params = [], []
    if provider:
        clauses.append("p.provider = ?")
        params.append(provider)
    if company_only:
        clauses.append(
            "(EXISTS (SELECT 1 FROM learners l WHERE l.email = p.learner_email) OR EXISTS "
            "(SELECT 1 FROM learners l WHERE p.learner_external_id IS NOT NULL "
            "AND l.external_id = p.learner_external_id))"
        )
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
