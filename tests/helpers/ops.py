"""The ops commands' tests: the night they share, and the CLI run in this process."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from lo_sync.cli import cli
from lo_sync.simulator import SimulatorConfig
from tests.helpers.e2e import Result, secret_env

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)


@dataclass(frozen=True)
class Night:
    config: Path
    db: Path
    imported: int  # how many of the simulated learners the HR export lists


def invoke(night: Night, *args: str, db: Path | None = None) -> Result:
    """The real CLI, in this process, on the night's config (and `db`, if given)."""
    argv = ["--config", str(night.config)]
    if db is not None:
        argv += ["--db", str(db)]
    done = CliRunner().invoke(cli, [*argv, *args], env=secret_env(), catch_exceptions=False)
    return Result(done.exit_code, done.stdout, done.stderr)


def sql(db: Path, statement: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(statement, params).fetchall()
    conn.close()
    return rows
