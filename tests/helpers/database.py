"""A database's content, comparable across runs: what the reliability tests compare."""

from __future__ import annotations

# Every table lo-sync writes but the run log (a killed run's attempts differ from a clean one's).
CONTENT_TABLES = (
    "courses",
    "group_courses",
    "course_tags",
    "course_changes",
    "rejected_records",
    "learners",
    "progress",
    "progress_history",
)
# Wall-clock columns differ between two runs that do the same thing: keep only whether they are set.
CLOCK_COLUMNS = {
    "archived_at",
    "missing_since",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "added_at",
    "changed_at",
}
RUN_COLUMNS = {"run_id", "first_run_id", "last_run_id"}


def content_of(path) -> dict:
    """The database's content as {table: Counter(normalized rows)}, comparable across runs.

    Row ids are dropped, clock columns reduced to set / not set, and run ids replaced
    by the command and provider of their run. A missing file is an empty database.
    Opening read-write lets SQLite roll back a hot journal first, as any reader does.
    """
    import sqlite3
    from collections import Counter
    from pathlib import Path

    content = {table: Counter() for table in CONTENT_TABLES}
    if not Path(path).exists():
        return content
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        runs = {}
        if "sync_runs" in tables:
            runs = {
                i: f"{c}/{p}"
                for i, c, p in conn.execute("SELECT id, command, provider FROM sync_runs")
            }
        for table in CONTENT_TABLES:
            if table not in tables:
                continue
            cursor = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            for row in cursor:
                content[table][
                    tuple(
                        (
                            name,
                            runs.get(value, value)
                            if name in RUN_COLUMNS
                            else (value is not None)
                            if name in CLOCK_COLUMNS
                            else value,
                        )
                        for name, value in zip(names, row, strict=True)
                        if name != "id"
                    )
                ] += 1
    finally:
        conn.close()
    return content


def content_difference(actual: dict, expected: dict, limit: int = 3) -> str:
    """A short account of how two `content_of` results differ, for assertion messages."""
    lines = []
    for table in CONTENT_TABLES:
        extra = actual[table] - expected[table]
        lacking = expected[table] - actual[table]
        if extra or lacking:
            lines.append(
                f"{table}: {sum(extra.values())} unexpected rows, "
                f"{sum(lacking.values())} expected rows absent"
            )
            lines += [f"  + {dict(row)}" for row in list(extra)[:limit]]
            lines += [f"  - {dict(row)}" for row in list(lacking)[:limit]]
    return "\n".join(lines) or "identical"
