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
from lo_sync.simulator import Simulator
from tests.helpers.e2e import write_config
from tests.helpers.sessions import SMALL, night


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
