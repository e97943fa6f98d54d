"""Archiving: which courses to archive or restore after a complete catalog sync, and doing it."""

from __future__ import annotations

import sqlite3

ArchiveRow = tuple[str, str, str, bool]  # (external_id, title, reason, ever_offered)


class Archive:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def candidates(
        self, provider: str, active_statuses: frozenset[str] | None
    ) -> tuple[list[ArchiveRow], list[tuple[str, str]], int]:
        """(to_archive [(id, title, reason, ever_offered)], to_restore [(id, title)], active_count).

        `ever_offered` is false for a course whose status has never been one of the
        offered statuses, neither when it was created nor in any recorded change:
        learners were never offered it, so archiving it cannot hurt them.
        """
        params: dict[str, str] = {"provider": provider}
        if active_statuses:
            names = [f":status{i}" for i in range(len(active_statuses))]
            params.update(zip((n[1:] for n in names), sorted(active_statuses), strict=True))
            offered = f"IN ({', '.join(names)})"
            bad_status = f"(status IS NULL OR status NOT {offered})"
            ever_offered = (
                f"(status {offered} OR EXISTS (SELECT 1 FROM course_changes ch "
                "WHERE ch.provider = courses.provider AND ch.external_id = courses.external_id "
                f"AND ch.field = 'status' AND (ch.old_value {offered} OR ch.new_value {offered})))"
            )
        else:
            bad_status, ever_offered = "0", "1"
        to_archive = [
            (
                r[0],
                r[1],
                "missing from provider" if r[2] is not None else f"status {r[3]}",
                bool(r[4]),
            )
            for r in self.conn.execute(
                f"SELECT external_id, title, missing_since, status, {ever_offered} FROM courses "
                "WHERE provider = :provider AND archived = 0 "
                f"AND (missing_since IS NOT NULL OR {bad_status}) ORDER BY external_id",
                params,
            )
        ]
        to_restore = [
            (r[0], r[1])
            for r in self.conn.execute(
                "SELECT external_id, title FROM courses WHERE provider = :provider "
                f"AND archived = 1 AND missing_since IS NULL AND NOT {bad_status} "
                "ORDER BY external_id",
                params,
            )
        ]
        active = self.conn.execute(
            "SELECT count(*) FROM courses WHERE provider = ? AND archived = 0", (provider,)
        ).fetchone()[0]
        return to_archive, to_restore, active

    def apply(
        self,
        provider: str,
        run_id: int,
        now: str,
        to_archive: list[ArchiveRow],
        to_restore: list[tuple[str, str]],
    ) -> None:
        """Archive and restore as `candidates` listed, logging each against `run_id`."""
        self.conn.executemany(
            "UPDATE courses SET archived = 1, archived_at = ?, archive_reason = ?, updated_at = ? "
            "WHERE provider = ? AND external_id = ?",
            [(now, reason, now, provider, ext) for ext, _, reason, _ in to_archive],
        )
        self.conn.executemany(
            "UPDATE courses SET archived = 0, archived_at = NULL, archive_reason = NULL, "
            "updated_at = ? WHERE provider = ? AND external_id = ?",
            [(now, provider, ext) for ext, _ in to_restore],
        )
        self.conn.executemany(
            "INSERT INTO course_changes (run_id, provider, external_id, action, field, old_value,"
            " new_value, changed_at) VALUES (?, ?, ?, ?, 'archived', ?, ?, ?)",
            [
                (run_id, provider, ext, "archived", "0", f"1 ({reason})", now)
                for ext, _, reason, _ in to_archive
            ]
            + [(run_id, provider, ext, "restored", "1", "0", now) for ext, _ in to_restore],
        )
