"""Learner statistics: staging a provider's fetch, its diff against `progress`, and applying it.

    with store.progress.stage(provider) as stage:
        known = KnownRows(stage.stored_fingerprints())
        for page in pages:          # the records `known` passes over are not among them
            stage.add(page.rows)
        diff = stage.finish(known)
    diff.counts, diff.differing(), diff.created_sample(n), diff.unmatched_learners(n),
    diff.courses_not_in_catalog(n)
    with store.transaction():
        diff.apply(run_id, now, changes)

The stage lives in TEMP tables (`stage_progress`, then the `progress_diff`
snapshot) that the diff reads until the next statistics stage replaces them.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from lo_sync.store.learner_keys import keep_stored_keys
from lo_sync.store.learners import AMBIGUOUS, LINK_COUNTS, UNMATCHED, any_learners
from lo_sync.store.schema import PROGRESS_FIELDS, PROGRESS_KEY, STAGED_PROGRESS, typed
from lo_sync.store.sql import (
    dicts,
    differs,
    placeholders,
    qualified,
    same,
    staged_not_stored,
    stored_row,
    text,
)
from lo_sync.store.staging import Stage, staging

BATCH = 1000
_STAGED_COLUMNS = (
    f"course_external_id TEXT NOT NULL, learner_key TEXT NOT NULL, {typed(PROGRESS_FIELDS)}"
)
# Raw progress stage rows: (seq, row_hash, *progress_values).
_INSERT_RAW = f"INSERT INTO stage_progress_raw VALUES ({placeholders(len(STAGED_PROGRESS) + 2)})"
# The stored row of a staged one (`s`), aliased `p`; the provider is the parameter.
_STORED = stored_row("progress", "p", PROGRESS_KEY)
_NEW = staged_not_stored("stage_progress", "progress", "p", PROGRESS_KEY)

# (merged row, {field: (old, new)}, regression kind, the fields the provider lowered)
# for each row to update; only the lowered fields' history carries the kind.
Change = tuple[dict, dict[str, tuple[Any, Any]], int, frozenset[str]]


class SeenRows(Protocol):
    """Where the fetch saw the stored rows it passed over (`lo_sync.fetch.KnownRows`):
    `seen[index(fingerprint)]` is the record's place in the fetch, 0 if not seen."""

    seen: Sequence[int]

    def seen_count(self) -> int: ...

    def index(self, fingerprint: int) -> int | None: ...


class Progress:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def stage(self, provider: str) -> ProgressStage:
        """Start staging a complete statistics fetch of `provider`."""
        return ProgressStage(self.conn, provider)


