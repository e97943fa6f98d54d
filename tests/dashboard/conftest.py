"""A database filled by the real CLI against the simulator over two nights, shared by the
dashboard tests, and a way to write the dashboard of it (or of a copy) and read it back."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from lo_sync.simulator import Simulator, SimulatorConfig
from tests.dashboard.helpers import HOSTILE
from tests.helpers.e2e import run_cli, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)
NIGHT = (("sync-catalog",), ("archive",), ("sync-stats",))


@pytest.fixture(scope="session")
def night(tmp_path_factory):
    """The config of a database after two nights (catalog, archive, statistics), whose
    most-followed course's title is HOSTILE: the simulator draws titles from fixed pools,
    so the title is written where a provider's title lands."""
    folder = tmp_path_factory.mktemp("night")
    with Simulator(SMALL) as sim:
        config = write_config(folder, sim.url)
        for day in (1, 2):
            sim.set_day(day)
            for args in NIGHT:
                done = run_cli(config, *args)
                assert done.code == 0, done.stderr
    with sqlite3.connect(folder / "lo-sync.db") as conn:
        provider, course = conn.execute(
            "SELECT provider, course_external_id FROM progress p WHERE completed = 1 "
            "AND EXISTS (SELECT 1 FROM courses c WHERE c.provider = p.provider "
            "AND c.external_id = p.course_external_id) "
            "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE courses SET title = ? WHERE provider = ? AND external_id = ?",
            (HOSTILE, provider, course),
        )
    conn.close()
    return config


@pytest.fixture
def copy_of(tmp_path):
    """`copy_of(config)`: the same database and config in a folder of this test's own."""

    def copy(config):
        shutil.copy(config, tmp_path / config.name)
        shutil.copy(config.parent / "lo-sync.db", tmp_path / "lo-sync.db")
        return tmp_path / config.name

    return copy
