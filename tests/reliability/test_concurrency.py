"""Two lo-sync runs at once against the same database, and locks left by dead runs.

The README promises: lo-sync takes its own lock beside the database (`<db>.lock`);
a second run exits at once with code 4 and `another lo-sync run holds <path>`; the
lock is released by the kernel however the process ends, so a killed run never
blocks the next night; nothing is corrupted.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from lo_sync.errors import EXIT_LOCKED
from lo_sync.simulator import Fault, Simulator, SimulatorConfig
from tests.helpers.database import content_difference, content_of
from tests.helpers.e2e import run_cli, secret_env, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=200,
    openclassrooms_courses=80,
    coursera_enrollments=1500,
    openclassrooms_progress=500,
)
# Slow enough that a run is still fetching when the test kills it.
SLOW = Fault("slow", seconds=0.4)


@pytest.fixture(scope="module")
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def night1(sim, tmp_path_factory):
    """A database after the first night's catalog sync, and the config pointing at `sim`."""
    folder = tmp_path_factory.mktemp("night1")
    config = write_config(folder, sim.url)
    result = run_cli(config, "sync-catalog")
    assert result.code == 0, result.stderr
    return config, folder / "lo-sync.db"


@pytest.fixture
def setup(sim, night1, tmp_path):
    """A fresh copy of night 1's database in tmp_path, its config, and the simulator reset."""
    config, template = night1
    shutil.copy(template, tmp_path / "lo-sync.db")
    sim.set_day(1)
    sim.set_faults(())
    sim.reset_counters()
    return write_config(tmp_path, sim.url), tmp_path / "lo-sync.db"


def start(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lo_sync", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **secret_env()},
    )


@contextmanager
def statistics_held(sim: Simulator):
    """Every statistics request waits until the block ends, so a run started inside it
    is still fetching, holding its lock, however fast or loaded the machine is."""
    released = threading.Event()
    app = sim._app
    original = app.handle

    def handle(request):
        if "enrollmentReports" in request.target or "learners/progress" in request.target:
            released.wait(timeout=60)
        return original(request)

    app.handle = handle
    try:
        yield
    finally:
        released.set()
        app.handle = original


