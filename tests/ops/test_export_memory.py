"""An export streams: its peak Python memory does not grow with the rows it writes.

Rows are inserted straight through SQL (a night against the simulator at a million
rows would take minutes); the export then runs as the CLI runs it, into /dev/null,
under tracemalloc."""

from __future__ import annotations

import os
import tracemalloc

import pytest

from lo_sync.export import export
from lo_sync.store import Store

# Peak Python allocations an export may reach, at any size: a few batches of rows,
# the csv writer, and the interpreter's own caches.
CEILING = 3 * 1024 * 1024


def database_with_progress_rows(path, count: int) -> None:
    store = Store.open(path)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO sync_runs (id, command, provider, started_at, finished_at, status) "
            "VALUES (1, 'sync-stats', 'coursera', '2026-12-01T03:00:00Z', "
            "'2026-12-01T03:10:00Z', 'ok')"
        )
        # In key order (course, then learner), as a sync writes them.
        store.conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
            INSERT INTO progress (provider, course_external_id, learner_key, learner_email,
                learner_external_id, learner_name, content_type, progress_percent, completed,
                completed_at, score_percent, time_spent_minutes, time_spent_theoretical,
                last_activity_at, regression, first_run_id, last_run_id)
            SELECT 'coursera', printf('course-%04d', i / 1000),
                printf('learner%07d@example.com', i),
                printf('learner%07d@example.com', i), printf('EMP-%07d', i),
                'Learner ' || i, 'Course', i % 101, i % 101 = 100, NULL, 75.5, 12.25, 0,
                '2026-11-30T10:00:00Z', 0, 1, 1
            FROM n
            """,
            (count,),
        )
    store.close()


def peak_of_export(path, fmt: str) -> tuple[int, int]:
    """(rows written, peak bytes allocated while writing them)."""
    store = Store.open(path, readonly=True)
    try:
        with open(os.devnull, "w", encoding="utf-8") as sink:
            tracemalloc.start()
            try:
                rows = export(store, "progress", (), None, fmt, sink)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    finally:
        store.close()
    return rows, peak


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_peak_memory_is_the_same_at_1000_and_at_20000_rows(tmp_path, fmt):
    peaks = []
    for count in (1_000, 20_000):
        path = tmp_path / f"{count}.db"
        database_with_progress_rows(path, count)
        rows, peak = peak_of_export(path, fmt)
        assert rows == count
        peaks.append(peak)

    small, large = peaks
    assert large < CEILING, f"{large:,} bytes at 20,000 rows"
    # 20 times the rows, not noticeably more memory (a list of the rows would be 20x).
    assert large < small * 1.5 + 64 * 1024, peaks


@pytest.mark.slow
def test_a_million_progress_rows_export_in_flat_memory(tmp_path):
    path = tmp_path / "million.db"
    database_with_progress_rows(path, 1_000_000)

    rows, peak = peak_of_export(path, "csv")

    assert rows == 1_000_000
    assert peak < CEILING, f"{peak:,} bytes at a million rows"
