"""The catalog: staging a provider's course listing, its diff against `courses`, and applying it.

    with store.catalog.stage(provider) as stage:
        for page in pages:
            duplicates = stage.add(page.rows)
        stage.mark_listed(ids_of_rejected_records)
        diff = stage.finish()
    diff.counts, diff.created(), diff.updated(), diff.missing(), diff.returned()
    with store.transaction():
        diff.apply(run_id, group, now)

The stage lives in TEMP tables (`stage_courses`, `stage_listed`) that the diff
reads until the next catalog stage on the connection replaces them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from lo_sync.store.schema import COURSE_FIELDS, COURSE_KEY, STAGED_COURSE, typed
from lo_sync.store.search import plain_text_of
from lo_sync.store.sql import (
    MISSING_FROM_LISTING,
    RETURNED_TO_LISTING,
    dicts,
    differs,
    placeholders,
    qualified,
    staged_not_stored,
    stored_row,
    text,
)
from lo_sync.store.staging import Stage, staging

# The stored course of a staged one (`s`), aliased `c`; the provider is the parameter.
_STORED = stored_row("courses", "c", COURSE_KEY)
_CHANGED = differs(COURSE_FIELDS, "s", "c")
_NEW = staged_not_stored("stage_courses", "courses", "c", COURSE_KEY)
# A change of a whole course (created, missing, returned) in the change log.
_LOG_ACTION = "INSERT INTO course_changes (run_id, provider, external_id, action, changed_at) "


class Catalog:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def stage(self, provider: str) -> CatalogStage:
        """Start staging a complete listing of `provider`'s catalog."""
        return CatalogStage(self.conn, provider)


class CatalogStage(Stage):
    """One listing being staged: add pages of rows, mark every listed id, then finish."""

    def __init__(self, conn: sqlite3.Connection, provider: str):
        super().__init__(conn, provider)
        self._staged_ids: set[str] = set()
        self._replace_table(
            "stage_courses", f"external_id TEXT PRIMARY KEY, {typed(COURSE_FIELDS)}"
        )
        # Every id the provider listed, including records set aside as bad: a course
        # whose record broke the contract tonight is still offered, not missing.
        self._replace_table("stage_listed", "external_id TEXT PRIMARY KEY")

    def add(self, rows: list[tuple]) -> list[str]:
        """Stage one page of `course_values` tuples; returns the ids already staged
        (the same course on two pages)."""
        unique: dict[str, tuple] = {}
        duplicates = []
        for row in rows:
            external_id = row[0]
            if external_id in self._staged_ids or external_id in unique:
                duplicates.append(external_id)
            else:
                unique[external_id] = row
        self._staged_ids.update(unique)
        with staging(self.conn):
            self.conn.executemany(
                f"INSERT INTO stage_courses VALUES ({placeholders(len(STAGED_COURSE))})",
                unique.values(),
            )
        self.mark_listed(unique)
        return duplicates

    def mark_listed(self, external_ids: Iterable[str]) -> None:
        """Note ids the provider listed, whether or not their record was staged."""
        with staging(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO stage_listed VALUES (?)", ((e,) for e in external_ids)
            )

    def finish(self) -> CatalogDiff:
        """The whole listing is staged: its diff against the stored catalog."""
        return CatalogDiff(self.conn, self.provider)


