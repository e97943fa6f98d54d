"""The schema: migrations, the stored columns, and the shape of staged rows."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlite_utils
from sqlite_utils import Migrations

from lo_sync.store.search import build_index

COURSE_FIELDS = (
    "title", "description", "url", "image_url", "language", "duration_minutes",
    "status", "content_type", "skills", "level", "provider_updated_at", "parent_external_id",
)  # fmt: skip
PROGRESS_FIELDS = (
    "learner_email", "learner_external_id", "learner_name", "content_type", "progress_percent",
    "completed", "completed_at", "score_percent", "time_spent_minutes", "time_spent_theoretical",
    "last_activity_at", "enrolled_at", "program_id",
)  # fmt: skip
# Staging columns carry the stored columns' types, so that 180 and 180.0 compare as
# SQLite will store them and the diff never reports a change that is only a type.
COLUMN_TYPES = {
    "duration_minutes": "INTEGER", "progress_percent": "REAL", "completed": "INTEGER",
    "score_percent": "REAL", "time_spent_minutes": "REAL", "time_spent_theoretical": "INTEGER",
}  # fmt: skip
COURSE_KEY = ("external_id",)
# A learner's rows are keyed by e-mail, or by the provider's id for the learner when
# a row has no e-mail (store/progress.py keeps that key when the e-mail arrives later).
PROGRESS_KEY = ("course_external_id", "learner_key")
STAGED_COURSE = (*COURSE_KEY, *COURSE_FIELDS)
STAGED_PROGRESS = (*PROGRESS_KEY, *PROGRESS_FIELDS)
# Mapped rows travel and are staged as tuples in these column orders; itemgetter
# pulls them out of a mapped dict in C, and it runs once for every fetched record.
course_values = operator.itemgetter(*STAGED_COURSE)
progress_values = operator.itemgetter(*STAGED_PROGRESS)


def utc_now() -> str:
    """Now, as every timestamp column stores it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def typed(columns: Iterable[str]) -> str:
    """Column definitions for a staging table, typed as the stored columns are."""
    return ", ".join(f"{c} {COLUMN_TYPES.get(c, 'TEXT')}" for c in columns)


migrations = Migrations("lo_sync")


@migrations()
def m001_catalog(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE courses (
            provider TEXT NOT NULL,
            external_id TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT,
            url TEXT,
            image_url TEXT,
            language TEXT,
            duration_minutes INTEGER,
            status TEXT,
            content_type TEXT,
            skills TEXT NOT NULL DEFAULT '[]',
            level TEXT,
            provider_updated_at TEXT,
            archived INTEGER NOT NULL DEFAULT 0,
            archived_at TEXT,
            archive_reason TEXT,
            missing_since TEXT,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (provider, external_id)
        );
        CREATE TABLE group_courses (
            group_name TEXT NOT NULL,
            provider TEXT NOT NULL,
            external_id TEXT NOT NULL,
            in_catalog INTEGER NOT NULL DEFAULT 1,
            in_library INTEGER NOT NULL DEFAULT 1,
            added_at TEXT NOT NULL,
            PRIMARY KEY (group_name, provider, external_id)
        );
        CREATE TABLE course_tags (
            provider TEXT NOT NULL,
            external_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            PRIMARY KEY (provider, external_id, tag)
        );
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            provider TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL,
            fetched INTEGER,
            created INTEGER,
            updated INTEGER,
            unchanged INTEGER,
            missing INTEGER,
            returned INTEGER,
            archived INTEGER,
            restored INTEGER,
            rejected INTEGER,
            regressions INTEGER,
            unmatched INTEGER,
            ambiguous INTEGER,
            not_in_catalog INTEGER,
            message TEXT
        );
        CREATE INDEX sync_runs_by_command ON sync_runs (command, provider, id);
        CREATE TABLE course_changes (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES sync_runs(id),
            provider TEXT NOT NULL,
            external_id TEXT NOT NULL,
            action TEXT NOT NULL,
            field TEXT,
            old_value TEXT,
            new_value TEXT,
            changed_at TEXT NOT NULL
        );
        CREATE INDEX course_changes_by_course ON course_changes (provider, external_id);
        CREATE TABLE rejected_records (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES sync_runs(id),
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            raw TEXT
        );
        """
    )


@migrations()
def m002_statistics(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE learners (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL,
            external_id TEXT,
            name TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX learners_by_email ON learners (email);
        CREATE INDEX learners_by_external_id ON learners (external_id);
        CREATE TABLE progress (
            provider TEXT NOT NULL,
            course_external_id TEXT NOT NULL,
            learner_email TEXT NOT NULL,
            learner_external_id TEXT,
            learner_name TEXT,
            progress_percent REAL NOT NULL,
            completed INTEGER NOT NULL,
            completed_at TEXT,
            score_percent REAL,
            time_spent_minutes REAL,
            time_spent_theoretical INTEGER NOT NULL DEFAULT 0,
            last_activity_at TEXT,
            enrolled_at TEXT,
            program_id TEXT,
            regression INTEGER NOT NULL DEFAULT 0,
            first_run_id INTEGER NOT NULL,
            last_run_id INTEGER NOT NULL,
            PRIMARY KEY (provider, course_external_id, learner_email)
        ) WITHOUT ROWID;
        CREATE TABLE progress_history (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES sync_runs(id),
            provider TEXT NOT NULL,
            course_external_id TEXT NOT NULL,
            learner_email TEXT NOT NULL,
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            regression INTEGER NOT NULL DEFAULT 0,
            changed_at TEXT NOT NULL
        );
        CREATE INDEX progress_history_by_row
            ON progress_history (provider, course_external_id, learner_email);
        """
    )


