"""sessions import: the file is checked whole against the catalog, every problem named
with its line; it is the truth for the sessions it names, and leaves the others alone."""

from __future__ import annotations

import hashlib

import pytest

from lo_sync.sessions import MAX_COURSES, MAX_FILE_BYTES
from tests.helpers.sessions import EXAMPLE, session_tables

ONE = """\
sessions:
  - name: Onboarding
    group: Sales Academy
    start: 2026-01-05
    end: 2026-03-31
    courses:
      - coursera: fCZ0b0r8Pi9fxmyqVdak6Q
      - openclassrooms: 1000482
    cohort:
      - Learner0@Example.com
      - learner1@example.com
"""


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_example_file_imports_against_a_simulator_night(lo):
    result = lo("sessions", "import", str(EXAMPLE))

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.endswith(
        "sessions: 2 in file, 2 created, 0 updated, 0 unchanged; 0 not in the file left alone\n"
    )
    assert lo.query(
        "SELECT name, group_name, starts_on, ends_on FROM program_sessions ORDER BY name"
    ) == [
        ("Data skills", "Sales Academy", None, None),
        ("Onboarding 2026", "Sales Academy", "2026-01-05", "2026-12-31"),
    ]
    assert lo.query(
        "SELECT position, provider, external_id FROM session_courses "
        "WHERE session_name = 'Onboarding 2026' ORDER BY position"
    ) == [
        (1, "coursera", "fCZ0b0r8Pi9fxmyqVdak6Q"),
        (2, "openclassrooms", "1000482"),
        (3, "coursera", "iANa8ZzOhonhRzoGl-QuUg"),
        (4, "openclassrooms", "1004562"),
    ]
    again = lo("sessions", "import", str(EXAMPLE))
    assert "0 created, 0 updated, 2 unchanged" in again.stdout


def test_reimporting_replaces_a_named_sessions_courses_and_cohort_and_leaves_others(lo):
    assert lo("sessions", "import", str(EXAMPLE)).exit_code == 0
    changed = lo.write("one.yaml", ONE)
    assert lo("sessions", "import", str(changed)).exit_code == 0
    edited = ONE.replace("      - openclassrooms: 1000482\n", "").replace(
        "      - coursera: fCZ0b0r8Pi9fxmyqVdak6Q\n",
        "      - openclassrooms: 1004562\n      - coursera: fCZ0b0r8Pi9fxmyqVdak6Q\n",
    )
    edited = edited.replace("      - learner1@example.com\n", "      - ada@example.com\n")
    path = lo.write("one.yaml", edited.replace("2026-03-31", "2026-04-30"))

    result = lo("sessions", "import", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "sessions: 1 in file, 0 created, 1 updated, 0 unchanged; "
        "2 not in the file left alone ('Data skills', 'Onboarding 2026')\n"
    )
    assert lo.query(
        "SELECT position, provider, external_id FROM session_courses "
        "WHERE session_name = 'Onboarding' ORDER BY position"
    ) == [(1, "openclassrooms", "1004562"), (2, "coursera", "fCZ0b0r8Pi9fxmyqVdak6Q")]
    assert lo.query(
        "SELECT email FROM session_learners WHERE session_name = 'Onboarding' ORDER BY 1"
    ) == [("ada@example.com",), ("learner0@example.com",)]
    assert lo.query("SELECT ends_on FROM program_sessions WHERE name = 'Onboarding'") == [
        ("2026-04-30",)
    ]
    # the sessions the file does not name are untouched
    assert lo.query("SELECT count(*) FROM session_courses WHERE session_name != 'Onboarding'") == [
        (6,)
    ]


def test_a_dry_run_shows_the_difference_and_leaves_the_file_byte_identical(lo):
    assert lo("sessions", "import", str(lo.write("one.yaml", ONE))).exit_code == 0
    edited = ONE.replace("      - openclassrooms: 1000482\n", "      - openclassrooms: 1004562\n")
    edited = edited.replace("      - learner1@example.com\n", "      - ada@example.com\n")
    path = lo.write("one.yaml", edited.replace("2026-03-31", "2026-04-30"))
    before = digest(lo.db)

    result = lo("sessions", "import", "--dry-run", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "session update 'Onboarding': end: 2026-03-31 → 2026-04-30; "
        "courses: +openclassrooms: 1004562, -openclassrooms: 1000482; cohort: +1 -1",
        result.stdout.splitlines()[-1],
    ]
    assert "dry run: sessions: 1 in file, 0 created, 1 updated" in result.stdout
    assert digest(lo.db) == before


def test_a_missing_database_is_not_created(tmp_path):
    from click.testing import CliRunner

    from lo_sync.cli import cli

    db = tmp_path / "none.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "sessions", "import", str(EXAMPLE)])

    assert result.exit_code == 2
    assert "no database at" in result.stderr and "sync-catalog" in result.stderr
    assert not db.exists()


def test_an_archived_course_is_imported_with_a_warning_on_its_line(lo):
    archived = lo.query(
        "SELECT external_id FROM courses WHERE provider = 'openclassrooms' AND archived = 1 "
        "ORDER BY 1 LIMIT 1"
    )[0][0]
    text = ONE.replace("openclassrooms: 1000482", f"openclassrooms: {archived}")
    path = lo.write("one.yaml", text)

    result = lo("sessions", "import", str(path))

    assert result.exit_code == 0, result.output
    assert f"{path}:8: session 'Onboarding': course openclassrooms: {archived}" in result.stderr
    assert "is archived" in result.stderr
    assert lo.query("SELECT count(*) FROM session_courses") == [(2,)]