class CatalogDiff:
    """What a staged listing changes in the stored catalog: counted when made, listed
    on demand, and written by `apply`."""

    def __init__(self, conn: sqlite3.Connection, provider: str):
        self.conn = conn
        self.provider = provider
        self.counts = self._count()

    def _count(self) -> dict[str, int]:
        fetched, created, updated = self.conn.execute(
            f"""
            SELECT count(*),
                   count(*) FILTER (WHERE c.external_id IS NULL),
                   count(*) FILTER (WHERE c.external_id IS NOT NULL AND ({_CHANGED}))
            FROM stage_courses s
            LEFT JOIN {_STORED}
            """,
            (self.provider,),
        ).fetchone()
        missing, returned = (
            self.conn.execute(
                f"SELECT count(*) FROM courses WHERE provider = ? AND {presence}",
                (self.provider,),
            ).fetchone()[0]
            for presence in (MISSING_FROM_LISTING, RETURNED_TO_LISTING)
        )
        return {
            "fetched": fetched,
            "created": created,
            "updated": updated,
            "unchanged": fetched - created - updated,
            "missing": missing,
            "returned": returned,
        }

    def created(self) -> Iterator[dict]:
        """Staged courses not stored yet, as staged."""
        cursor = self.conn.execute(f"SELECT s.* {_NEW} ORDER BY s.external_id", (self.provider,))
        yield from dicts(cursor)

    def updated(self) -> Iterator[tuple[str, dict[str, tuple[Any, Any]]]]:
        """(external_id, {field: (old, new)}) for each staged course that differs from
        the stored one."""
        cursor = self.conn.execute(
            f"SELECT s.external_id, {qualified('c', COURSE_FIELDS)}, "
            f"{qualified('s', COURSE_FIELDS)} "
            f"FROM stage_courses s JOIN {_STORED} "
            f"WHERE {_CHANGED} ORDER BY s.external_id",
            (self.provider,),
        )
        n = len(COURSE_FIELDS)
        for row in cursor:
            old, new = row[1 : n + 1], row[n + 1 :]
            yield (
                row[0],
                {f: (o, v) for f, o, v in zip(COURSE_FIELDS, old, new, strict=True) if o != v},
            )

    def missing(self) -> Iterator[dict]:
        """Stored, present courses that the complete listing no longer has."""
        cursor = self.conn.execute(
            f"SELECT external_id, title FROM courses WHERE provider = ? AND {MISSING_FROM_LISTING} "
            "ORDER BY external_id",
            (self.provider,),
        )
        yield from dicts(cursor)

    def returned(self) -> Iterator[dict]:
        """Stored courses marked missing that the listing has again."""
        cursor = self.conn.execute(
            "SELECT c.external_id, c.title, c.missing_since FROM courses c "
            "JOIN stage_listed s ON s.external_id = c.external_id "
            "WHERE c.provider = ? AND c.missing_since IS NOT NULL ORDER BY c.external_id",
            (self.provider,),
        )
        yield from dicts(cursor)

    def apply(self, run_id: int, group: str, now: str) -> None:
        """Write the diff: create, update, mark presence, and log each change against
        `run_id`. Runs inside the caller's transaction."""
        provider = self.provider
        self.conn.executemany(
            "INSERT INTO course_changes (run_id, provider, external_id, action, field, old_value,"
            " new_value, changed_at) VALUES (?, ?, ?, 'updated', ?, ?, ?, ?)",
            (
                (run_id, provider, external_id, field, text(old), text(new), now)
                for external_id, changes in list(self.updated())
                for field, (old, new) in changes.items()
            ),
        )
        for action, rows in (("missing", self.missing), ("returned", self.returned)):
            self.conn.executemany(
                _LOG_ACTION + "VALUES (?, ?, ?, ?, ?)",
                [(run_id, provider, r["external_id"], action, now) for r in rows()],
            )
        self.conn.execute(
            f"{_LOG_ACTION}SELECT ?, ?, s.external_id, 'created', ? {_NEW}",
            (run_id, provider, now, provider),
        )
        # New courses land in the synchronized group's catalog and library. Existing
        # group rows are never touched: in_catalog / in_library are the company's choice.
        self.conn.execute(
            "INSERT OR IGNORE INTO group_courses (group_name, provider, external_id, in_catalog,"
            f" in_library, added_at) SELECT ?, ?, s.external_id, 1, 1, ? {_NEW}",
            (group, provider, now, provider),
        )
        # The search index (store/search.py) reads the description as plain text,
        # written here beside it; the index's triggers follow in the same statement.
        self.conn.execute(
            f"INSERT INTO courses (provider, external_id, {', '.join(COURSE_FIELDS)}, "
            "description_text, first_seen_at, last_seen_at, updated_at) "
            f"SELECT ?, s.external_id, {qualified('s', COURSE_FIELDS)}, "
            f"{plain_text_of('s.description')}, ?, ?, ? {_NEW}",
            (provider, now, now, now, provider),
        )
        self.conn.execute(
            f"UPDATE courses SET {', '.join(f'{f} = s.{f}' for f in COURSE_FIELDS)}, "
            f"description_text = {plain_text_of('s.description')}, "
            "last_seen_at = ?, updated_at = ? FROM stage_courses s "
            "WHERE courses.provider = ? AND courses.external_id = s.external_id "
            f"AND ({differs(COURSE_FIELDS, 's', 'courses')})",
            (now, now, provider),
        )
        # Presence: a course the complete listing no longer has is marked missing
        # (archive acts on it); one that is back is cleared. last_seen_at moves only
        # when a row changes, so a night with nothing new writes nothing here.
        self.conn.execute(
            f"UPDATE courses SET missing_since = ?, updated_at = ? WHERE provider = ? "
            f"AND {MISSING_FROM_LISTING}",
            (now, now, provider),
        )
        self.conn.execute(
            "UPDATE courses SET missing_since = NULL, last_seen_at = ?, updated_at = ? "
            f"WHERE provider = ? AND {RETURNED_TO_LISTING}",
            (now, now, provider),
        )
