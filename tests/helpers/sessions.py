"""Program sessions for tests: a sessions file written from dicts, days around today,
and the session tables' rows to compare across nights."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lo_sync.simulator import SimulatorConfig
from tests.helpers.e2e import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "sessions.example.yaml"
SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)


def night(config: Path) -> None:
    """The nightly sequence, through the real CLI under cron; each step must succeed."""
    for command in ("sync-catalog", "archive", "sync-stats"):
        result = run_cli(config, command)
        assert result.code == 0, result.stderr


def yaml_of(*sessions: dict) -> str:
    """A sessions file for the simulator's group, from {name, courses, start?, end?, cohort?}."""
    lines = ["sessions:"]
    for s in sessions:
        lines += [f"  - name: {s['name']}", "    group: Sales Academy"]
        lines += [f"    {k}: {s[k]}" for k in ("start", "end") if s.get(k)]
        lines += ["    courses:"] + [f"      - {p}: '{e}'" for p, e in s["courses"]]
        if s.get("cohort"):
            lines += ["    cohort:"] + [f"      - {email}" for email in s["cohort"]]
    return "\n".join(lines) + "\n"


def day(offset: int) -> str:
    """Today (in UTC, as lo-sync decides open and closed) plus `offset` days."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def session_tables(db: Path) -> list:
    """Every row of the session tables, in key order: what no sync may move."""
    with sqlite3.connect(db) as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("program_sessions", "session_courses", "session_learners")
        ]
