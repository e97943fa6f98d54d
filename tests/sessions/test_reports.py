"""sessions list and stats --session, in every format, on a simulator night: where each
learner of a session stands, and the course they carry on with."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.helpers.sessions import day, yaml_of


def imported(lo, *sessions: dict) -> None:
    result = lo("sessions", "import", str(lo.write("s.yaml", yaml_of(*sessions))))
    assert result.exit_code == 0, result.output


# --- sessions list --------------------------------------------------------------------------


def test_the_list_says_open_closed_or_upcoming_in_every_format(lo):
    course = [("openclassrooms", "1000482")]
    imported(
        lo,
        {"name": "Later", "start": day(1), "courses": course},
        {"name": "Over", "start": day(-30), "end": day(-1), "courses": course},
        {"name": "Today", "start": day(0), "end": day(0), "courses": course, "cohort": ["a@x.io"]},
        {"name": "Always", "courses": [*course, ("coursera", "fCZ0b0r8Pi9fxmyqVdak6Q")]},
    )

    rows = json.loads(lo("sessions", "list", "--format", "json").stdout)
    as_csv = list(csv.DictReader(io.StringIO(lo("sessions", "list", "--format", "csv").stdout)))
    table = lo("sessions", "list").stdout.splitlines()

    assert [(r["name"], r["state"], r["courses"], r["cohort"]) for r in rows] == [
        ("Always", "open", 2, 0),
        ("Later", "upcoming", 1, 0),
        ("Over", "closed", 1, 0),
        ("Today", "open", 1, 1),
    ]
    assert rows[2]["start"] == day(-30) and rows[2]["end"] == day(-1)
    assert [{k: v or None for k, v in r.items()} for r in as_csv] == [
        {k: None if v is None else str(v) for k, v in r.items()} for r in rows
    ]
    assert table[0].split() == ["name", "group", "start", "end", "state", "courses", "cohort"]
    assert table[2].split() == ["Later", "Sales", "Academy", day(1), "upcoming", "1", "0"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_no_session_says_so_in_one_line_and_exits_0(lo, fmt):
    result = lo("sessions", "list", "--format", fmt)

    assert result.exit_code == 0
    said = result.stdout if fmt == "table" else result.stderr
    assert said.splitlines()[-1].endswith("no program sessions yet; import some with "
                                          "`lo-sync sessions import`")  # fmt: skip
    assert result.stdout == {"table": said, "csv": "", "json": "[]\n"}[fmt]


def test_list_on_a_missing_database_creates_nothing(tmp_path):
    from click.testing import CliRunner

    from lo_sync.cli import cli

    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "sessions", "list"])

    assert result.exit_code == 0
    assert "no program sessions yet" in result.stdout
    assert list(tmp_path.iterdir()) == []


# --- stats --session ------------------------------------------------------------------------


def learner_rows(lo, email):
    """(provider, course, completed, progress, time) of every row the night stored for one
    learner, completed ones first."""
    return lo.query(
        "SELECT provider, course_external_id, completed, coalesce(progress_percent, 0), "
        "coalesce(time_spent_minutes, 0) FROM progress WHERE learner_email = ? "
        "ORDER BY completed DESC, provider, course_external_id",
        (email,),
    )


def url_of(lo, provider, course):
    return lo.query(
        "SELECT url FROM courses WHERE provider = ? AND external_id = ?", (provider, course)
    )[0][0]


@pytest.fixture
def onboarding(lo):
    """A session of three courses of learner0's: done, not done, done, so that learner0
    carries on with the second; and a cohort member the providers never reported."""
    rows = learner_rows(lo, "learner0@example.com")
    done = [r for r in rows if r[2] == 1]
    pending = [r for r in rows if r[2] == 0 and r[3] > 0]
    assert len(done) >= 2 and pending, rows
    courses = [done[0], pending[0], done[1]]
    imported(
        lo,
        {
            "name": "Onboarding",
            "courses": [(r[0], r[1]) for r in courses],
            "cohort": ["learner0@example.com", "nobody@example.com"],
        },
    )
    return courses


def test_stats_session_says_where_each_learner_of_the_cohort_stands(lo, onboarding):
    first, second, third = onboarding

    result = lo("stats", "--session", "Onboarding", "--format", "json")

    assert result.exit_code == 0, result.output
    learner0, nobody = json.loads(result.stdout)
    assert learner0["learner"] == "learner0@example.com"
    assert (learner0["completed"], learner0["courses"]) == (2, 3)
    assert learner0["progress_percent"] == round((100 + second[3] + 100) / 3, 1)
    assert learner0["time_spent_minutes"] == round(first[4] + second[4] + third[4], 1)
    assert (learner0["next_provider"], learner0["next_course"]) == second[:2]
    assert learner0["next_url"] == url_of(lo, *second[:2])
    assert nobody == {
        **nobody,
        "learner": "nobody@example.com",
        "completed": 0,
        "courses": 3,
        "progress_percent": 0.0,
        "time_spent_minutes": 0.0,
        "next_provider": first[0],
        "next_course": first[1],
        "next_url": url_of(lo, *first[:2]),
    }


def test_stats_session_as_csv_and_table_says_the_same(lo, onboarding):
    as_json = json.loads(lo("stats", "--session", "Onboarding", "--format", "json").stdout)
    text = lo("stats", "--session", "Onboarding", "--format", "csv").stdout
    as_csv = list(csv.DictReader(io.StringIO(text)))
    table = lo("stats", "--session", "Onboarding").stdout.splitlines()

    assert [r["learner"] for r in as_csv] == [r["learner"] for r in as_json]
    assert [r["next_url"] for r in as_csv] == [r["next_url"] for r in as_json]
    assert [float(r["progress_percent"]) for r in as_csv] == [
        r["progress_percent"] for r in as_json
    ]
    assert table[0].split()[:6] == [
        "learner", "name", "completed", "courses", "progress_percent", "time_spent_minutes",
    ]  # fmt: skip
    assert [line.split()[0] for line in table[1:]] == [r["learner"] for r in as_json]
    assert as_json[0]["next_url"] in table[1]


def test_a_learner_who_completed_every_course_has_no_next_course(lo, onboarding):
    done = [(r[0], r[1]) for r in onboarding if r[2] == 1]
    imported(lo, {"name": "Done", "courses": done, "cohort": ["learner0@example.com"]})

    (row,) = json.loads(lo("stats", "--session", "Done", "--format", "json").stdout)

    assert (row["completed"], row["courses"], row["progress_percent"]) == (2, 2, 100.0)
    assert row["next_course"] is None and row["next_url"] is None


def test_without_a_cohort_everyone_who_started_a_course_of_the_session_counts(lo):
    course = lo.query(
        "SELECT course_external_id FROM progress WHERE provider = 'openclassrooms' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )[0][0]
    imported(lo, {"name": "Open", "courses": [("openclassrooms", course)]})
    started = lo.query(
        "SELECT learner_email, completed, progress_percent FROM progress "
        "WHERE provider = 'openclassrooms' AND course_external_id = ? "
        "AND (completed = 1 OR progress_percent > 0) ORDER BY learner_email",
        (course,),
    )

    rows = json.loads(lo("stats", "--session", "Open", "--format", "json").stdout)

    assert started
    assert [(r["learner"], r["completed"]) for r in rows] == [(e, c) for e, c, _ in started]
    assert [r["progress_percent"] for r in rows] == [
        100.0 if c else round(p, 1) for _, c, p in started
    ]
    unfinished = [r for r in rows if not r["completed"]]
    assert all(r["next_course"] == course for r in unfinished)


def test_an_unknown_session_is_one_line_and_exit_2(lo):
    imported(lo, {"name": "Onboarding", "courses": [("openclassrooms", "1000482")]})

    result = lo("stats", "--session", "Onbaording")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        result.stderr.split(" ", 1)[0] + " lo-sync: no program session 'Onbaording' "
        "(sessions: Onboarding)"
    ]


def test_stats_session_on_a_missing_database_is_exit_2_and_creates_nothing(tmp_path):
    from click.testing import CliRunner

    from lo_sync.cli import cli

    db = tmp_path / "none.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "stats", "--session", "S"])

    # It says what is missing, the database, not that no session was imported into it.
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert f"no database at {db} yet; run `lo-sync sync-catalog` first" in line
    assert not db.exists()


def test_session_does_not_mix_with_course_or_provider(lo):
    result = lo("stats", "--session", "Onboarding", "--course", "1000482")

    assert result.exit_code == 2
    assert "--session takes none of --course, --learner, --provider" in result.stderr


# --- one learner's sessions -----------------------------------------------------------------


def test_a_learners_report_says_where_they_stand_in_each_of_their_sessions(lo):
    (email, provider, course), *_ = lo.query(
        "SELECT learner_email, provider, course_external_id FROM progress "
        "WHERE learner_email IS NOT NULL AND progress_percent > 0 ORDER BY learner_key LIMIT 1"
    )
    other = lo.query(
        "SELECT provider, external_id FROM courses WHERE provider = ? AND external_id != ? "
        "AND archived = 0 LIMIT 1",
        (provider, course),
    )[0]
    imported(
        lo,
        {"name": "Cohort", "courses": [(provider, course), other], "cohort": [email]},
        {"name": "Elsewhere", "courses": [other], "cohort": ["someone@else.example"]},
    )

    report = json.loads(lo("stats", "--learner", email, "--format", "json").stdout)
    session = json.loads(lo("stats", "--session", "Cohort", "--format", "json").stdout)
    table = lo("stats", "--learner", email).stdout

    mine = [row for row in session if row["learner"] == email]
    assert [s["session"] for s in report["sessions"]] == ["Cohort"]
    assert report["sessions"][0] == {"session": "Cohort", **{
        k: v for k, v in mine[0].items() if k != "learner"}}  # fmt: skip
    assert report["sessions"][0]["courses"] == 2
    assert "Cohort" in table and "Elsewhere" not in table
