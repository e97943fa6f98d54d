"""The SQLite file: staging, plans and their application. The only package with SQL.

Fetched rows are streamed into TEMP staging tables page by page, so memory does
not grow with the size of a fetch; diffs against what is stored are computed in
SQL, and only the rows that differ come back to Python. A dry run opens the
file read-only (TEMP tables live outside it), so planning is the same code for
both and a dry run cannot change the file or create a missing one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlite_utils

from lo_sync.store import database
from lo_sync.store.archive import Archive
from lo_sync.store.catalog import Catalog, CatalogDiff, CatalogStage
from lo_sync.store.database import disk_trouble, missing_folder
from lo_sync.store.learners import Learners, any_learners
from lo_sync.store.reports import Reports
from lo_sync.store.runs import Runs
from lo_sync.store.schema import (
    COURSE_FIELDS,
    PROGRESS_FIELDS,
    STAGED_PROGRESS,
    course_values,
    progress_values,
    typed,
    utc_now,
)
from lo_sync.store.sql import dicts, text
from lo_sync.store.staging import staging

__all__ = [
    "COURSE_FIELDS",
    "PROGRESS_FIELDS",
    "CatalogDiff",
    "CatalogStage",
    "Store",
    "course_values",
    "disk_trouble",
    "missing_folder",
    "progress_values",
    "utc_now",
]

BATCH = 1000
# Raw progress stage rows: (seq, row_hash, *progress_values).
_INSERT_RAW_PROGRESS = (
    f"INSERT INTO stage_progress_raw VALUES ({', '.join('?' * (len(STAGED_PROGRESS) + 2))})"
)


class Store:
    """A connection to the lo-sync database: its domains, and the operations not split yet."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None, readonly: bool):
        self.db = db
        self.conn = db.conn
        self.path = path
        self.readonly = readonly
        self.runs = Runs(self.conn, readonly)
        self.catalog = Catalog(self.conn)
        self.archive = Archive(self.conn)
        self.learners = Learners(self.conn)
        self.reports = Reports(self.conn)

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (or, unless read-only, create) the database and bring its schema up to date.

        Read-only opens of a missing file plan against an empty in-memory schema:
        a dry run must not create the file.
        """
        return cls(*database.connect(path, readonly))

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction: everything inside commits together or not at all."""
        return database.transaction(self.conn)

    # --- statistics ----------------------------------------------------------------------------

    def start_progress_stage(self, provider: str) -> array:
        """Prepare to stage a statistics fetch for `provider`; returns its stored rows'
        fingerprints, sorted, so that the fetch can pass over the records stored exactly so."""
        # Append-only while fetching, sorted once at the end: inserting a million
        # rows in random key order into a keyed table costs several times the fetch.
        self.conn.execute("DROP TABLE IF EXISTS temp.stage_progress")
        self.conn.execute("DROP TABLE IF EXISTS temp.stage_progress_raw")
        self.conn.execute(
            "CREATE TEMP TABLE stage_progress_raw (seq INTEGER NOT NULL, row_hash INTEGER, "
            "course_external_id TEXT NOT NULL, learner_email TEXT NOT NULL, "
            + typed(PROGRESS_FIELDS)
            + ")"
        )
        # Sorted by SQLite, whose sorter spills to disk, rather than by Python,
        # which would hold a million int objects at once.
        fingerprints = array("q")
        fingerprints.extend(
            r[0]
            for r in self.conn.execute(
                "SELECT row_hash FROM progress WHERE provider = ? AND row_hash IS NOT NULL "
                "ORDER BY row_hash",
                (provider,),
            )
        )
        self._unchanged = 0
        return fingerprints

    def stage_progress(self, rows: list[tuple]) -> None:
        """Stage one page of (seq, row_hash, *progress_values) rows."""
        with staging(self.conn):
            self.conn.executemany(_INSERT_RAW_PROGRESS, rows)

    def finish_progress_stage(self, provider: str, known) -> None:
        """Sort the staged rows by key, keeping one per learner and content.

        The same learner and content under several programs keep one row:
        completed first, then highest progress, then latest activity, then the
        first one the provider sent. Sorting in that order and inserting into a
        keyed table that ignores a key it already has keeps exactly that row, and
        lands the stage in key order, so every later pass over it (diff, insert)
        reads and writes sequentially.
        """
        columns = ", ".join(("row_hash", *STAGED_PROGRESS))
        with staging(self.conn):
            self._restage_seen_rows(provider, known)
            self.conn.execute(
                "CREATE TEMP TABLE stage_progress (row_hash INTEGER, "
                "course_external_id TEXT NOT NULL, learner_email TEXT NOT NULL, "
                + typed(PROGRESS_FIELDS)
                + ", PRIMARY KEY (course_external_id, learner_email)) WITHOUT ROWID"
            )
            self.conn.execute(
                f"INSERT OR IGNORE INTO stage_progress ({columns}) SELECT {columns} "
                "FROM stage_progress_raw ORDER BY course_external_id, learner_email, "
                "completed DESC, progress_percent DESC, last_activity_at DESC, seq"
            )
            self.conn.execute("DROP TABLE temp.stage_progress_raw")

    def _restage_seen_rows(self, provider: str, known) -> None:
        """A passed-over row competes again when its learner and content have other
        rows staged.

        Under several programs, the stored row was the best of them: if another of
        them changed tonight, the unchanged one (identical to what is stored) must
        be ranked beside it, or the changed lower-ranked row would replace it.
        """
        seen_total = known.seen_count()
        rows = []
        if seen_total:
            previous = None
            # Probed in key order, the stored rows are read page after page rather
            # than at random; the same key staged twice comes back side by side.
            for stored in self.conn.execute(
                f"SELECT p.row_hash, {', '.join('p.' + c for c in STAGED_PROGRESS)} "
                "FROM (SELECT course_external_id, learner_email FROM stage_progress_raw "
                "ORDER BY course_external_id, learner_email) s CROSS JOIN progress p "
                "ON p.provider = ? AND p.course_external_id = s.course_external_id "
                "AND p.learner_email = s.learner_email WHERE p.row_hash IS NOT NULL",
                (provider,),
            ):
                if stored == previous:
                    continue
                previous = stored
                i = known.index(stored[0])
                if i is not None and known.seen[i]:
                    rows.append((known.seen[i], *stored))
            self.conn.executemany(_INSERT_RAW_PROGRESS, rows)
        # Fetched, unchanged, and not staged: they count as fetched and unchanged.
        self._unchanged = seen_total - len(rows)

    def refresh_row_hashes(self, provider: str) -> None:
        """Give the provider's fingerprint to stored rows equal to what it sent but
        fingerprinted differently (rows from before fingerprints, a provider that
        changed a field lo-sync does not store): from tomorrow they are passed over.
        Not a change of the row: no history, not counted."""
        equal = " AND ".join(f"s.{f} IS p.{f}" for f in PROGRESS_FIELDS)
        stale = self.conn.execute(
            "SELECT s.row_hash, s.course_external_id, s.learner_email FROM stage_progress s "
            "CROSS JOIN progress p ON p.provider = ? AND p.course_external_id = "
            "s.course_external_id AND p.learner_email = s.learner_email "
            f"WHERE p.regression = 0 AND s.row_hash IS NOT p.row_hash AND {equal}",
            (provider,),
        ).fetchall()
        self.conn.executemany(
            "UPDATE progress SET row_hash = ? WHERE provider = ? AND course_external_id = ? "
            "AND learner_email = ?",
            ((row_hash, provider, course, email) for row_hash, course, email in stale),
        )

    def fill_theoretical_time(self, provider: str) -> None:
        """Where OpenClassrooms sent no timeSpent, compute it as it does: duration x progress."""
        self.conn.execute(
            "UPDATE stage_progress SET time_spent_minutes = round((SELECT c.duration_minutes "
            "FROM courses c WHERE c.provider = ? AND c.external_id = "
            "stage_progress.course_external_id) * progress_percent / 100.0, 2) "
            "WHERE time_spent_minutes IS NULL AND time_spent_theoretical = 1",
            (provider,),
        )

    def stats_plan_counts(self, provider: str) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE p.learner_email IS NULL) "
            "FROM stage_progress s LEFT JOIN progress p ON p.provider = ? "
            "AND p.course_external_id = s.course_external_id AND p.learner_email = s.learner_email",
            (provider,),
        ).fetchone()
        return {"fetched": row[0] + self._unchanged, "created": row[1]}

    def snapshot_progress_diff(self, provider: str) -> None:
        """Copy every staged row that differs from its stored row, with both versions,
        into a TEMP table: planning reads it, and applying can then update `progress`
        without reading the table it is writing."""
        differs = " OR ".join(f"s.{f} IS NOT p.{f}" for f in PROGRESS_FIELDS)
        columns = ("course_external_id", "learner_email", *PROGRESS_FIELDS)
        self.conn.execute("DROP TABLE IF EXISTS temp.progress_diff")
        self.conn.execute(
            "CREATE TEMP TABLE progress_diff AS SELECT "
            f"{', '.join(f'p.{c} AS old_{c}' for c in columns)}, p.regression AS old_regression, "
            f"{', '.join(f's.{c} AS new_{c}' for c in columns)}, s.row_hash AS new_row_hash "
            # CROSS JOIN keeps the stage as the outer loop: SQLite would otherwise walk
            # every stored row of the provider to probe the (small) stage.
            "FROM stage_progress s CROSS JOIN progress p ON p.provider = ? "
            "AND p.course_external_id = s.course_external_id AND p.learner_email = s.learner_email "
            # A row kept through a regression must also come back when the provider
            # reports again exactly what it keeps: its flag then goes back to 0.
            f"WHERE {differs} OR p.regression <> 0",
            (provider,),
        )

    def differing_progress(self, provider: str) -> Iterator[tuple[dict, dict]]:
        """(stored, fetched) for every row in the diff snapshot."""
        columns = ("course_external_id", "learner_email", *PROGRESS_FIELDS)
        cursor = self.conn.execute(
            "SELECT * FROM progress_diff ORDER BY old_course_external_id, old_learner_email"
        )
        n = len(columns)
        for row in cursor:
            stored = dict(zip((*columns, "regression"), row[: n + 1], strict=True))
            fetched = dict(zip((*columns, "row_hash"), row[n + 1 :], strict=True))
            yield stored, fetched

    def created_progress_sample(self, provider: str, limit: int) -> list[dict]:
        cursor = self.conn.execute(
            "SELECT s.* FROM stage_progress s LEFT JOIN progress p ON p.provider = ? "
            "AND p.course_external_id = s.course_external_id AND p.learner_email = s.learner_email "
            "WHERE p.learner_email IS NULL ORDER BY s.course_external_id, s.learner_email LIMIT ?",
            (provider, limit),
        )
        return list(dicts(cursor))

    def insert_created_progress(self, provider: str, run_id: int) -> None:
        columns = ("course_external_id", "learner_email", *PROGRESS_FIELDS)
        first_night = not self.conn.execute(
            "SELECT 1 FROM progress WHERE provider = ? LIMIT 1", (provider,)
        ).fetchone()
        # On a provider's first night every staged row is new: no probe per row.
        new_only = (
            ""
            if first_night
            else "LEFT JOIN progress p ON p.provider = :provider "
            "AND p.course_external_id = s.course_external_id "
            "AND p.learner_email = s.learner_email WHERE p.learner_email IS NULL "
        )
        self.conn.execute(
            f"INSERT INTO progress (provider, {', '.join(columns)}, row_hash, regression, "
            f"first_run_id, last_run_id) SELECT :provider, "
            f"{', '.join('s.' + c for c in columns)}, s.row_hash, 0, :run, :run "
            f"FROM stage_progress s {new_only}"
            # The stage is keyed like progress, so new rows append to the B-tree in order.
            "ORDER BY s.course_external_id, s.learner_email",
            {"provider": provider, "run": run_id},
        )

    def update_progress(
        self,
        provider: str,
        run_id: int,
        now: str,
        changes: Iterable[tuple[dict, dict[str, tuple[Any, Any]], bool]],
    ) -> None:
        """Write merged rows and their history: (merged row, {field: (old, new)}, is_regression)."""
        history: list[tuple] = []
        updates: list[tuple] = []
        assignments = ", ".join(f"{f} = ?" for f in (*PROGRESS_FIELDS, "regression", "row_hash"))
        for merged, fields, regression in changes:
            key = (merged["course_external_id"], merged["learner_email"])
            # A row that keeps values the provider no longer reports is not the
            # provider's row: no fingerprint, so every run compares it in full.
            row_hash = None if merged["regression"] else merged.get("row_hash")
            updates.append(
                (
                    *(merged[f] for f in PROGRESS_FIELDS),
                    merged["regression"],
                    row_hash,
                    run_id,
                    provider,
                    *key,
                )
            )
            history.extend(
                (run_id, provider, *key, field, text(old), text(new), int(regression), now)
                for field, (old, new) in fields.items()
            )
            if len(updates) >= BATCH:
                self._flush_progress(assignments, updates, history)
        self._flush_progress(assignments, updates, history)

    def _flush_progress(self, assignments: str, updates: list, history: list) -> None:
        self.conn.executemany(
            f"UPDATE progress SET {assignments}, last_run_id = ? WHERE provider = ? "
            "AND course_external_id = ? AND learner_email = ?",
            updates,
        )
        self.conn.executemany(
            "INSERT INTO progress_history (run_id, provider, course_external_id, learner_email,"
            " field, old_value, new_value, regression, changed_at) VALUES (?,?,?,?,?,?,?,?,?)",
            history,
        )
        updates.clear()
        history.clear()

    # The provider's rows as they stand once this run is applied: the staged rows,
    # and the stored ones the stage does not replace. A rerun stages only what
    # changed, so the checks below read the stored rows for the rest.
    _ROWS_AFTER_RUN = """
        SELECT course_external_id, learner_email, learner_external_id FROM stage_progress
        UNION ALL
        SELECT p.course_external_id, p.learner_email, p.learner_external_id FROM progress p
        WHERE p.provider = :provider AND NOT EXISTS (SELECT 1 FROM stage_progress s
          WHERE s.course_external_id = p.course_external_id AND s.learner_email = p.learner_email)
    """

    def unmatched_learners(
        self, provider: str, limit: int
    ) -> tuple[int, list[str], int, list[str]]:
        """The provider's rows linked to no learner, and rows whose link is ambiguous.

        Matching is by e-mail (stored lower-cased on both sides), else by external id.
        Nothing is counted when the company has imported no learners yet.
        """
        if not any_learners(self.conn):
            return 0, [], 0, []
        self.conn.execute("DROP TABLE IF EXISTS temp.learner_links")
        self.conn.execute(
            "CREATE TEMP TABLE learner_links AS SELECT r.learner_email AS email, "
            "(SELECT count(*) FROM learners l WHERE l.email = r.learner_email) AS by_email, "
            "(SELECT count(*) FROM learners l WHERE r.learner_external_id IS NOT NULL "
            "AND l.external_id = r.learner_external_id) AS by_external_id "
            f"FROM ({self._ROWS_AFTER_RUN}) r",
            {"provider": provider},
        )
        counts = []
        for where in (
            "by_email = 0 AND by_external_id = 0",
            "by_email > 1 OR (by_email = 0 AND by_external_id > 1)",
        ):
            count = self.conn.execute(
                f"SELECT count(*) FROM learner_links WHERE {where}"
            ).fetchone()[0]
            sample = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT email FROM learner_links WHERE {where} "
                    "ORDER BY email LIMIT ?",
                    (limit,),
                )
            ]
            counts += [count, sample]
        self.conn.execute("DROP TABLE temp.learner_links")
        return counts[0], counts[1], counts[2], counts[3]

    def courses_not_in_catalog(self, provider: str, limit: int) -> tuple[int, list[str]]:
        # Stored and staged rows are both keyed by course first, so their distinct
        # courses are walked one id at a time down the key (a skip scan): thousands
        # of seeks rather than a million rows read.
        query = """
            WITH RECURSIVE stored(id) AS (
              SELECT min(course_external_id) FROM progress WHERE provider = :provider
              UNION ALL
              SELECT (SELECT min(course_external_id) FROM progress
                      WHERE provider = :provider AND course_external_id > stored.id)
              FROM stored WHERE stored.id IS NOT NULL),
            staged(id) AS (
              SELECT min(course_external_id) FROM stage_progress
              UNION ALL
              SELECT (SELECT min(course_external_id) FROM stage_progress
                      WHERE course_external_id > staged.id)
              FROM staged WHERE staged.id IS NOT NULL)
            SELECT DISTINCT id FROM (
              SELECT id FROM stored WHERE id IS NOT NULL
              UNION ALL SELECT id FROM staged WHERE id IS NOT NULL) t
            WHERE NOT EXISTS (SELECT 1 FROM courses c WHERE c.provider = :provider
                              AND c.external_id = t.id)
        """
        missing = [r[0] for r in self.conn.execute(f"{query} ORDER BY 1", {"provider": provider})]
        return len(missing), missing[:limit]

    # Callers on other branches (sync.run_provider, learners.py, report.py) still use
    # these names; they go once those callers use the domain objects above.

    def record_failed_run(
        self, command: str, provider: str, started_at: str, status: str, message: str
    ) -> None:
        self.runs.record_failed(command, provider, started_at, status, message)

    def learners_by_email(self) -> dict[str, dict]:
        return self.learners.by_email()

    def upsert_learners(self, rows: list[dict], now: str) -> tuple[int, int]:
        return self.learners.upsert(rows, now)

    def course_stats(self, provider: str | None, company_only: bool) -> list[dict]:
        return self.reports.course_stats(provider, company_only)

    def course_learner_stats(
        self, provider: str | None, course: str, company_only: bool
    ) -> list[dict]:
        return self.reports.course_learner_stats(provider, course, company_only)

    def has_learners(self) -> bool:
        return self.reports.has_learners()
