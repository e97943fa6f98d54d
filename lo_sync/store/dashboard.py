"""The figures the HTML dashboard shows: per provider, per course, over time, and the run log.

Every figure about learners counts what `stats` counts: once the company has imported
its people, only rows linked to one of them still at the company (the view
`progress_people` and the filter `reports.py` builds over it, so that both reports keep
one definition of "the company's people").
"""

from __future__ import annotations

import sqlite3

from lo_sync.store.learners import PEOPLE, any_learners
from lo_sync.store.reports import stats_filter
from lo_sync.store.sql import dicts

# Started, as `stats` counts it: completed, or above 0 % progress.
STARTED = "(p.completed = 1 OR p.progress_percent > 0)"
# When a completion happened: the provider's date; for a row that came without one,
# when lo-sync first saw it completed (its history, else the run that created the row).
COMPLETED_ON = """coalesce(
    p.completed_at,
    (SELECT max(h.changed_at) FROM progress_history h
     WHERE h.provider = p.provider AND h.course_external_id = p.course_external_id
       AND h.learner_key = p.learner_key AND h.field = 'completed' AND h.new_value = '1'),
    (SELECT r.finished_at FROM sync_runs r WHERE r.id = p.first_run_id))"""


class Dashboard:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def company_only(self) -> bool:
        return any_learners(self.conn)

    def as_of(self) -> tuple[str | None, str | None]:
        """(when, which command): the end of the last statistics run, else of any run."""
        for where in ("WHERE command = 'sync-stats'", ""):
            row = self.conn.execute(
                f"SELECT finished_at, command FROM sync_runs {where} ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row:
                return row[0], row[1]
        return None, None

    def providers(self, company_only: bool, since_7: str, since_30: str, until: str) -> list[dict]:
        """Per provider: courses offered and archived, learners with activity, completions
        in the two windows ending at `until`, time spent."""
        where, params = stats_filter(None, company_only)
        learner_rows = {
            r["provider"]: r
            for r in dicts(
                self.conn.execute(
                    f"""
                    SELECT p.provider,
                           count(DISTINCT p.learner_key) FILTER (WHERE {STARTED})
                               AS learners_active,
                           count(*) FILTER (WHERE p.done_at > ? AND p.done_at <= ?)
                               AS completed_7_days,
                           count(*) FILTER (WHERE p.done_at > ? AND p.done_at <= ?)
                               AS completed_30_days,
                           max(p.done_at) FILTER (WHERE p.done_at <= ?) AS last_completion,
                           round(sum(coalesce(p.time_spent_minutes, 0)), 1) AS time_spent_minutes
                    FROM ({_with_completion(where)}) p
                    GROUP BY p.provider
                    """,
                    (since_7, until, since_30, until, until, *params),
                )
            )
        }
        course_rows = {
            r["provider"]: r
            for r in dicts(
                self.conn.execute(
                    "SELECT provider, count(*) FILTER (WHERE archived = 0) AS courses_offered, "
                    "count(*) FILTER (WHERE archived = 1) AS courses_archived "
                    "FROM courses GROUP BY provider"
                )
            )
        }
        empty = {"learners_active": 0, "completed_7_days": 0, "completed_30_days": 0,
                 "last_completion": None, "time_spent_minutes": 0}  # fmt: skip
        return [
            {
                "provider": provider,
                **course_rows.get(provider, {"courses_offered": 0, "courses_archived": 0}),
                **{k: v for k, v in learner_rows.get(provider, empty).items() if k != "provider"},
            }
            for provider in sorted(set(learner_rows) | set(course_rows))
        ]

    def courses(self, company_only: bool) -> list[dict]:
        """Per course with statistics: the columns of `stats`, and enrollments, completion
        rate (of those who started) and average score (of those scored)."""
        where, params = stats_filter(None, company_only)
        cursor = self.conn.execute(
            f"""
            SELECT p.provider, p.course_external_id AS course, c.title, c.archived,
                   count(*) AS learners_enrolled,
                   count(*) FILTER (WHERE {STARTED}) AS learners_started,
                   sum(p.completed) AS learners_completed,
                   round(avg(p.progress_percent), 1) AS average_progress_percent,
                   round(avg(p.score_percent), 1) AS average_score_percent,
                   round(sum(coalesce(p.time_spent_minutes, 0)), 1) AS time_spent_minutes
            FROM {PEOPLE} p
            LEFT JOIN courses c ON c.provider = p.provider AND c.external_id = p.course_external_id
            {where}
            GROUP BY p.provider, p.course_external_id
            ORDER BY learners_started DESC, p.provider, p.course_external_id
            """,
            params,
        )
        rows = list(dicts(cursor))
        for row in rows:
            started = row["learners_started"]
            row["completion_rate_percent"] = (
                round(100 * row["learners_completed"] / started, 1) if started else None
            )
        return rows

    def completions_by_month(self, company_only: bool, until: str) -> dict[str, int]:
        """{'2026-11': completions}, for every month up to `until` that has any."""
        where, params = stats_filter(None, company_only)
        cursor = self.conn.execute(
            f"""
            SELECT substr(p.done_at, 1, 7) AS month, count(*)
            FROM ({_with_completion(where)}) p
            WHERE p.done_at <= ?
            GROUP BY month ORDER BY month
            """,
            (*params, until),
        )
        return {month: count for month, count in cursor if month}

    def unmatched(self, limit: int) -> tuple[int, list[str]]:
        """Learners (by key) the providers report whom no imported person matches, and a
        few of them; (0, []) before the company imports its people."""
        if not any_learners(self.conn):
            return 0, []
        count = self.conn.execute(
            f"SELECT count(DISTINCT p.learner_key) FROM {PEOPLE} p WHERE NOT p.matched"
        ).fetchone()[0]
        sample = [
            r[0]
            for r in self.conn.execute(
                f"SELECT DISTINCT p.learner_key FROM {PEOPLE} p WHERE NOT p.matched "
                "ORDER BY p.learner_key LIMIT ?",
                (limit,),
            )
        ]
        return count, sample

    def last_runs(self) -> list[dict]:
        """The latest run of each command for each provider."""
        cursor = self.conn.execute(
            "SELECT command, provider, started_at, finished_at, status, message FROM sync_runs "
            "WHERE id IN (SELECT max(id) FROM sync_runs GROUP BY command, provider) "
            "ORDER BY command, provider"
        )
        return list(dicts(cursor))


def _with_completion(where: str) -> str:
    """The progress rows `where` keeps, each with `done_at`: when it was completed (NULL
    for a row not completed)."""
    return (
        "SELECT p.provider, p.learner_key, p.completed, p.progress_percent, "
        f"p.time_spent_minutes, CASE WHEN p.completed = 1 THEN {COMPLETED_ON} END AS done_at "
        f"FROM {PEOPLE} p {where}"
    )
