"""A database filled by a real night against the simulator (sync-catalog, archive,
sync-stats, run once per test session and copied for each test), and the CLI driven
in-process on it."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lo_sync.cli import cli
from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import run_cli, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)
EXAMPLE = Path(__file__).resolve().parents[2] / "sessions.example.yaml"


def night(config: Path) -> None:
    for command in ("sync-catalog", "archive", "sync-stats"):
        result = run_cli(config, command)
        assert result.code == 0, result.stderr


@pytest.fixture(scope="session")
def filled_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("night")
    with Simulator(SMALL) as sim:
        night(write_config(folder, sim.url))
    return folder / "lo-sync.db"


@dataclass
class Lo:
    """`lo-sync --db <db> ...` in-process, as cron runs it (stdout is no terminal)."""

    db: Path

    def __call__(self, *args: str):
        return CliRunner().invoke(cli, ["--db", str(self.db), *args])

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def write(self, name: str, text: str) -> Path:
        path = self.db.parent / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def lo(filled_db, tmp_path) -> Lo:
    db = tmp_path / "lo-sync.db"
    shutil.copy(filled_db, db)
    return Lo(db)


def session_tables(db: Path) -> list:
    """Every row of the session tables, in key order: what must not move."""
    with sqlite3.connect(db) as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("program_sessions", "session_courses", "session_learners")
        ]
