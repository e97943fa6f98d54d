"""lo-sync status: whether last night ran, for a person, a Nagios-style check and
Prometheus, read from the run log of a real night against the simulator."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from tests.helpers.ops import invoke, sql

COMMANDS = ("sync-catalog", "archive", "sync-stats")
LONG_AGO = "2026-01-01T00:00:00Z"


def epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def make_old(db, provider: str, command: str, status: str = "ok") -> None:
    sql(
        db,
        "UPDATE sync_runs SET finished_at = ?, started_at = ? "
        "WHERE provider = ? AND command = ? AND status = ?",
        (LONG_AGO, LONG_AGO, provider, command, status),
    )


def table(stdout: str) -> dict[tuple[str, str], list[str]]:
    """The table's rows by (provider, command): the columns split on runs of spaces."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) > 2 and cells[1] in COMMANDS:
            rows.setdefault((cells[0], cells[1]), cells[2:])  # not the failure lines after it
    return rows


def test_the_table_shows_each_provider_and_command_with_the_failed_run_and_last_success(night):
    result = invoke(night, "status")

    assert result.code == 0, result.stderr
    rows = table(result.stdout)
    assert sorted(rows) == sorted((p, c) for p in ("coursera", "openclassrooms") for c in COMMANDS)
    failed, ok = sql(
        night.db,
        "SELECT finished_at FROM sync_runs WHERE provider = 'coursera' "
        "AND command = 'sync-stats' ORDER BY id DESC",
    )
    stats = rows["coursera", "sync-stats"]
    assert stats[:2] == [failed[0], "failed"]
    assert ok[0] in stats  # the last success, beside the failure
    catalog = rows["openclassrooms", "sync-catalog"]
    assert catalog[1] == "ok"
    [(fetched, created, updated)] = sql(
        night.db,
        "SELECT fetched, created, updated FROM sync_runs WHERE provider = 'openclassrooms' "
        "AND command = 'sync-catalog' ORDER BY id DESC LIMIT 1",
    )
    assert f"{fetched} fetched, {created} created, {updated} updated" in result.stdout
    assert "coursera sync-stats failed: " in result.stdout  # the failure's message


def test_a_fresh_night_passes_the_max_age_check_with_one_ok_line_first(night):
    result = invoke(night, "status", "--max-age", "26h")

    assert result.code == 0, result.stdout
    assert result.stdout.splitlines()[0] == "LO-SYNC OK - 6 last successes within 26h"


def test_a_success_older_than_max_age_exits_1_and_names_it(night, copy):
    make_old(copy, "openclassrooms", "archive")

    result = invoke(night, "status", "--max-age", "2d", db=copy)

    assert result.code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("LO-SYNC WARNING - 1 of 6 older than 2d: ")
    assert "openclassrooms archive last succeeded " in first
    assert table(result.stdout)["openclassrooms", "archive"][0] == LONG_AGO


def test_a_recent_failure_does_not_hide_an_old_last_success(night, copy):
    make_old(copy, "coursera", "sync-stats")  # the successful run only; the failure is recent

    late = invoke(night, "status", "--max-age", "90m", db=copy)
    fine = invoke(night, "status", "--max-age", "90m")

    assert late.code == 1 and "coursera sync-stats last succeeded" in late.stdout
    assert fine.code == 0


def test_a_command_that_never_succeeded_is_stale(night, copy):
    sql(copy, "DELETE FROM sync_runs WHERE provider = 'coursera' AND command = 'sync-stats' "
        "AND status = 'ok'")  # fmt: skip

    result = invoke(night, "status", "--max-age", "26h", db=copy)

    assert result.code == 1
    assert "coursera sync-stats never succeeded" in result.stdout.splitlines()[0]
    assert table(result.stdout)["coursera", "sync-stats"][1] == "failed"


def test_a_missing_database_is_never_ran_and_is_not_created(night, tmp_path):
    missing = tmp_path / "none.db"

    plain = invoke(night, "status", db=missing)
    checked = invoke(night, "status", "--max-age", "26h", db=missing)

    assert plain.code == 0, plain.stderr
    rows = table(plain.stdout)
    assert len(rows) == 6 and all(cells == ["never", "never"] for cells in rows.values())
    assert checked.code == 1
    assert checked.stdout.startswith("LO-SYNC WARNING - 6 of 6 older than 26h: ")
    assert list(tmp_path.iterdir()) == []


