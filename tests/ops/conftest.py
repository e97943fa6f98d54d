"""Two nights against the simulator, shared by the ops tests: the real sync-catalog,
archive and sync-stats, the company's people imported; the next day sync-catalog and
OpenClassrooms' sync-stats, then a sync-stats of Coursera that a simulator fault made
fail. Tests that change the database work on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lo_sync.simulator import Fault, Simulator
from lo_sync.simulator.learners import write_hr_export
from tests.helpers.e2e import run_cli, write_config
from tests.helpers.ops import SMALL, Night


@pytest.fixture(scope="package")
def night(tmp_path_factory) -> Night:
    folder = tmp_path_factory.mktemp("night")
    with Simulator(SMALL) as sim:
        config = write_config(folder, sim.url)
        for command in ("sync-catalog", "archive", "sync-stats"):
            done = run_cli(config, command)
            assert done.code == 0, done.stderr
        imported = write_hr_export(folder / "people.csv", SMALL)
        done = run_cli(config, "learners", "import", str(folder / "people.csv"))
        assert done.code == 0, done.stderr
        # The next day: catalog changes at both, statistics changes at OpenClassrooms.
        sim.set_day(2)
        for args in (("sync-catalog",), ("sync-stats", "--provider", "openclassrooms")):
            done = run_cli(config, *args)
            assert done.code == 0, done.stderr
        sim.set_faults((Fault("broken_page", page=0),))
        failed = run_cli(config, "sync-stats", "--provider", "coursera")
        assert failed.code == 1, failed.stdout + failed.stderr
    return Night(config, folder / "lo-sync.db", imported)


@pytest.fixture
def copy(night, tmp_path) -> Path:
    """A copy of the night's database, for a test to change."""
    path = tmp_path / "copy.db"
    shutil.copyfile(night.db, path)
    return path