def _replace(old, new):
    return lambda text: text.replace(old, new)


ERRORS = {
    "unknown course": (
        _replace("coursera: fCZ0b0r8Pi9fxmyqVdak6Q", "coursera: nope"),
        "7: session 'Onboarding': unknown course coursera: nope (not in its catalog)",
    ),
    "unknown group": (
        _replace("group: Sales Academy", "group: Marketing"),
        "2: session 'Onboarding': unknown group 'Marketing' (groups: Sales Academy)",
    ),
    "end before start": (
        _replace("end: 2026-03-31", "end: 2025-12-31"),
        "5: session 'Onboarding': ends on 2025-12-31, before it starts on 2026-01-05",
    ),
    "duplicate course": (
        _replace("      - openclassrooms: 1000482\n", "      - coursera: fCZ0b0r8Pi9fxmyqVdak6Q\n"),
        "8: session 'Onboarding': course coursera: fCZ0b0r8Pi9fxmyqVdak6Q already on line 7",
    ),
    "bad e-mail": (
        _replace("learner1@example.com", "learner1.example.com"),
        "11: session 'Onboarding': 'learner1.example.com' is not an e-mail address",
    ),
    # Providers' records refuse such a key; a cohort keyed by it would match no one.
    "invisible character in an e-mail": (
        _replace("learner1@example.com", "learner1\u200b@example.com"),
        "11: session 'Onboarding': 'learner1\\u200b@example.com' is not an e-mail address: "
        "it holds U+200B",
    ),
    "duplicate e-mail": (
        _replace("learner1@example.com", "LEARNER0@example.com"),
        "11: session 'Onboarding': learner0@example.com already on line 10",
    ),
    "missing name": (
        _replace("  - name: Onboarding\n    group", "  - group"),
        "2: a session without a name",
    ),
    "unknown key": (
        _replace("    start:", "    strat:"),
        "4: unknown key 'strat'; expected name, group, start, end, courses, cohort",
    ),
    "not a day": (
        _replace("start: 2026-01-05", "start: 05/01/2026"),
        "4: session 'Onboarding': start: '05/01/2026' is not a day as YYYY-MM-DD",
    ),
    "unknown provider": (
        _replace("openclassrooms: 1000482", "udemy: 1000482"),
        "8: session 'Onboarding': unknown provider 'udemy'; expected coursera, openclassrooms",
    ),
    "no courses": (
        lambda text: text.split("    courses:")[0],
        "2: session 'Onboarding': no courses: list them as - provider: id",
    ),
    "twice the same session": (
        lambda text: text + text.split("sessions:\n")[1],
        "12: session 'Onboarding' already on line 2",
    ),
    "an alias": (
        _replace("      - learner1@example.com", "      - &who learner1@example.com\n      - *who"),
        "12: YAML aliases (*name) are not accepted here",
    ),
    "not YAML": (_replace("    courses:", "    courses: ["), "7: not valid YAML"),
    "too many courses": (
        _replace(
            "      - openclassrooms: 1000482\n",
            "".join(f"      - coursera: c{i}\n" for i in range(MAX_COURSES)),
        ),
        f"7: session 'Onboarding': {MAX_COURSES + 1} courses, above the bound {MAX_COURSES}",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_every_problem_is_named_with_its_line_and_nothing_is_imported(lo, name):
    edit, expected = ERRORS[name]
    path = lo.write("sessions.yaml", edit(ONE))
    before = session_tables(lo.db)

    result = lo("sessions", "import", str(path))

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert f"{path}:{expected}" in result.stderr
    assert result.stderr.rstrip().endswith("nothing imported") or name in ("an alias", "not YAML")
    assert session_tables(lo.db) == before


def test_every_problem_of_a_file_is_named_at_once(lo):
    text = ONE.replace("coursera: fCZ0b0r8Pi9fxmyqVdak6Q", "coursera: nope").replace(
        "learner1@example.com", "learner1"
    )

    result = lo("sessions", "import", str(lo.write("s.yaml", text)))

    assert result.exit_code == 2
    assert ":11: session 'Onboarding': 'learner1' is not an e-mail address" in result.stderr
    assert ":7: session 'Onboarding': unknown course coursera: nope" in result.stderr
    assert session_tables(lo.db) == [[], [], []]


def test_a_file_above_the_size_bound_is_refused_unread(lo):
    path = lo.write("big.yaml", ONE + "#" * MAX_FILE_BYTES)

    result = lo("sessions", "import", str(path))

    assert result.exit_code == 2
    assert f"above the bound of {MAX_FILE_BYTES:,}" in result.stderr


@pytest.mark.parametrize("text", ["", "- a\n", "sessions: []\n"])
def test_a_file_without_sessions_is_refused(lo, text):
    result = lo("sessions", "import", str(lo.write("empty.yaml", text)))

    assert result.exit_code == 2
    assert "sessions" in result.stderr and "Traceback" not in result.output


def test_a_nesting_bomb_is_refused_at_once_in_one_line(lo):
    path = lo.write("deep.yaml", "sessions: " + "[" * 500_000 + "]" * 500_000 + "\n")

    result = lo("sessions", "import", str(path))

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert f"{path}:1: nested too deep to be a sessions file" in result.stderr
