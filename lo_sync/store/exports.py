"""Exports for downstream systems: the catalog, the statistics and their changes, read
as cursors that are walked row by row, so memory stays flat however many rows there are.

Each export is `(column names, rows)`, rows as tuples in the names' order, filtered by
provider and by when a row last changed (`since`, compared as the stored UTC text):

    courses    `courses.updated_at` (set by every create, update, missing, return,
               archive and restore)
    progress   when the run that last wrote the row finished (`progress.last_run_id`:
               a row is rewritten only when the provider's values changed)
    changes    `course_changes.changed_at`, then `progress_history.changed_at`: one flat
               shape with a `kind` column, course changes first, each in recorded order
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator, Sequence

from lo_sync.store.learners import PEOPLE
from lo_sync.store.sql import placeholders

# Rows fetched from SQLite at a time: enough to amortize the calls, small enough to
# keep memory flat.
FETCH_ROWS = 500

COURSE_COLUMNS = (
    "provider", "external_id", "title", "description", "url", "image_url", "language",
    "duration_minutes", "status", "content_type", "skills", "level", "provider_updated_at",
    "parent_external_id", "archived", "archived_at", "archive_reason", "missing_since",
    "first_seen_at", "last_seen_at", "updated_at",
)  # fmt: skip
# A learner as the company knows them (progress_people: the company's name, id and
# e-mail when matched, the provider's otherwise), then the provider's own e-mail and id.
PROGRESS_COLUMNS = (
    "provider", "course_external_id", "learner_key", "learner_name", "learner_id",
    "learner_email", "matched", "left_at", "provider_email", "provider_learner_id",
    "content_type", "progress_percent", "completed", "completed_at",
    "score_percent", "time_spent_minutes", "time_spent_theoretical", "last_activity_at",
    "enrolled_at", "program_id", "regression",
)  # fmt: skip
CHANGE_COLUMNS = (
    "kind", "changed_at", "run_id", "provider", "course_external_id", "learner_key",
    "action", "field", "old_value", "new_value", "regression",
)  # fmt: skip

Export = tuple[tuple[str, ...], Generator[tuple, None, None]]


class Exports:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def courses(self, providers: Sequence[str], since: str | None) -> Export:
        where, params = _where(providers, since, "updated_at")
        columns = ", ".join(COURSE_COLUMNS)
        sql = f"SELECT {columns} FROM courses {where} ORDER BY provider, external_id"
        return COURSE_COLUMNS, self._rows(sql, params)

    def progress(self, providers: Sequence[str], since: str | None) -> Export:
        where, params = _where(providers, None, "", table="p")
        if since is not None:
            # The few runs since then, rather than a join on every row.
            where += (" AND" if where else "WHERE") + (
                " p.last_run_id IN (SELECT id FROM sync_runs WHERE finished_at >= ?)"
            )
            params.append(since)
        columns = ", ".join(f"v.{c}" for c in PROGRESS_COLUMNS)
        sql = (
            f"SELECT {columns}, (SELECT c.archived FROM courses c WHERE c.provider = p.provider "
            "AND c.external_id = p.course_external_id), "
            "(SELECT r.finished_at FROM sync_runs r WHERE r.id = p.last_run_id) "
            f"FROM progress p JOIN {PEOPLE} v ON v.provider = p.provider "
            "AND v.course_external_id = p.course_external_id AND v.learner_key = p.learner_key "
            f"{where} ORDER BY p.provider, p.course_external_id, p.learner_key"
        )
        # course_archived: 1 archived, 0 offered, empty for a course no catalog lists.
        return (*PROGRESS_COLUMNS, "course_archived", "last_changed_at"), self._rows(sql, params)

    def changes(self, providers: Sequence[str], since: str | None) -> Export:
        course_where, course_params = _where(providers, since, "changed_at")
        progress_where, progress_params = _where(providers, since, "changed_at")
        courses = (
            "SELECT 'course', changed_at, run_id, provider, external_id, NULL, action, field, "
            f"old_value, new_value, NULL FROM course_changes {course_where} ORDER BY id"
        )
        # A statistics row's history records only updates (a new row has none): its
        # action says whether the provider lowered a value lo-sync kept.
        progress = (
            "SELECT 'progress', changed_at, run_id, provider, course_external_id, learner_key, "
            "CASE WHEN regression = 0 THEN 'updated' ELSE 'regression' END, field, old_value, "
            f"new_value, regression FROM progress_history {progress_where} ORDER BY id"
        )

        def rows() -> Iterator[tuple]:
            yield from self._rows(courses, course_params)
            yield from self._rows(progress, progress_params)

        return CHANGE_COLUMNS, rows()

    def _rows(self, sql: str, params: Sequence) -> Iterator[tuple]:
        cursor = self.conn.execute(sql, params)
        try:
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from batch
        finally:
            cursor.close()


def _where(
    providers: Sequence[str], since: str | None, column: str, table: str = ""
) -> tuple[str, list]:
    clauses, params = [], []
    if providers:
        qualified = f"{table}.provider" if table else "provider"
        clauses.append(f"{qualified} IN ({placeholders(len(providers))})")
        params += providers
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(since)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
