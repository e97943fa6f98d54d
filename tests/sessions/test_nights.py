"""Sessions across real nights: no sync touches them, and archive names the sessions
still running that hold a course it archives, in the dry run and the real run."""

from __future__ import annotations

import sqlite3

import pytest

from lo_sync.simulator import Simulator
from lo_sync.sync import SESSION_WARNINGS
from tests.helpers.e2e import run_cli, unstamped, write_config
from tests.helpers.sessions import SMALL, day, night, session_tables, yaml_of

# An OpenClassrooms course the simulator's next day archives (its status becomes archived).
LEAVING = ("openclassrooms", "1002150")
STAYING = ("openclassrooms", "1000482")


@pytest.fixture
def first_night(tmp_path):
    with Simulator(SMALL) as sim:
        config = write_config(tmp_path, sim.url)
        night(config)
        sessions = tmp_path / "sessions.yaml"
        sessions.write_text(
            yaml_of(
                {
                    "name": "Onboarding 2026",
                    "start": day(-10),
                    "end": day(30),
                    "courses": [STAYING, LEAVING],
                    "cohort": ["learner0@example.com"],
                },
                {"name": "Next cohort", "start": day(5), "courses": [LEAVING]},
                {"name": "Last year", "end": day(-1), "courses": [LEAVING, STAYING]},
                {"name": "Unaffected", "courses": [STAYING]},
            ),  # fmt: skip
            encoding="utf-8",
        )
        imported = run_cli(config, "sessions", "import", str(sessions))
        assert imported.code == 0, imported.stderr
        sim.set_day(2)
        yield config


def test_archive_names_the_running_sessions_that_hold_a_course_it_archives(first_night):
    config = first_night
    assert run_cli(config, "sync-catalog").code == 0
    expected = sorted(
        f"openclassrooms archive: course {LEAVING[1]} (Négociez avec succès) is in {when} "
        f'session "{name}"'
        for when, name in (("upcoming", "Next cohort"), ("open", "Onboarding 2026"))
    )

    dry = run_cli(config, "archive", "--provider", "openclassrooms", "--dry-run")
    real = run_cli(config, "archive", "--provider", "openclassrooms")

    assert (dry.code, real.code) == (0, 0), dry.stderr + real.stderr
    assert sorted(unstamped(dry.stderr)) == expected
    assert f"openclassrooms archive {LEAVING[1]}: Négociez avec succès" in dry.stdout
    assert sorted(unstamped(real.stderr)) == expected
    with sqlite3.connect(config.parent / "lo-sync.db") as db:
        (message,) = db.execute(
            "SELECT message FROM sync_runs WHERE command = 'archive' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        archived = db.execute(
            "SELECT archived FROM courses WHERE provider = ? AND external_id = ?", LEAVING
        ).fetchone()
    assert sorted(message.split("\n")) == [w.split(" ", 1)[1] for w in expected]
    assert archived == (1,)
    # once archived, the course is no longer the next night's news
    again = run_cli(config, "archive", "--provider", "openclassrooms")
    assert again.code == 0 and again.stderr == ""


def test_a_whole_night_leaves_the_session_tables_as_they_were(first_night):
    config = first_night
    db = config.parent / "lo-sync.db"
    before = session_tables(db)

    night(config)

    assert session_tables(db) == before
    assert [len(rows) for rows in before] == [4, 6, 1]


def test_archive_names_at_most_twenty_sessions_and_counts_the_rest(tmp_path):
    with Simulator(SMALL) as sim:
        config = write_config(tmp_path, sim.url)
        night(config)
        sessions = tmp_path / "sessions.yaml"
        many = [
            {"name": f"Cohort {n:02d}", "end": day(30), "courses": [LEAVING]} for n in range(25)
        ]
        sessions.write_text(yaml_of(*many), encoding="utf-8")
        assert run_cli(config, "sessions", "import", str(sessions)).code == 0
        sim.set_day(2)
        assert run_cli(config, "sync-catalog").code == 0

        result = run_cli(config, "archive", "--provider", "openclassrooms")

    lines = unstamped(result.stderr)
    assert result.code == 0, result.stderr
    assert len(lines) == SESSION_WARNINGS + 1
    assert all(f"course {LEAVING[1]} (Négociez avec succès) is in open" in x for x in lines[:-1])
    assert lines[-1] == (
        "openclassrooms archive: and 5 more times a course archived here is in an open or "
        "upcoming session (not listed)"
    )
