"""Disk trouble: each is one clear line on stderr, exit 2, and nothing changed.

A database path in a missing or read-only folder, a read-only database file, a file
that is not SQLite, one written by a newer lo-sync, a damaged one, a full disk.
"Nothing changed" means the database file is byte-identical (or was never created),
no other file appears but the lock, and, where lo-sync can tell before fetching,
the providers were not even asked.

Tests run as root, which ignores permission bits: `make_read_only` (conftest) uses
the immutable attribute then, which binds root too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lo_sync.simulator import Simulator, SimulatorConfig
from tests.helpers.e2e import run_cli, secret_env, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=150,
    openclassrooms_courses=60,
    coursera_enrollments=2000,
    openclassrooms_progress=400,
)
WRITING_COMMANDS = [
    ("sync-catalog",),
    ("archive",),
    ("sync-stats",),
    ("learners", "import", "{csv}"),
]
EVERY_COMMAND = [*WRITING_COMMANDS, ("sync-stats", "--dry-run"), ("stats",)]


def command_id(args):
    return " ".join(a for a in args if "{" not in a)


def first_by_default(values, keep: int = 1):
    """Every value under `pytest -m slow`; only the first `keep` in the default run."""
    return [
        pytest.param(
            v,
            id=command_id(v) if isinstance(v, tuple) else v,
            marks=() if i < keep else pytest.mark.slow,
        )
        for i, v in enumerate(values)
    ]


@pytest.fixture(scope="module")
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def catalog_db(sim, tmp_path_factory):
    """A database after one catalog sync."""
    folder = tmp_path_factory.mktemp("catalog")
    result = run_cli(write_config(folder, sim.url), "sync-catalog")
    assert result.code == 0, result.stderr
    return folder / "lo-sync.db"


@pytest.fixture(scope="module")
def synced_db(sim, catalog_db, tmp_path_factory):
    """A database after one catalog and statistics sync."""
    folder = tmp_path_factory.mktemp("synced")
    shutil.copy(catalog_db, folder / "lo-sync.db")
    result = run_cli(write_config(folder, sim.url), "sync-stats")
    assert result.code == 0, result.stderr
    return folder / "lo-sync.db"


@pytest.fixture
def env(sim, tmp_path):
    """(config, learners csv) in tmp_path; the simulator's request log cleared."""
    sim.set_day(1)
    sim.set_faults(())
    sim.reset_counters()
    csv = tmp_path / "people.csv"
    csv.write_text("email,external_id,name\nada@example.com,1,Ada\n")
    return write_config(tmp_path, sim.url), csv


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run(env, db: Path, args: tuple[str, ...]):
    config, csv = env
    return run_cli(config, "--db", str(db), *(a.format(csv=csv) for a in args))