@migrations()
def m003_progress_row_hash(db: sqlite_utils.Database) -> None:
    """Room for each row's fingerprint. Rows stored before it get theirs on the next
    sync-stats, which compares them in full once."""
    db.execute("ALTER TABLE progress ADD COLUMN row_hash INTEGER")


@migrations()
def m004_real_provider_data(db: sqlite_utils.Database) -> None:
    """What real answers carry: progress rows keyed by e-mail or, without one, by the
    provider's learner id (`learner_key`), with a nullable e-mail and progress and the
    kind of content; a clip's parent course; the drift of each provider's data.

    progress is rebuilt (a key and a NOT NULL change); its rows keep their e-mail
    as key, and take their content's kind from the catalog. Statement by statement,
    inside the migration's transaction (executescript would commit half of it)."""
    for statement in _M004.split(";\n"):
        if statement.strip():
            db.execute(statement)


_M004 = """
        ALTER TABLE courses ADD COLUMN parent_external_id TEXT;
        CREATE TABLE progress_m004 (
            provider TEXT NOT NULL,
            course_external_id TEXT NOT NULL,
            learner_key TEXT NOT NULL,
            learner_email TEXT,
            learner_external_id TEXT,
            learner_name TEXT,
            content_type TEXT,
            progress_percent REAL,
            completed INTEGER NOT NULL,
            completed_at TEXT,
            score_percent REAL,
            time_spent_minutes REAL,
            time_spent_theoretical INTEGER NOT NULL DEFAULT 0,
            last_activity_at TEXT,
            enrolled_at TEXT,
            program_id TEXT,
            regression INTEGER NOT NULL DEFAULT 0,
            first_run_id INTEGER NOT NULL,
            last_run_id INTEGER NOT NULL,
            row_hash INTEGER,
            PRIMARY KEY (provider, course_external_id, learner_key)
        ) WITHOUT ROWID;
        INSERT INTO progress_m004
        SELECT p.provider, p.course_external_id, p.learner_email, p.learner_email,
               p.learner_external_id, p.learner_name,
               coalesce((SELECT c.content_type FROM courses c WHERE c.provider = p.provider
                         AND c.external_id = p.course_external_id), 'Course'),
               p.progress_percent, p.completed, p.completed_at, p.score_percent,
               p.time_spent_minutes, p.time_spent_theoretical, p.last_activity_at,
               p.enrolled_at, p.program_id, p.regression, p.first_run_id, p.last_run_id,
               NULL
        FROM progress p ORDER BY p.provider, p.course_external_id, p.learner_email;
        DROP TABLE progress;
        ALTER TABLE progress_m004 RENAME TO progress;
        CREATE INDEX progress_without_email
            ON progress (provider, course_external_id, learner_external_id)
            WHERE learner_email IS NULL;
        ALTER TABLE progress_history RENAME COLUMN learner_email TO learner_key;
ALTER TABLE sync_runs ADD COLUMN not_read INTEGER;
ALTER TABLE sync_runs ADD COLUMN new_in_data INTEGER;
        CREATE TABLE data_drift (
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            finding TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            first_run_id INTEGER,
            first_seen_at TEXT NOT NULL,
            last_run_id INTEGER,
            last_seen_at TEXT NOT NULL,
            records INTEGER NOT NULL,
            example TEXT,
            PRIMARY KEY (provider, kind, finding, field, value)
        );
"""


