"""`stats --learner`: what one person has done at every provider, found by e-mail,
the company's external id or a provider's learner id."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

COURSE_COLUMNS = [
    "provider", "course", "title", "archived", "progress_percent", "completed", "completed_at",
    "score_percent", "time_spent_minutes", "time_spent_theoretical", "last_activity_at",
]  # fmt: skip


def query(company, sql, params=()):
    with sqlite3.connect(company / "lo-sync.db") as conn:
        return conn.execute(sql, params).fetchall()


def someone_at_both_providers(company) -> tuple[str, str]:
    """(e-mail, OpenClassrooms learner id) of a person in the HR export with rows at both."""
    with open(company / "people.csv", newline="") as f:
        listed = {r["email"] for r in csv.DictReader(f)}
    rows = query(
        company,
        "SELECT learner_email, max(CASE WHEN provider = 'openclassrooms' "
        "THEN learner_external_id END) FROM progress GROUP BY learner_email "
        "HAVING count(DISTINCT provider) = 2 ORDER BY count(*) DESC",
    )
    return next((email, oc_id) for email, oc_id in rows if email in listed)


def stored_courses(company, email):
    return sorted(
        query(
            company,
            "SELECT provider, course_external_id, progress_percent FROM progress "
            "WHERE learner_email = ?",
            (email,),
        )
    )


@pytest.fixture
def imported(company, lo):
    assert lo("learners", "import", str(company / "people.csv")).exit_code == 0
    return company


@pytest.mark.parametrize("how", ["e-mail in capitals", "company id", "provider id"])
def test_one_learner_is_found_however_the_admin_names_them(imported, lo, how):
    email, oc_id = someone_at_both_providers(imported)
    number = int(email.removeprefix("learner").partition("@")[0])
    key = {"e-mail in capitals": email.upper(), "company id": f"EMP-{number:06d}",
           "provider id": oc_id}[how]  # fmt: skip

    result = lo("stats", "--learner", key, "--format", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["learner"] == {
        "learner_name": f"Learner {number}",
        "learner_id": f"EMP-{number:06d}",
        "learner_email": email,
        "matched": 1,
        "left_at": None,
    }
    courses = report["courses"]
    assert {c["provider"] for c in courses} == {"coursera", "openclassrooms"}
    assert list(courses[0]) == COURSE_COLUMNS
    assert sorted((c["provider"], c["course"], c["progress_percent"]) for c in courses) == (
        stored_courses(imported, email)
    )
    titles = dict(query(imported, "SELECT external_id, title FROM courses"))
    assert all(c["title"] == titles.get(c["course"]) for c in courses)


def test_the_learner_report_as_csv_and_as_a_table(imported, lo):
    email, _ = someone_at_both_providers(imported)
    number = int(email.removeprefix("learner").partition("@")[0])

    as_csv = list(
        csv.reader(io.StringIO(lo("stats", "--learner", email, "--format", "csv").output))
    )
    table = lo("stats", "--learner", email).output.splitlines()

    stored = stored_courses(imported, email)
    assert as_csv[0] == COURSE_COLUMNS
    assert sorted((r[0], r[1], float(r[4])) for r in as_csv[1:]) == stored
    assert table[0] == f"Learner {number} (EMP-{number:06d}, {email})"
    assert len(table) == 1 + 1 + len(stored)  # who, the header, one line a course
    assert all(any(course in line for line in table) for _, course, _ in stored)


def test_someone_the_company_did_not_import_shows_the_provider_s_identity(imported, lo):
    with open(imported / "people.csv", newline="") as f:
        listed = {r["email"] for r in csv.DictReader(f)}
    email, provider_id, name = next(
        row
        for row in query(
            imported,
            "SELECT learner_email, learner_external_id, learner_name FROM progress "
            "WHERE learner_external_id IS NOT NULL ORDER BY learner_email",
        )
        if row[0] not in listed
    )

    report = json.loads(lo("stats", "--learner", provider_id, "--format", "json").output)
    table = lo("stats", "--learner", email).output.splitlines()

    assert report["learner"] == {
        "learner_name": name,
        "learner_id": provider_id,
        "learner_email": email,
        "matched": 0,
        "left_at": None,
    }
    assert "not matched to the company's people" in table[0]
    assert sorted(
        (c["provider"], c["course"], c["progress_percent"]) for c in report["courses"]
    ) == (stored_courses(imported, email))


@pytest.mark.parametrize("key", ["nobody@example.com", "EMP-999999", "x" * 201])
def test_an_unknown_learner_is_one_line_and_exit_2(imported, lo, key):
    result = lo("stats", "--learner", key)

    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1
    assert "Traceback" not in result.output


def test_course_and_learner_together_are_refused(lo):
    result = lo("stats", "--learner", "a@x.io", "--course", "1")

    assert result.exit_code == 2 and "give one of them" in result.output


def test_provider_keeps_the_learner_report_to_that_provider_s_courses(imported, lo):
    email, _ = someone_at_both_providers(imported)

    result = lo("stats", "--learner", email, "--provider", "openclassrooms", "--format", "json")

    courses = json.loads(result.output)["courses"]
    assert (
        sorted((c["provider"], c["course"], c["progress_percent"]) for c in courses)
        == [row for row in stored_courses(imported, email) if row[0] == "openclassrooms"]
        != []
    )