def assert_one_clear_line(result, *phrases: str) -> None:
    assert result.code == 2, (result.code, result.stderr)
    lines = unstamped(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lo-sync: ") and "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert "internal error" not in lines[0]


# --- folders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", first_by_default(WRITING_COMMANDS, keep=2))
def test_a_database_in_a_missing_folder(env, tmp_path, sim, args):
    before = listing(tmp_path)
    db = tmp_path / "no" / "such" / "lo-sync.db"

    result = run(env, db, args)

    assert_one_clear_line(result, f"database folder {db.parent} does not exist")
    assert listing(tmp_path) == before
    assert sim.request_log == []


def test_a_database_below_a_file_instead_of_a_folder(env, tmp_path, sim):
    (tmp_path / "data").write_text("not a folder")
    before = listing(tmp_path)

    result = run(env, tmp_path / "data" / "lo-sync.db", ("sync-catalog",))

    assert_one_clear_line(result, str(tmp_path / "data"))
    assert listing(tmp_path) == before
    assert (tmp_path / "data").read_text() == "not a folder"
    assert sim.request_log == []


def test_a_database_path_that_is_a_folder(env, tmp_path, sim):
    (tmp_path / "lo-sync.db").mkdir()

    result = run(env, tmp_path / "lo-sync.db", ("sync-catalog",))

    assert_one_clear_line(result, f"cannot open database {tmp_path / 'lo-sync.db'}")
    assert list((tmp_path / "lo-sync.db").iterdir()) == []
    assert sim.request_log == []


@pytest.mark.parametrize("args", first_by_default(WRITING_COMMANDS))
def test_a_new_database_in_a_read_only_folder(env, tmp_path, sim, make_read_only, args):
    folder = tmp_path / "readonly"
    folder.mkdir()
    make_read_only(folder)

    result = run(env, folder / "lo-sync.db", args)

    assert_one_clear_line(result, str(folder / "lo-sync.db"))
    assert list(folder.iterdir()) == []
    assert sim.request_log == []


@pytest.mark.parametrize("args", first_by_default(WRITING_COMMANDS))
def test_an_existing_database_in_a_folder_that_became_read_only(
    env, tmp_path, sim, synced_db, make_read_only, args
):
    # Last night's database and lock file are there and writable, but SQLite cannot
    # create its journal beside them: refuse before fetching, not at the first write.
    folder = tmp_path / "readonly"
    folder.mkdir()
    db = folder / "lo-sync.db"
    shutil.copy(synced_db, db)
    Path(f"{db}.lock").touch()
    before, files = digest(db), listing(folder)
    make_read_only(folder)

    result = run(env, db, args)

    assert_one_clear_line(result, f"database folder {folder} is not writable")
    assert digest(db) == before and listing(folder) == files
    assert sim.request_log == []


@pytest.mark.parametrize("args", first_by_default(WRITING_COMMANDS))
def test_a_read_only_database_file(env, tmp_path, sim, synced_db, make_read_only, args):
    db = tmp_path / "lo-sync.db"
    shutil.copy(synced_db, db)
    before = digest(db)
    make_read_only(db)

    result = run(env, db, args)

    assert_one_clear_line(result, f"database {db} is read-only")
    assert digest(db) == before
    assert sim.request_log == []


def test_a_read_only_database_can_still_be_read(env, tmp_path, synced_db, make_read_only):
    db = tmp_path / "lo-sync.db"
    shutil.copy(synced_db, db)
    make_read_only(db)
    make_read_only(tmp_path)

    dry = run(env, db, ("sync-catalog", "--dry-run"))
    report = run(env, db, ("stats", "--format", "csv"))

    assert dry.code == 0, dry.stderr
    assert "0 created, 0 updated, 150 unchanged" in dry.stdout
    assert report.code == 0, report.stderr


@pytest.mark.parametrize("name", first_by_default(["a?b", "c#d", "e%20f", "g h"], keep=2))
def test_a_folder_name_that_means_something_in_a_uri(env, tmp_path, name):
    # SQLite is opened through a file: URI; unquoted, 'a?b/lo-sync.db' would be 'a'.
    folder = tmp_path / "data" / name
    folder.mkdir(parents=True)
    db = folder / "lo-sync.db"

    result = run(env, db, ("sync-catalog",))
    dry = run(env, db, ("sync-catalog", "--dry-run"))

    assert result.code == 0, result.stderr
    assert sorted(listing(tmp_path / "data")) == [
        name,
        f"{name}/lo-sync.db",
        f"{name}/lo-sync.db.lock",
    ]
    assert sqlite3.connect(db).execute("SELECT count(*) FROM courses").fetchone() == (210,)
    assert "0 created, 0 updated, 150 unchanged" in dry.stdout


# --- files that are not lo-sync's database -----------------------------------------------------


@pytest.mark.parametrize("args", first_by_default(EVERY_COMMAND[::-1], keep=2))
def test_a_file_that_is_not_sqlite(env, tmp_path, sim, args):
    db = tmp_path / "lo-sync.db"
    db.write_bytes(b"email,progress\nada@example.com,40\n" * 200)
    before = digest(db)

    result = run(env, db, args)

    assert_one_clear_line(result, f"{db} is not a SQLite database")
    assert digest(db) == before
    assert sim.request_log == []


def _newer(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('lo_sync', 'm999_from_the_future', '2031-01-01 00:00:00')"
        )
    conn.close()


@pytest.mark.parametrize("args", first_by_default(EVERY_COMMAND, keep=2))
def test_a_database_written_by_a_newer_lo_sync(env, tmp_path, sim, synced_db, args):
    db = tmp_path / "lo-sync.db"
    shutil.copy(synced_db, db)
    _newer(db)
    before = digest(db)

    result = run(env, db, args)

    assert_one_clear_line(
        result,
        f"database {db} was written by a newer lo-sync",
        "m999_from_the_future",
        "upgrade lo-sync",
    )
    assert digest(db) == before
    assert sim.request_log == []


def test_another_tool_s_migrations_in_the_same_file_are_not_mistaken_for_newer_ones(
    env, tmp_path, synced_db
):
    # sqlite_utils.Migrations keeps every set in one table; only 'lo_sync' is ours.
    db = tmp_path / "lo-sync.db"
    shutil.copy(synced_db, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('reporting', 'm001_views', '2026-01-01 00:00:00')"
        )
    conn.close()

    assert run(env, db, ("sync-catalog",)).code == 0


def _damage(db: Path) -> None:
    """Overwrite the root page of the progress table, as a bad disk sector would."""
    conn = sqlite3.connect(db)
    root, page = conn.execute(
        "SELECT rootpage, (SELECT page_size FROM pragma_page_size) "
        "FROM sqlite_master WHERE name = 'progress'"
    ).fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xff" * page)


def test_a_damaged_database(env, tmp_path, synced_db):
    db = tmp_path / "lo-sync.db"
    shutil.copy(synced_db, db)
    _damage(db)
    before = digest(db)

    result = run(env, db, ("sync-stats",))

    assert_one_clear_line(result, "malformed")
    assert digest(db) == before


# --- a full disk -------------------------------------------------------------------------------

# A file size limit makes every write past it fail as a full disk would (Python
# ignores SIGXFSZ, so the write fails with EFBIG instead of killing the process).
_LIMITED = """
import resource, runpy, sys
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv[0] = "lo-sync"
runpy.run_module("lo_sync", run_name="__main__")
"""


@pytest.mark.parametrize("room", ["database", "staging"])
def test_a_full_disk_mid_run_is_one_clear_error_and_changes_nothing(
    env, tmp_path, catalog_db, room
):
    config, _ = env
    db = tmp_path / "lo-sync.db"
    shutil.copy(catalog_db, db)
    before = digest(db)
    # "database": room to stage the fetch but not to store it, so the apply fails;
    # "staging": not even room for the TEMP staging file, so planning fails.
    limit = db.stat().st_size + 16 * 1024 if room == "database" else 16 * 1024
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _LIMITED,
            str(limit),
            "--config",
            str(config),
            "--db",
            str(db),
            "sync-stats",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **secret_env()},
        timeout=120,
    )

    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "the disk refused a write" in done.stderr and "Traceback" not in done.stderr
    assert digest(db) == before
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    again = run(env, db, ("sync-stats",))
    assert again.code == 0, again.stderr
