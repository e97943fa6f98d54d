"""One simulated company for every test here: two nights of real sync-catalog,
archive and sync-stats against the simulator, and the company's HR export; each
test gets its own copy of the database."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lo_sync.cli import cli
from lo_sync.simulator import Simulator, SimulatorConfig
from lo_sync.simulator.learners import write_hr_export
from tests.helpers.e2e import secret_env, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)


def invoke(*args: str, env: dict | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="session")
def night(tmp_path_factory) -> Path:
    """A folder holding the database after two nights (day 2 archives courses the
    simulator removed) and people.csv, the company's HR export."""
    folder = tmp_path_factory.mktemp("company")
    env = secret_env()
    with Simulator(SMALL) as sim:
        config = str(write_config(folder, sim.url))
        for day in (1, 2):
            sim.set_day(day)
            for command in ("sync-catalog", "archive", "sync-stats"):
                result = invoke("--config", config, command, env=env)
                assert result.exit_code == 0, result.output
    write_hr_export(folder / "people.csv", SMALL)
    return folder


@pytest.fixture
def company(night, tmp_path) -> Path:
    """A copy of the two nights' folder, this test's to change."""
    shutil.copy(night / "lo-sync.db", tmp_path / "lo-sync.db")
    shutil.copy(night / "people.csv", tmp_path / "people.csv")
    return tmp_path


@pytest.fixture
def lo(company) -> Callable[..., Result]:
    """`lo("stats", "--format", "csv")`: the real CLI on this test's database."""

    def run(*args: str) -> Result:
        return invoke("--db", str(company / "lo-sync.db"), *args)

    return run