@migrations()
def m005_search(db: sqlite_utils.Database) -> None:
    """The catalog's full-text index (store/search.py), built over the courses stored
    before it and kept current from then on by the triggers it creates."""
    build_index(db)


@migrations()
def m006_program_sessions(db: sqlite_utils.Database) -> None:
    """The company's program sessions: an ordered list of provider courses for one
    synchronized group, optional dates and cohort. `sessions import` is their only
    writer; no sync ever touches them, as none touches course_tags."""
    for statement in _M006.split(";\n"):
        if statement.strip():
            db.execute(statement)


# A session is named by the company, and that name is its key: re-importing a file
# replaces the courses and cohort of each session it names. Dates are days
# (YYYY-MM-DD), both ends included.
_M006 = """
        CREATE TABLE program_sessions (
            name TEXT PRIMARY KEY,
            group_name TEXT NOT NULL,
            starts_on TEXT,
            ends_on TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE session_courses (
            session_name TEXT NOT NULL,
            position INTEGER NOT NULL,
            provider TEXT NOT NULL,
            external_id TEXT NOT NULL,
            PRIMARY KEY (session_name, position),
            UNIQUE (session_name, provider, external_id)
        );
        CREATE INDEX session_courses_by_course ON session_courses (provider, external_id);
        CREATE TABLE session_learners (
            session_name TEXT NOT NULL,
            email TEXT NOT NULL,
            PRIMARY KEY (session_name, email)
        );
"""


@migrations()
def m007_people_left(db: sqlite_utils.Database) -> None:
    """People absent from a `learners import --replace` are marked as left, never deleted;
    and one view, `progress_people`, says who each progress row is to the company.

    The view links a row by the one rule statistics use (store/learners.py): the
    e-mail, case-insensitively (both sides are stored lower-cased), else the
    provider's learner id against the company's external id; a link that fits more
    than one person is ambiguous and is not guessed. Matched, a row shows the
    company's name, external id and e-mail; otherwise the provider's, with
    `matched` 0. `in_company` is a match to someone who has not left."""
    for statement in _M007.split(";\n"):
        if statement.strip():
            db.execute(statement)


_M007 = """
        ALTER TABLE learners ADD COLUMN left_at TEXT;
        CREATE VIEW progress_people AS
        SELECT p.provider, p.course_external_id, p.learner_key,
               l.id AS person_id,
               l.id IS NOT NULL AS matched,
               l.id IS NOT NULL AND l.left_at IS NULL AS in_company,
               l.left_at,
               CASE WHEN l.id IS NULL THEN p.learner_name ELSE l.name END AS learner_name,
               CASE WHEN l.id IS NULL THEN p.learner_external_id ELSE l.external_id END
                   AS learner_id,
               CASE WHEN l.id IS NULL THEN p.learner_email ELSE l.email END AS learner_email,
               p.learner_email AS provider_email,
               p.learner_external_id AS provider_learner_id,
               p.content_type, p.progress_percent, p.completed, p.completed_at,
               p.score_percent, p.time_spent_minutes, p.time_spent_theoretical,
               p.last_activity_at, p.enrolled_at, p.program_id, p.regression,
               p.first_run_id, p.last_run_id
        FROM progress p
        LEFT JOIN learners l ON l.id = (
            CASE (SELECT count(*) FROM learners e WHERE e.email = p.learner_email)
                WHEN 1 THEN (SELECT e.id FROM learners e WHERE e.email = p.learner_email)
                WHEN 0 THEN (SELECT CASE WHEN count(*) = 1 THEN max(x.id) END
                             FROM learners x WHERE x.external_id = p.learner_external_id)
            END
        );
"""


def known_migrations() -> set[str]:
    return {m.name for m in migrations._migrations}
