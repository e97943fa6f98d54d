"""jobs.run: one command over the providers, with the database and lock it was given."""

from __future__ import annotations

import os

from lo_sync import jobs
from lo_sync.config import load_config
from lo_sync.output import Reporter
from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import secret_env, write_config

SMALL = SimulatorConfig(
    coursera_contents=20, openclassrooms_courses=10, coursera_enrollments=40,
    openclassrooms_progress=20,
)  # fmt: skip


def test_a_locked_run_tells_each_fetch_worker_to_close_the_database_lock(
    tmp_path, monkeypatch, capsys
):
    told: list[tuple[int, ...]] = []

    class RecordingFetch(jobs.Fetch):
        def pages(self, known=None):
            told.append(self.close_fds)
            return super().pages(known)

    monkeypatch.setattr(jobs, "Fetch", RecordingFetch)
    for name, value in secret_env().items():
        monkeypatch.setenv(name, value)
    with Simulator(SMALL) as sim:
        config = load_config(write_config(tmp_path, sim.url))
        with jobs.open_database(config.database, write=True) as database:
            (lock_fd,) = database.private_fds
            lock_target = os.readlink(f"/proc/self/fd/{lock_fd}")
            code = jobs.run(
                "sync-catalog",
                database,
                config,
                list(config.providers.values()),
                Reporter(quiet=True),
                jobs.Options(),
            )

    assert code == 0
    assert lock_target == f"{config.database}.lock"
    assert told == [(lock_fd,), (lock_fd,)]


def test_a_dry_run_takes_no_lock_and_creates_no_file(tmp_path):
    path = tmp_path / "lo-sync.db"
    with jobs.open_database(path, write=False) as database:
        assert database.private_fds == ()
    assert list(tmp_path.iterdir()) == []


def test_the_command_deadline_is_max_runtime_from_the_start_and_names_its_setting():
    from dataclasses import replace
    from pathlib import Path

    from lo_sync.config import parse_config
    from lo_sync.http import Deadline

    config = parse_config(
        {"providers": {"openclassrooms": {"organization_id": "42", "client_id": "c",
                                          "client_secret": "s", "group": "G"}}},
        base_dir=Path("/"),
    )  # fmt: skip

    assert jobs.command_deadline(config, None, 100.0) == Deadline(
        100.0 + 6 * 3600, "the time limit for the whole command (max_runtime 6h)"
    )
    assert jobs.command_deadline(replace(config, max_runtime=1800.0), None, 0.0).bound == (
        "the time limit for the whole command (max_runtime 30m)"
    )
    assert jobs.command_deadline(config, 90.0, 100.0) == Deadline(
        190.0, "the time limit for the whole command (--max-runtime 90s)"
    )
