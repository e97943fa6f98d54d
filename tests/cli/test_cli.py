"""The real CLI, end to end, against the built-in simulator."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from lo_sync.simulator import CREDENTIALS, Fault, Simulator, SimulatorConfig
from lo_sync.simulator.client_config import config_yaml
from lo_sync.simulator.messages import Response
from tests.helpers.e2e import run_cli, secret_env, unstamped, write_config

SMALL = SimulatorConfig(
    coursera_contents=120,
    openclassrooms_courses=60,
    coursera_enrollments=600,
    openclassrooms_progress=300,
)


@pytest.fixture
def sim():
    with Simulator(SMALL) as simulator:
        yield simulator


@pytest.fixture
def config(tmp_path, sim):
    return write_config(tmp_path, sim.url)


def query(config, sql):
    with sqlite3.connect(config.parent / "lo-sync.db") as conn:
        return conn.execute(sql).fetchall()


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_night_under_cron_prints_one_line_per_provider_and_fills_the_database(config):
    result = run_cli(config, "sync-catalog")

    assert result.code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "coursera sync-catalog: 120 fetched, 120 created" in lines[0]
    assert "openclassrooms sync-catalog: 60 fetched" in lines[1]
    assert query(config, "SELECT provider, count(*) FROM courses GROUP BY 1") == [
        ("coursera", 120),
        ("openclassrooms", 60),
    ]

    assert run_cli(config, "archive").code == 0
    assert query(
        config, "SELECT count(*) FROM courses WHERE provider = 'coursera' AND archived = 1"
    ) == [(0,)]
    # every OpenClassrooms course outside the three offered statuses is archived
    assert query(
        config,
        "SELECT count(*) FROM courses WHERE provider = 'openclassrooms' AND "
        "archived = 0 AND status NOT IN ('active', 'coming-soon', 'pre-registration')",
    ) == [(0,)]

    stats = run_cli(config, "sync-stats")
    assert stats.code == 0, stats.stderr
    assert query(config, "SELECT count(*) > 0 FROM progress WHERE provider = 'coursera'") == [(1,)]
    assert query(config, "SELECT count(*) > 0 FROM progress WHERE provider = 'openclassrooms'") == [
        (1,)
    ]

    again = run_cli(config, "sync-catalog")
    assert "0 created, 0 updated, 120 unchanged" in again.stdout


def test_the_next_day_updates_archives_and_keeps_an_undone_completion(config, sim):
    for command in ("sync-catalog", "archive", "sync-stats"):
        assert run_cli(config, command).code == 0
    sim.set_day(2)

    catalog = run_cli(config, "sync-catalog")
    archive = run_cli(config, "archive")
    stats = run_cli(config, "sync-stats")

    assert (catalog.code, archive.code, stats.code) == (0, 0, 0), archive.stderr + stats.stderr
    assert query(config, "SELECT count(*) > 0 FROM course_changes WHERE action = 'updated'") == [
        (1,)
    ]
    assert query(
        config, "SELECT count(*) > 0 FROM courses WHERE archive_reason = 'missing from provider'"
    ) == [(1,)]
    # the simulator undoes one learner's completion at each provider
    assert query(
        config,
        "SELECT provider, regressions FROM sync_runs WHERE command = 'sync-stats' ORDER BY id",
    ) == [("coursera", 0), ("openclassrooms", 0), ("coursera", 1), ("openclassrooms", 1)]
    assert query(
        config, "SELECT provider, completed FROM progress WHERE regression = 1 ORDER BY 1"
    ) == [("coursera", 1), ("openclassrooms", 1)]


def test_a_dry_run_on_a_missing_database_prints_the_plan_and_creates_nothing(config):
    result = run_cli(config, "sync-catalog", "--dry-run")

    assert result.code == 0, result.stderr
    assert "coursera create" in result.stdout
    assert "dry run: coursera sync-catalog: 120 fetched, 120 created" in result.stdout
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.yaml"]


def test_a_dry_run_leaves_an_existing_database_byte_identical(config, sim):
    assert run_cli(config, "sync-catalog").code == 0
    assert run_cli(config, "sync-stats").code == 0
    db = config.parent / "lo-sync.db"
    before, files = digest(db), sorted(p.name for p in config.parent.iterdir())
    sim.set_day(2)

    for command in ("sync-catalog", "archive", "sync-stats"):
        result = run_cli(config, command, "--dry-run")
        assert result.code == 0, result.stderr
        assert "dry run:" in result.stdout

    assert digest(db) == before
    assert sorted(p.name for p in config.parent.iterdir()) == files


def test_update_lines_show_each_changed_field_old_to_new(config, sim):
    assert run_cli(config, "sync-catalog").code == 0
    sim.set_day(2)

    result = run_cli(config, "sync-catalog", "--dry-run")

    assert any(
        " update " in line and "title: " in line and " → " in line
        for line in result.stdout.splitlines()
    )


def test_one_provider_failing_does_not_stop_the_other(tmp_path, sim):
    config = write_config(
        tmp_path, sim.url, **{CREDENTIALS["openclassrooms"]["organization_id"]: "9999"}
    )

    result = run_cli(config, "sync-catalog")

    assert result.code == 1
    assert "coursera sync-catalog: 120 fetched" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "openclassrooms" in result.stderr and "HTTP 40" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(config, "SELECT provider, status FROM sync_runs ORDER BY id") == [
        ("coursera", "ok"),
        ("openclassrooms", "failed"),
    ]
    assert query(config, "SELECT count(*) FROM courses WHERE provider = 'openclassrooms'") == [(0,)]


def test_provider_option_limits_the_run(config):
    result = run_cli(config, "sync-catalog", "--provider", "openclassrooms")
    assert result.code == 0
    assert query(config, "SELECT DISTINCT provider FROM courses") == [("openclassrooms",)]


def test_archive_refuses_when_the_catalog_sync_failed(config, sim):
    assert run_cli(config, "sync-catalog").code == 0
    sim.set_faults((Fault("broken_page", page=0),))
    assert run_cli(config, "sync-catalog", "--provider", "coursera").code == 1

    result = run_cli(config, "archive", "--provider", "coursera")

    assert result.code == 3
    assert "did not complete" in result.stderr


def test_a_rate_limit_storm_is_ridden_out_with_correct_data(config, sim):
    sim.set_faults((Fault("rate_limit", every=2, retry_after=0),))

    result = run_cli(config, "sync-catalog")

    assert result.code == 0, result.stderr
    assert query(config, "SELECT count(*) FROM courses") == [(180,)]
    assert any(status == 429 for _, _, status in sim.request_log)


def test_tokens_expiring_mid_paging_are_renewed(tmp_path, sim):
    sim.set_faults((Fault("token_expiry", every=1),))
    config = write_config(tmp_path, sim.url)
    result = run_cli(config, "sync-catalog")
    assert result.code == 0, result.stderr
    assert query(config, "SELECT count(*) FROM courses") == [(180,)]


def test_a_second_run_on_a_locked_database_exits_at_once(config):
    lock = open(str(config.parent / "lo-sync.db.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        result = run_cli(config, "sync-catalog")
    finally:
        lock.close()
    assert result.code == 4
    assert "another lo-sync run holds" in result.stderr


def test_a_file_that_is_not_sqlite_is_refused_untouched(config):
    db = config.parent / "lo-sync.db"
    db.write_bytes(b"this is a spreadsheet, honest\n" * 100)
    before = digest(db)

    result = run_cli(config, "sync-catalog")

    assert result.code == 2 and "not a SQLite database" in result.stderr
    assert digest(db) == before


def test_a_config_error_names_the_key_and_exits_2(tmp_path, sim):
    config = write_config(tmp_path, sim.url, **{"group: Sales Academy": "grop: Sales Academy"})

    result = run_cli(config, "sync-catalog")

    assert result.code == 2
    assert "providers.coursera.grop: unknown key" in result.stderr
    assert "providers.coursera.group: missing" in result.stderr


def test_a_missing_secret_variable_is_named(config):
    result = run_cli(config, "sync-catalog", unset=("LO_SYNC_DEMO_COURSERA_SECRET",))

    assert result.code == 2
    assert (
        "providers.coursera.client_secret: environment variable "
        "LO_SYNC_DEMO_COURSERA_SECRET is not set"
    ) in result.stderr


def test_learners_import_rejects_a_bad_file_by_line_and_writes_nothing(config):
    bad = config.parent / "people.csv"
    bad.write_text("email,external_id,name\nada@x.io,1,Ada\nnot-an-email,2,Bob\nada@x.io,3,Ada2\n")

    result = run_cli(config, "learners", "import", str(bad))

    assert result.code == 2
    assert "line 3" in result.stderr and "line 4" in result.stderr
    assert not (config.parent / "lo-sync.db").exists() or query(
        config, "SELECT count(*) FROM learners"
    ) == [(0,)]


def test_stats_report_in_every_format(config):
    assert run_cli(config, "sync-catalog").code == 0
    assert run_cli(config, "sync-stats").code == 0

    as_json = json.loads(run_cli(config, "stats", "--format", "json").stdout)
    as_csv = run_cli(config, "stats", "--format", "csv").stdout.splitlines()
    table = run_cli(config, "stats", "--provider", "openclassrooms").stdout

    total = query(config, "SELECT count(DISTINCT provider || course_external_id) FROM progress")[0][
        0
    ]
    assert len(as_json) == total and len(as_csv) == total + 1
    assert as_csv[0] == (
        "provider,course,title,archived,learners_started,learners_completed,"
        "average_progress_percent,time_spent_minutes"
    )
    first = as_json[0]
    assert (
        first["learners_started"]
        == query(
            config,
            f"SELECT count(*) FROM progress WHERE provider = '{first['provider']}' AND "
            f"course_external_id = '{first['course']}' AND (completed = 1 OR progress_percent > 0)",
        )[0][0]
    )
    assert "learners_started" in table

    course = as_json[0]["course"]
    per_learner = json.loads(
        run_cli(
            config,
            "stats",
            "--course",
            course,
            "--provider",
            as_json[0]["provider"],
            "--format",
            "json",
        ).stdout
    )
    assert len(per_learner) == as_json[0]["learners_started"]
    assert {"learner_email", "progress_percent", "completed"} <= set(per_learner[0])


def test_simulate_serves_on_the_port_it_prints_until_stopped():
    import signal
    import subprocess
    import sys

    import requests

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lo_sync",
            "simulate",
            "--port",
            "0",
            "--size",
            "20",
            "--fault",
            "rate_limit:every=5,retry_after=0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        url = first.split()[3]
        assert first.startswith("simulator listening on http://127.0.0.1:")
        health = requests.get(f"{url}/_sim/health", timeout=5).json()
        assert health["faults"] == ["rate_limit:every=5,retry_after=0"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        process.stdout.close()
    assert process.returncode in (0, 130)


def test_simulate_refuses_an_unknown_fault_as_a_usage_error():
    result = run_cli(None, "simulate", "--fault", "bogus")
    assert result.code == 2
    assert "--fault" in result.stderr and "unknown fault kind 'bogus'" in result.stderr


@pytest.mark.parametrize("value", ["soon", "0s", "25h", "-1m"])
def test_max_runtime_must_be_a_duration_from_a_second_to_a_day(value, tmp_path):
    from click.testing import CliRunner

    from lo_sync.cli import cli

    result = CliRunner().invoke(cli, ["--max-runtime", value, "sync-catalog"])

    assert result.exit_code == 2
    assert "--max-runtime" in result.output
    assert "must be a duration such as 90s, 30m or 2h, from 1s to 24h" in result.output


# --- one provider's trouble never stops the others ---------------------------------------------


def test_a_nesting_bomb_from_one_provider_fails_it_alone_on_record(tmp_path, sim):
    """A page nested deeper than any decoder recurses: whatever it is reported as, it is
    that provider's failure, recorded; the next provider runs."""
    app = sim._app
    original = app.handle

    def handle(request):
        if request.path.startswith("/coursera/") and not request.path.endswith("/token"):
            depth = 200_000
            return Response(200, b"[" * depth + b"]" * depth, {"Content-Type": "application/json"})
        return original(request)

    app.handle = handle
    config = write_config(tmp_path, sim.url)

    result = run_cli(config, "sync-catalog")

    assert result.code == 1, result.stderr
    lines = unstamped(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("lo-sync: coursera: "), lines
    assert "Traceback" not in result.stderr
    assert "openclassrooms sync-catalog: 60 fetched, 60 created" in result.stdout
    assert query(config, "SELECT provider, status FROM sync_runs ORDER BY id") == [
        ("coursera", "failed"),
        ("openclassrooms", "ok"),
    ]


# --- every stderr line stamped under cron --------------------------------------------------------


def test_every_line_on_stderr_under_cron_carries_the_summaries_timestamp(tmp_path, sim):
    literal = tmp_path / "literal"
    literal.mkdir()
    readable = literal / "config.yaml"
    readable.write_text(
        config_yaml(sim.url, CREDENTIALS, literal_secrets=True, database="lo-sync.db")
    )
    readable.chmod(0o644)
    broken = write_config(tmp_path, sim.url, **{"group: Sales Academy": "grop: Sales Academy"})
    failing = tmp_path / "failing"
    failing.mkdir()
    failing_config = write_config(
        failing, sim.url, **{CREDENTIALS["openclassrooms"]["organization_id"]: "9999"}
    )

    warned = run_cli(readable, "-vv", "sync-catalog")  # a warning, log lines, summaries
    config_error = run_cli(broken, "sync-catalog")
    provider_error = run_cli(failing_config, "sync-catalog")

    assert warned.code == 0, warned.stderr
    lines = unstamped(warned.stderr)
    assert [line for line in lines if line.startswith("warning: ")] == [
        f"warning: {readable} holds a literal client_secret for coursera, openclassrooms and is "
        "readable by other users; use ${VAR} or chmod 600"
    ]
    assert any(line.startswith("DEBUG urllib3.") for line in lines), lines
    summaries = [line.split(" ")[0] for line in unstamped(warned.stdout)]
    assert summaries == ["coursera", "openclassrooms"]
    assert config_error.code == 2
    assert unstamped(config_error.stderr)[0].startswith(f"lo-sync: {broken}: ")
    assert provider_error.code == 1
    assert unstamped(provider_error.stderr)[0].startswith("lo-sync: openclassrooms: ")


def test_at_a_terminal_lines_are_not_stamped_as_summaries_are_not(capsys):
    from lo_sync.output import Reporter

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    Reporter(stdout=Terminal()).error("interrupted")
    Reporter(stdout=Terminal()).warn("warning: careful")
    Reporter(stdout=io.StringIO()).error("interrupted")

    terminal_error, terminal_warning, cron_error = capsys.readouterr().err.splitlines()
    assert terminal_error == "lo-sync: interrupted"
    assert terminal_warning == "warning: careful"
    assert unstamped(cron_error) == ["lo-sync: interrupted"]


def test_a_message_holding_line_breaks_stays_one_stamped_line(capsys):
    from lo_sync.output import Reporter

    # e.g. a config key "\r" (the fuzzer's find) or a provider's text with newlines
    Reporter(stdout=io.StringIO()).error("config.yaml: \r: unknown key\nand\u2028more")

    assert unstamped(capsys.readouterr().err) == [
        "lo-sync: config.yaml: \\r: unknown key\\nand\\u2028more"
    ]


# --- a closed pipe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("stats",), ("sync-catalog", "--dry-run")], ids=["stats", "dry-run"]
)
def test_output_into_a_closed_pipe_ends_quietly_with_141(config, args):
    assert run_cli(config, "sync-catalog").code == 0
    assert run_cli(config, "sync-stats").code == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # `head` has read its lines and gone
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lo_sync", "--config", str(config), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **secret_env()},
            timeout=120,
        )
    finally:
        os.close(write_end)

    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


# --- global options where users type them --------------------------------------------------------


def test_global_options_work_after_the_command_too(config):
    other = config.parent / "other.db"
    people = config.parent / "people.csv"
    people.write_text("email,external_id,name\nada@example.com,1,Ada\n")

    quiet = run_cli(None, "sync-catalog", "--config", str(config), "-q")
    elsewhere = run_cli(None, "sync-catalog", "--provider", "coursera", "--config", str(config),
                        "--db", str(other), "-vv")  # fmt: skip
    imported = run_cli(None, "learners", "import", str(people), "--config", str(config))
    report = run_cli(None, "stats", "--format", "csv", "--db", str(other))

    assert quiet.code == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    assert elsewhere.code == 0, elsewhere.stderr
    assert "coursera sync-catalog: 120 fetched" in elsewhere.stdout
    assert any(line.startswith("DEBUG ") for line in unstamped(elsewhere.stderr))
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM courses").fetchall() == [(120,)]
    assert imported.code == 0, imported.stderr
    assert query(config, "SELECT email FROM learners") == [("ada@example.com",)]
    assert report.code == 0, report.stderr  # no config needed: --db named the file
