"""Which key a learner's statistics row is stored under, night after night.

A row is keyed by the learner's e-mail, or by the provider's id for the learner
when the provider sent no e-mail (`learner_key`). The key must not change when
the e-mail comes or goes, or the same learner would be stored twice.
"""

from __future__ import annotations

import sqlite3

from lo_sync.store.staging import staging


def keep_stored_keys(conn: sqlite3.Connection, provider: str) -> None:
    """A learner's row keeps the key it was first stored under.

    A row is keyed by the learner's e-mail, or by the provider's id for the
    learner when it came without one. When a later night brings the e-mail of a
    learner first seen without it (or drops the e-mail of one first seen with
    it), the staged row takes the stored row's key, matched by content and the
    provider's learner id: the e-mail arrives as a change of the row, and the
    learner is never stored twice. An e-mail once known is kept.
    """
    if not conn.execute(
        "SELECT 1 FROM progress WHERE provider = ? LIMIT 1", (provider,)
    ).fetchone():
        return  # a first night: nothing stored to match
    not_stored = (
        "learner_external_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM progress p "
        "WHERE p.provider = :provider AND p.course_external_id = "
        "stage_progress.course_external_id AND p.learner_key = stage_progress.learner_key)"
    )
    same_learner = (
        "FROM progress p WHERE p.provider = :provider AND p.course_external_id = "
        "stage_progress.course_external_id AND p.learner_external_id = "
        "stage_progress.learner_external_id"
    )
    with staging(conn):
        # The e-mail arrived: the stored rows without one are few, and indexed apart
        # (left to itself, SQLite would walk the course's rows by primary key).
        without_email = (
            same_learner.replace(
                "FROM progress p", "FROM progress p INDEXED BY progress_without_email"
            )
            + " AND p.learner_email IS NULL"
        )
        conn.execute(
            "UPDATE OR IGNORE stage_progress SET learner_key = "
            f"(SELECT p.learner_key {without_email} LIMIT 1) "
            # The probe of the small index first: most staged rows stop there.
            f"WHERE learner_email IS NOT NULL AND EXISTS (SELECT 1 {without_email}) "
            f"AND {not_stored}",
            {"provider": provider},
        )
        # The e-mail went away: such staged rows are few.
        conn.execute(
            "UPDATE OR IGNORE stage_progress SET (learner_key, learner_email) = "
            f"(SELECT p.learner_key, p.learner_email {same_learner} "
            "ORDER BY p.learner_key LIMIT 1) "
            f"WHERE learner_email IS NULL AND {not_stored} "
            f"AND EXISTS (SELECT 1 {same_learner})",
            {"provider": provider},
        )