class ProgressStage(Stage):
    """One fetch being staged: hand the stored fingerprints to the fetch, add pages of
    the rows it did not pass over, then finish with what it passed over."""

    def __init__(self, conn: sqlite3.Connection, provider: str):
        super().__init__(conn, provider)
        conn.execute("DROP TABLE IF EXISTS temp.stage_progress")  # made again by `finish`
        # Append-only while fetching, sorted once at the end: rows arrive in the
        # provider's order, and inserted so into a keyed table they would land all
        # over its B-tree.
        self._replace_table(
            "stage_progress_raw", f"seq INTEGER NOT NULL, row_hash INTEGER, {_STAGED_COLUMNS}"
        )

    def stored_fingerprints(self) -> array:
        """The provider's stored rows' fingerprints, sorted, so that the fetch can pass
        over the records stored exactly so."""
        # Sorted by SQLite, whose sorter spills to disk, rather than by Python,
        # which would hold every fingerprint as an int object at once.
        fingerprints = array("q")
        fingerprints.extend(
            r[0]
            for r in self.conn.execute(
                "SELECT row_hash FROM progress WHERE provider = ? AND row_hash IS NOT NULL "
                "ORDER BY row_hash",
                (self.provider,),
            )
        )
        return fingerprints

    def add(self, rows: list[tuple]) -> None:
        """Stage one page of (seq, row_hash, *progress_values) rows."""
        with staging(self.conn):
            self.conn.executemany(_INSERT_RAW, rows)

    def finish(self, known: SeenRows) -> ProgressDiff:
        """The whole fetch is staged: keep one row per learner and content, fill in
        theoretical times, and snapshot what differs from the stored rows."""
        unchanged = self._sort(known)
        keep_stored_keys(self.conn, self.provider)
        self._fill_theoretical_time()
        self._snapshot_diff()
        return ProgressDiff(self.conn, self.provider, unchanged)

    def _sort(self, known: SeenRows) -> int:
        """Sort the staged rows by key, keeping one per learner and content; returns
        how many rows the fetch passed over and nothing restaged.

        The same learner and content under several programs keep one row:
        completed first, then highest progress, then latest activity, then the
        first one the provider sent. Sorting in that order and inserting into a
        keyed table that ignores a key it already has keeps exactly that row, and
        lands the stage in key order, so every later pass over it (diff, insert)
        reads and writes sequentially.
        """
        columns = ", ".join(("row_hash", *STAGED_PROGRESS))
        with staging(self.conn):
            unchanged = self._restage_seen_rows(known)
            self.conn.execute(
                "CREATE TEMP TABLE stage_progress (row_hash INTEGER, "
                + _STAGED_COLUMNS
                + ", PRIMARY KEY (course_external_id, learner_key)) WITHOUT ROWID"
            )
            self.conn.execute(
                f"INSERT OR IGNORE INTO stage_progress ({columns}) SELECT {columns} "
                "FROM stage_progress_raw ORDER BY course_external_id, learner_key, "
                "completed DESC, progress_percent DESC, last_activity_at DESC, seq"
            )
            self.conn.execute("DROP TABLE temp.stage_progress_raw")
        return unchanged

    def _restage_seen_rows(self, known: SeenRows) -> int:
        """A passed-over row competes again when its learner and content have other
        rows staged; returns how many passed-over rows stay unstaged.

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
                f"SELECT p.row_hash, {qualified('p', STAGED_PROGRESS)} "
                "FROM (SELECT course_external_id, learner_key FROM stage_progress_raw "
                f"ORDER BY course_external_id, learner_key) s CROSS JOIN {_STORED} "
                "WHERE p.row_hash IS NOT NULL",
                (self.provider,),
            ):
                if stored == previous:
                    continue
                previous = stored
                i = known.index(stored[0])
                if i is not None and known.seen[i]:
                    rows.append((known.seen[i], *stored))
            self.conn.executemany(_INSERT_RAW, rows)
        # Fetched, unchanged, and not staged: they count as fetched and unchanged.
        return seen_total - len(rows)

    def _fill_theoretical_time(self) -> None:
        """Where OpenClassrooms sent no timeSpent, compute it as it does: duration x progress."""
        self.conn.execute(
            "UPDATE stage_progress SET time_spent_minutes = round((SELECT c.duration_minutes "
            "FROM courses c WHERE c.provider = ? AND c.external_id = "
            "stage_progress.course_external_id) * progress_percent / 100.0, 2) "
            "WHERE time_spent_minutes IS NULL AND time_spent_theoretical = 1",
            (self.provider,),
        )

    def _snapshot_diff(self) -> None:
        """Copy every staged row that differs from its stored row, with both versions,
        into a TEMP table: planning reads it, and applying can then update `progress`
        without reading the table it is writing."""
        self.conn.execute("DROP TABLE IF EXISTS temp.progress_diff")
        self.conn.execute(
            "CREATE TEMP TABLE progress_diff AS SELECT "
            f"{', '.join(f'p.{c} AS old_{c}' for c in STAGED_PROGRESS)}, "
            "p.regression AS old_regression, "
            f"{', '.join(f's.{c} AS new_{c}' for c in STAGED_PROGRESS)}, "
            "s.row_hash AS new_row_hash "
            # CROSS JOIN keeps the stage as the outer loop: SQLite would otherwise walk
            # every stored row of the provider to probe the (small) stage.
            f"FROM stage_progress s CROSS JOIN {_STORED} "
            # A row kept through a regression must also come back when the provider
            # reports again exactly what it keeps: its flag then goes back to 0.
            f"WHERE {differs(PROGRESS_FIELDS, 's', 'p')} OR p.regression <> 0",
            (self.provider,),
        )


class ProgressDiff:
    """What a staged fetch changes in the stored statistics: counted when made, read
    on demand, and written by `apply`."""

    def __init__(self, conn: sqlite3.Connection, provider: str, unchanged: int):
        self.conn = conn
        self.provider = provider
        # Rows the fetch passed over: fetched, unchanged, and in no staging table.
        self._unchanged = unchanged
        fetched, created = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE p.learner_key IS NULL) "
            f"FROM stage_progress s LEFT JOIN {_STORED}",
            (provider,),
        ).fetchone()
        self.counts = {"fetched": fetched + self._unchanged, "created": created}

    def differing(self) -> Iterator[tuple[dict, dict]]:
        """(stored, fetched) for every staged row that differs from its stored row."""
        cursor = self.conn.execute(
            "SELECT * FROM progress_diff ORDER BY old_course_external_id, old_learner_key"
        )
        n = len(STAGED_PROGRESS)
        for row in cursor:
            stored = dict(zip((*STAGED_PROGRESS, "regression"), row[: n + 1], strict=True))
            fetched = dict(zip((*STAGED_PROGRESS, "row_hash"), row[n + 1 :], strict=True))
            yield stored, fetched

    def created_sample(self, limit: int) -> list[dict]:
        """The first `limit` staged rows not stored yet, in key order."""
        cursor = self.conn.execute(
            f"SELECT s.* {_NEW} ORDER BY s.course_external_id, s.learner_key LIMIT ?",
            (self.provider, limit),
        )
        return list(dicts(cursor))

    # The provider's rows as they stand once this run is applied: the staged rows,
    # and the stored ones the stage does not replace. A rerun stages only what
    # changed, so the checks below read the stored rows for the rest.
    _ROWS_AFTER_RUN = """
        SELECT learner_key, learner_email, learner_external_id FROM stage_progress
        UNION ALL
        SELECT p.learner_key, p.learner_email, p.learner_external_id FROM progress p
        WHERE p.provider = :provider AND NOT EXISTS (SELECT 1 FROM stage_progress s
          WHERE s.course_external_id = p.course_external_id AND s.learner_key = p.learner_key)
    """

    def unmatched_learners(self, limit: int) -> tuple[int, list[str], int, list[str]]:
        """The provider's rows linked to no learner, and rows whose link is ambiguous:
        (unmatched, sample, ambiguous, sample).

        Matching is by e-mail (stored lower-cased on both sides), else by external id.
        Nothing is counted when the company has imported no learners yet.
        """
        if not any_learners(self.conn):
            return 0, [], 0, []
        self.conn.execute("DROP TABLE IF EXISTS temp.learner_links")
        self.conn.execute(
            f"CREATE TEMP TABLE learner_links AS SELECT r.learner_key AS learner, {LINK_COUNTS} "
            f"FROM ({self._ROWS_AFTER_RUN}) r",
            {"provider": self.provider},
        )
        counts = []
        for where in (UNMATCHED, AMBIGUOUS):
            count = self.conn.execute(
                f"SELECT count(*) FROM learner_links WHERE {where}"
            ).fetchone()[0]
            sample = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT learner FROM learner_links WHERE {where} "
                    "ORDER BY learner LIMIT ?",
                    (limit,),
                )
            ]
            counts += [count, sample]
        self.conn.execute("DROP TABLE temp.learner_links")
        return counts[0], counts[1], counts[2], counts[3]

    def courses_not_in_catalog(
        self, limit: int, non_catalog_types: frozenset[str] = frozenset()
    ) -> tuple[int, list[str]]:
        """How many of the provider's courses, stored or staged, the catalog lacks,
        and the first `limit` of them. Content of `non_catalog_types` (learning
        paths, program collections) is never in a catalog, and not counted."""
        # Stored and staged rows are both keyed by course first, so their distinct
        # courses are walked one id at a time down the key (a skip scan): a seek per
        # course rather than a read of every row.
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
        params: dict[str, str] = {"provider": self.provider}
        if non_catalog_types:
            names = [f":kind{i}" for i in range(len(non_catalog_types))]
            params.update(zip((n[1:] for n in names), sorted(non_catalog_types), strict=True))
            # Asked only of the few ids the catalog lacks.
            query += (
                " AND coalesce((SELECT s.content_type FROM stage_progress s "
                "WHERE s.course_external_id = t.id LIMIT 1), (SELECT p.content_type "
                "FROM progress p WHERE p.provider = :provider AND p.course_external_id = t.id "
                f"LIMIT 1), '') NOT IN ({', '.join(names)})"
            )
        missing = [r[0] for r in self.conn.execute(f"{query} ORDER BY 1", params)]
        return len(missing), missing[:limit]

    def apply(self, run_id: int, now: str, changes: Iterable[Change]) -> None:
        """Write the diff: fingerprints of rows stored as fetched, the new rows, and
        `changes` (merged rows from `differing`) with their history. Runs inside the
        caller's transaction."""
        if self.counts["fetched"] > self.counts["created"]:  # else nothing was stored before
            self._refresh_row_hashes()
        self._insert_created(run_id)
        self._update(run_id, now, changes)

    def _refresh_row_hashes(self) -> None:
        """Give the provider's fingerprint to stored rows equal to what it sent but
        fingerprinted differently (rows from before fingerprints, a provider that
        changed a field lo-sync does not store): from tomorrow they are passed over.
        Not a change of the row: no history, not counted."""
        stale = self.conn.execute(
            f"SELECT s.row_hash, s.course_external_id, s.learner_key FROM stage_progress s "
            f"CROSS JOIN {_STORED} WHERE p.regression = 0 AND s.row_hash IS NOT p.row_hash "
            f"AND {same(PROGRESS_FIELDS, 's', 'p')}",
            (self.provider,),
        ).fetchall()
        self.conn.executemany(
            "UPDATE progress SET row_hash = ? WHERE provider = ? AND course_external_id = ? "
            "AND learner_key = ?",
            ((row_hash, self.provider, course, key) for row_hash, course, key in stale),
        )

    def _insert_created(self, run_id: int) -> None:
        first_night = not self.conn.execute(
            "SELECT 1 FROM progress WHERE provider = ? LIMIT 1", (self.provider,)
        ).fetchone()
        # On a provider's first night every staged row is new: no probe per row.
        source = (
            "FROM stage_progress s"
            if first_night
            else staged_not_stored("stage_progress", "progress", "p", PROGRESS_KEY, ":provider")
        )
        self.conn.execute(
            f"INSERT INTO progress (provider, {', '.join(STAGED_PROGRESS)}, row_hash, regression, "
            f"first_run_id, last_run_id) SELECT :provider, "
            f"{qualified('s', STAGED_PROGRESS)}, s.row_hash, 0, :run, :run {source} "
            # The stage is keyed like progress, so new rows append to the B-tree in order.
            "ORDER BY s.course_external_id, s.learner_key",
            {"provider": self.provider, "run": run_id},
        )

    def _update(self, run_id: int, now: str, changes: Iterable[Change]) -> None:
        """Write merged rows and their history: (merged row, {field: (old, new)}, kind,
        lowered fields)."""
        history: list[tuple] = []
        updates: list[tuple] = []
        assignments = ", ".join(f"{f} = ?" for f in (*PROGRESS_FIELDS, "regression", "row_hash"))
        for merged, fields, regression, lowered in changes:
            key = (merged["course_external_id"], merged["learner_key"])
            # A row that keeps values the provider no longer reports is not the
            # provider's row: no fingerprint, so every run compares it in full.
            row_hash = None if merged["regression"] else merged.get("row_hash")
            updates.append(
                (
                    *(merged[f] for f in PROGRESS_FIELDS),
                    merged["regression"],
                    row_hash,
                    run_id,
                    self.provider,
                    *key,
                )
            )
            kinds = dict.fromkeys(lowered, int(regression))
            history.extend(
                (run_id, self.provider, *key, field, text(old), text(new), kinds.get(field, 0), now)
                for field, (old, new) in fields.items()
            )
            if len(updates) >= BATCH:
                self._flush(assignments, updates, history)
        self._flush(assignments, updates, history)

    def _flush(self, assignments: str, updates: list, history: list) -> None:
        self.conn.executemany(
            f"UPDATE progress SET {assignments}, last_run_id = ? WHERE provider = ? "
            "AND course_external_id = ? AND learner_key = ?",
            updates,
        )
        self.conn.executemany(
            "INSERT INTO progress_history (run_id, provider, course_external_id, learner_key,"
            " field, old_value, new_value, regression, changed_at) VALUES (?,?,?,?,?,?,?,?,?)",
            history,
        )
        updates.clear()
        history.clear()