def test_status_leaves_the_database_byte_identical(night):
    before = hashlib.sha256(night.db.read_bytes()).hexdigest()

    for fmt in ("table", "json", "prometheus"):
        assert invoke(night, "status", "--format", fmt).code == 0

    assert hashlib.sha256(night.db.read_bytes()).hexdigest() == before


def test_json_carries_the_last_run_the_last_success_and_staleness(night, copy):
    make_old(copy, "openclassrooms", "sync-catalog")

    result = invoke(night, "status", "--format", "json", "--max-age", "26h", db=copy)

    assert result.code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["max_age_seconds"] == 26 * 3600
    by_name = {(c["provider"], c["command"]): c for c in document["commands"]}
    stats = by_name["coursera", "sync-stats"]
    assert stats["last_run"]["status"] == "failed" and stats["last_run"]["message"]
    assert stats["last_success"]["status"] == "ok"
    run_id = stats["last_success"]["id"]
    fetched = sql(copy, "SELECT fetched FROM sync_runs WHERE id = ?", (run_id,))
    assert stats["last_success"]["counts"]["fetched"] == fetched[0][0] > 0
    assert stats["stale"] is False
    catalog = by_name["openclassrooms", "sync-catalog"]
    assert catalog["stale"] is True and catalog["last_success"]["finished_at"] == LONG_AGO
    assert catalog["last_run"] == catalog["last_success"]
    assert [name for name, c in by_name.items() if c["stale"]] == [
        ("openclassrooms", "sync-catalog")
    ]


def test_json_on_a_missing_database_says_never_with_nulls(night, tmp_path):
    result = invoke(night, "status", "--format", "json", db=tmp_path / "none.db")

    document = json.loads(result.stdout)
    assert document["ok"] is None
    assert all(c["last_run"] is None and c["last_success"] is None for c in document["commands"])


def prometheus(stdout: str) -> dict[str, dict[tuple[str, str], int]]:
    metrics: dict[str, dict[tuple[str, str], int]] = {}
    for line in stdout.splitlines():
        if line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        labels, _, value = rest.partition("} ")
        pairs = dict(p.split("=", 1) for p in labels.split(","))
        key = (pairs["provider"].strip('"'), pairs["command"].strip('"'))
        metrics.setdefault(name, {})[key] = int(value)
    return metrics


def test_prometheus_gauges_hold_the_run_log_times_and_outcomes(night):
    result = invoke(night, "status", "--format", "prometheus")

    assert result.code == 0, result.stderr
    metrics = prometheus(result.stdout)
    expected = {
        (p, c): epoch(t)
        for p, c, t in sql(
            night.db,
            "SELECT provider, command, max(finished_at) FROM sync_runs WHERE status = 'ok' "
            "GROUP BY 1, 2",
        )
    }
    assert metrics["lo_sync_last_success_timestamp_seconds"] == expected
    success = metrics["lo_sync_last_run_success"]
    assert success.pop(("coursera", "sync-stats")) == 0
    assert set(success.values()) == {1}
    assert "# TYPE lo_sync_last_success_timestamp_seconds gauge" in result.stdout


def test_prometheus_on_a_missing_database_is_zero_everywhere(night, tmp_path):
    result = invoke(night, "status", "--format", "prometheus", db=tmp_path / "none.db")

    metrics = prometheus(result.stdout)
    assert len(metrics) == 3
    assert all(set(values.values()) == {0} and len(values) == 6 for values in metrics.values())


@pytest.mark.parametrize("value", ["26", "1w", "0h", "367d", "-1h", "soon"])
def test_a_bad_max_age_is_one_line_and_exit_2(night, value):
    result = invoke(night, "status", "--max-age", value)

    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "--max-age" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_with_db_and_no_config_a_monitoring_host_sees_every_provider(night, tmp_path):
    """A monitoring host holds no API secrets: `--db` alone is enough."""
    from click.testing import CliRunner

    from lo_sync.cli import cli

    nowhere = tmp_path / "absent.yaml"
    done = CliRunner().invoke(
        cli, ["--config", str(nowhere), "--db", str(night.db), "status", "--max-age", "26h"]
    )

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines()[0] == "LO-SYNC OK - 6 last successes within 26h"
    assert len(table(done.stdout)) == 6