def wait_for_lock(proc: subprocess.Popen, db: Path, timeout: float = 20) -> None:
    """Until `proc` holds the database's lock (it writes its pid into the lock file)."""
    lock = Path(f"{db}.lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if lock.exists() and lock.read_text() == f"{proc.pid}\n":
            return
        time.sleep(0.01)
    raise AssertionError("the first run never took the lock")


def assert_sound(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def reference_after(config: Path, db: Path, *args: str) -> dict:
    """The content an uninterrupted run of `args` leaves, run on a copy of `db` now."""
    copy = db.parent / "reference" / db.name
    copy.parent.mkdir()
    shutil.copy(db, copy)
    result = run_cli(config, "--db", str(copy), *args)
    assert result.code == 0, result.stderr
    return content_of(copy)


def test_a_second_run_exits_4_at_once_and_the_first_completes_untouched(setup, sim):
    config, db = setup
    expected = reference_after(config, db, "sync-stats")
    with statistics_held(sim):
        first = start(config, "sync-stats")
        wait_for_lock(first, db)
        second = run_cli(config, "sync-catalog")
        # "At once": the refused run ended while the first still held the lock.
        still_running = first.poll() is None
    out, err = first.communicate(timeout=120)

    assert still_running, "the first run ended before the second: it may have waited for it"
    assert second.code == EXIT_LOCKED, second.stderr
    assert unstamped(second.stderr) == [
        f"lo-sync: another lo-sync run holds {db}; try again when it ends"
    ]
    assert second.stdout == ""
    assert first.returncode == 0, err
    assert "openclassrooms sync-stats" in out
    assert_sound(db)
    content = content_of(db)
    assert content == expected, content_difference(content, expected)
    runs = sqlite3.connect(db).execute("SELECT command, status FROM sync_runs").fetchall()
    assert runs[-2:] == [("sync-stats", "ok")] * 2 and all(s == "ok" for _, s in runs), runs


@pytest.mark.parametrize(
    "args",
    [
        ("archive",),
        ("sync-stats", "--provider", "openclassrooms"),
        ("learners", "import", "people.csv"),
    ],
)
def test_every_writing_command_respects_the_lock(setup, args):
    config, db = setup
    (db.parent / "people.csv").write_text("email,external_id,name\nada@example.com,1,Ada\n")
    before = db.read_bytes()
    with open(f"{db}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_cli(config, *(str(db.parent / a) if a.endswith(".csv") else a for a in args))

    assert result.code == EXIT_LOCKED, result.stderr
    assert unstamped(result.stderr) == [
        f"lo-sync: another lo-sync run holds {db}; try again when it ends"
    ]
    assert db.read_bytes() == before


def test_two_runs_started_together_on_a_new_folder_one_runs_one_is_refused(sim, tmp_path):
    sim.set_day(1)
    sim.set_faults((Fault("slow", seconds=0.3),))
    config = write_config(tmp_path, sim.url)

    pair = [start(config, "sync-catalog") for _ in range(2)]
    outcomes = sorted((proc.wait(timeout=120), proc.stderr.read()) for proc in pair)
    for proc in pair:
        proc.stdout.close()
        proc.stderr.close()

    assert [code for code, _ in outcomes] == [0, EXIT_LOCKED], outcomes
    assert "another lo-sync run holds" in outcomes[1][1]
    db = tmp_path / "lo-sync.db"
    assert_sound(db)
    assert sqlite3.connect(db).execute(
        "SELECT provider, status, created FROM sync_runs ORDER BY id"
    ).fetchall() == [("coursera", "ok", 200), ("openclassrooms", "ok", 80)]


@pytest.mark.parametrize(
    "sig",
    [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["SIGKILL", "SIGTERM"],
)
def test_a_lock_left_by_a_dead_run_does_not_block_the_next_night(setup, sim, sig):
    config, db = setup
    expected = reference_after(config, db, "sync-stats")
    sim.set_faults((SLOW,))
    victim = start(config, "sync-stats")
    wait_for_lock(victim, db)
    victim.send_signal(sig)
    victim.communicate(timeout=60)
    lock = Path(f"{db}.lock")
    assert lock.read_text() == f"{victim.pid}\n", "the dead run's lock file should still be there"
    sim.set_faults(())

    result = run_cli(config, "sync-stats")

    assert result.code == 0, result.stderr
    assert_sound(db)
    assert content_of(db) == expected


def test_a_lock_file_naming_a_live_process_does_not_block_when_nobody_holds_it(setup):
    # The pid inside is for people; only the kernel's flock decides.
    config, db = setup
    Path(f"{db}.lock").write_text(f"{os.getpid()}\n")

    result = run_cli(config, "archive")

    assert result.code == 0, result.stderr


def test_a_dry_run_during_a_real_run_neither_waits_for_nor_disturbs_it(setup, sim):
    config, db = setup
    expected = reference_after(config, db, "sync-stats")
    with statistics_held(sim):
        writer = start(config, "sync-stats")
        wait_for_lock(writer, db)

        dry = run_cli(config, "sync-catalog", "--dry-run", "--provider", "openclassrooms")
        report = run_cli(config, "stats", "--format", "csv")

        assert writer.poll() is None, "the real run ended first: the check proves nothing"
    assert dry.code == 0, dry.stderr
    assert "dry run: openclassrooms sync-catalog: 80 fetched, 0 created" in dry.stdout
    assert report.code == 0, report.stderr
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert_sound(db)
    assert content_of(db) == expected


# Another program's hold on the file (not lo-sync's lock): a writer mid-transaction, or a
# reader whose open transaction keeps the commit waiting (a BI tool stepping through rows).
HOLDS = {
    "writer": "BEGIN IMMEDIATE; INSERT INTO course_tags VALUES ('coursera', 'x', 'held')",
    "reader": "BEGIN; SELECT count(*) FROM courses",
}
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
for statement in sys.argv[2].split(";"):
    conn.execute(statement).fetchall()
print("holding", flush=True)
sys.stdin.read()  # until the test closes it
"""


@pytest.mark.parametrize("hold", sorted(HOLDS))
def test_a_database_another_program_holds_is_waited_for_busy_timeout_then_named(setup, hold):
    config, db = setup
    config.write_text(config.read_text() + "busy_timeout: 0.5\n")
    before = content_of(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), HOLDS[hold]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        started = time.monotonic()
        result = run_cli(config, "sync-catalog")
        took = time.monotonic() - started
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)

    assert result.code == EXIT_LOCKED, result.stderr
    held = (
        f"another process held {db} for 0.5 s; try again when it ends, "
        "or raise busy_timeout in the config to wait longer"
    )
    # Each provider waited (its write, then its failure's record) and failed alone.
    assert unstamped(result.stderr) == [
        f"lo-sync: {provider}: {held} (not recorded in sync_runs: the database stayed busy)"
        for provider in ("coursera", "openclassrooms")
    ]
    assert "internal error" not in result.stderr
    assert 2 * 0.5 <= took < 30, took
    assert_sound(db)
    assert content_of(db) == before


@pytest.mark.slow
def test_many_pairs_of_simultaneous_runs(sim, tmp_path):
    """Twenty rounds of two commands started together against one database."""
    sim.set_day(1)
    sim.set_faults((Fault("slow", seconds=0.01),))
    config = write_config(tmp_path, sim.url)
    db = tmp_path / "lo-sync.db"
    commands = [("sync-catalog",), ("archive",), ("sync-stats",), ("sync-catalog",)]
    tally = {0: 0, EXIT_LOCKED: 0}
    assert run_cli(config, "sync-catalog").code == 0
    for round_ in range(20):
        pair = [start(config, *commands[(round_ + k) % len(commands)]) for k in range(2)]
        for proc in pair:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode in (0, EXIT_LOCKED), err
            if proc.returncode == EXIT_LOCKED:
                assert unstamped(err)[0].startswith("lo-sync: another lo-sync run holds"), err
            tally[proc.returncode] += 1
        assert_sound(db)
    assert tally[EXIT_LOCKED] > 0, tally
    runs = sqlite3.connect(db).execute("SELECT status, count(*) FROM sync_runs GROUP BY 1")
    assert dict(runs.fetchall()).keys() == {"ok"}
