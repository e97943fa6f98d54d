"""jobs.run: one command over the providers, with the database and lock it was given; each
provider in its own guard, so that a bug, a busy database or an interruption is on record."""

from __future__ import annotations

import os
import sqlite3

import pytest
from click.testing import CliRunner

from lo_sync import jobs, sync
from lo_sync.cli import cli
from lo_sync.config import load_config
from lo_sync.errors import EXIT_LOCKED, EXIT_SYNC_FAILED, Interrupted
from lo_sync.output import Reporter
from lo_sync.providers import PROVIDERS
from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import secret_env, unstamped, write_config

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


# --- each provider in its own guard ---------------------------------------------------------


@pytest.fixture
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


def run_in_process(config, *args: str):
    """The CLI in this process, so a test can break one of its parts."""
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=secret_env())


def runs(db):
    with sqlite3.connect(db) as conn:
        sql = "SELECT provider, status, message FROM sync_runs ORDER BY id"
        return conn.execute(sql).fetchall()


def test_an_internal_error_fails_its_provider_alone_on_record_in_one_line(
    tmp_path, sim, monkeypatch, restore_logging
):
    # A bug in Coursera's mapper, as a nesting bomb once was (RecursionError).
    def bomb(record, notes):
        raise RecursionError("maximum recursion depth exceeded while mapping")

    monkeypatch.setattr(type(PROVIDERS["coursera"]), "course_row", staticmethod(bomb))
    config = write_config(tmp_path, sim.url)

    result = run_in_process(config, "sync-catalog")
    debug = run_in_process(config, "-vv", "sync-catalog")

    assert result.exit_code == EXIT_SYNC_FAILED, result.output
    assert unstamped(result.stderr) == [
        "lo-sync: coursera: internal error (RecursionError: maximum recursion depth exceeded "
        "while mapping); nothing of its run was committed. Rerun with -vv for details"
    ]
    assert "Traceback" not in result.output
    # The next provider ran.
    assert "openclassrooms sync-catalog: 10 fetched, 10 created" in result.stdout
    db = tmp_path / "lo-sync.db"
    assert [run[:2] for run in runs(db)] == [
        ("coursera", "failed"),
        ("openclassrooms", "ok"),
        ("coursera", "failed"),
        ("openclassrooms", "ok"),
    ]
    assert runs(db)[0][2].startswith("coursera: internal error (RecursionError: maximum")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT DISTINCT provider FROM courses").fetchall() == [
            ("openclassrooms",)
        ]
    # -vv logs the traceback (redacted, like every log line); the error is still one line.
    assert debug.exit_code == EXIT_SYNC_FAILED
    assert "Traceback (most recent call last)" in debug.stderr
    assert "Traceback" not in debug.stdout


def hold_during(monkeypatch, db, provider: str, sql: str):
    """While `provider`'s catalog is applied, another connection holds the database as
    `sql` leaves it (a write lock, or a read transaction the commit must wait for)."""
    real = sync.apply_catalog

    def apply_while_held(store, pcfg, plan, started_at):
        if pcfg.name != provider:
            return real(store, pcfg, plan, started_at)
        other = sqlite3.connect(db, isolation_level=None)
        try:
            for statement in sql.split(";"):
                other.execute(statement).fetchall()
            return real(store, pcfg, plan, started_at)
        finally:
            other.close()  # lets go: the failed run can be recorded, the next provider run

    monkeypatch.setattr(sync, "apply_catalog", apply_while_held)


@pytest.mark.parametrize(
    "sql",
    ["BEGIN IMMEDIATE", "BEGIN; SELECT count(*) FROM sync_runs"],
    ids=["writer", "reader"],
)
def test_a_database_held_by_another_program_fails_that_provider_after_busy_timeout(
    tmp_path, sim, monkeypatch, sql
):
    config = write_config(tmp_path, sim.url)
    config.write_text(config.read_text() + "busy_timeout: 0.2\n")
    db = tmp_path / "lo-sync.db"
    assert run_in_process(config, "sync-catalog", "--provider", "openclassrooms").exit_code == 0
    hold_during(monkeypatch, db, "coursera", sql)

    result = run_in_process(config, "sync-catalog")

    assert result.exit_code == EXIT_LOCKED, result.output
    message = (
        f"coursera: another process held {db} for 0.2 s; try again when it ends, "
        "or raise busy_timeout in the config to wait longer"
    )
    assert unstamped(result.stderr) == [f"lo-sync: {message}"]
    assert "openclassrooms sync-catalog: 10 fetched" in result.stdout
    assert runs(db)[1:] == [("coursera", "failed", message), ("openclassrooms", "ok", None)]
    with sqlite3.connect(db) as conn:
        sql = "SELECT count(*) FROM courses WHERE provider = 'coursera'"
        assert conn.execute(sql).fetchall() == [(0,)]


# --- interruptions ----------------------------------------------------------------------------


def test_an_interruption_mid_apply_is_recorded_after_the_rollback(tmp_path, sim, monkeypatch):
    from lo_sync.store import CatalogDiff

    real = CatalogDiff.apply

    def apply_then_stop(self, run_id, group, now):
        real(self, run_id, group, now)  # Coursera's courses written, not committed
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(CatalogDiff, "apply", apply_then_stop)
    config = write_config(tmp_path, sim.url)

    result = run_in_process(config, "sync-catalog")

    assert result.exit_code == 130, result.output
    assert unstamped(result.stderr) == [
        "lo-sync: interrupted; what this run had not committed was rolled back"
    ]
    db = tmp_path / "lo-sync.db"
    assert runs(db) == [
        (
            "coursera",
            "interrupted",
            "interrupted (SIGTERM); what this run had not committed was rolled back",
        )
    ]  # and no later provider started
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM courses").fetchall() == [(0,)]


def test_an_interruption_that_left_a_transaction_open_records_without_committing_it(
    tmp_path, sim, monkeypatch
):
    # A signal can land between BEGIN and the `try` that would roll it back.
    def half_begun(store, pcfg, plan, started_at):
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.execute(
            "INSERT INTO learners (email, external_id, name, updated_at) "
            "VALUES ('half@example.com', 'x', 'Half', 'now')"
        )
        raise Interrupted("--max-runtime reached")

    monkeypatch.setattr(sync, "apply_catalog", half_begun)
    config = write_config(tmp_path, sim.url)

    result = run_in_process(config, "sync-catalog")

    assert result.exit_code == 130, result.output
    assert unstamped(result.stderr) == ["lo-sync: --max-runtime reached"]
    db = tmp_path / "lo-sync.db"
    assert runs(db) == [
        (
            "coursera",
            "interrupted",
            "interrupted (--max-runtime reached); what this run had not committed was rolled back",
        )
    ]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM learners").fetchall() == [(0,)]


def test_an_interruption_just_after_a_provider_committed_leaves_its_run_as_ok(store):
    """The signal lands once the run's transaction has committed: that provider is
    done, so no second record calls it interrupted."""
    from tests.helpers.factories import provider_config

    pcfg = provider_config("openclassrooms")
    plan = sync.Plan("archive", pcfg.name, {"archived": 0, "restored": 0})

    def apply_then_interrupted(plan, started_at):
        with store.transaction():
            store.runs.insert("archive", pcfg.name, started_at, "ok", plan.counts)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jobs.run_provider(
            "archive",
            store,
            pcfg,
            dry_run=False,
            make_plan=lambda: plan,
            apply=apply_then_interrupted,
        )

    statuses = store.conn.execute("SELECT command, provider, status FROM sync_runs").fetchall()
    assert statuses == [("archive", "openclassrooms", "ok")]
