"""`stats` speaks the company's language: its people by name and external id, the
provider's e-mail and id for anyone it did not import, archived courses marked, and
a course found by its title."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import unicodedata

import pytest


def query(company, sql, params=()):
    with sqlite3.connect(company / "lo-sync.db") as conn:
        return conn.execute(sql, params).fetchall()


def company_people(company) -> dict[str, tuple[str, str]]:
    """e-mail → (name, external id), as the HR export lists them."""
    with open(company / "people.csv", newline="") as f:
        return {r["email"]: (r["name"], r["external_id"]) for r in csv.DictReader(f)}


def busiest_course(company, provider="openclassrooms") -> str:
    """The course of `provider` with the most learners of the company and others."""
    return query(
        company,
        "SELECT course_external_id FROM progress WHERE provider = ? "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        (provider,),
    )[0][0]


def test_before_any_import_a_course_lists_the_providers_names_and_ids_as_not_matched(company, lo):
    course = busiest_course(company)

    rows = json.loads(lo("stats", "--course", course, "--format", "json").output)
    table = lo("stats", "--course", course).output

    stored = query(
        company,
        "SELECT learner_email, learner_external_id, learner_name FROM progress "
        "WHERE provider = 'openclassrooms' AND course_external_id = ?",
        (course,),
    )
    assert sorted((r["learner_email"], r["learner_id"], r["learner_name"]) for r in rows) == sorted(
        stored
    )
    assert {r["matched"] for r in rows} == {0}
    assert table.count("not matched") == len(rows)


def test_once_imported_a_course_lists_the_company_s_names_and_external_ids(company, lo):
    assert lo("learners", "import", str(company / "people.csv")).exit_code == 0
    people = company_people(company)
    course = busiest_course(company)

    as_json = json.loads(lo("stats", "--course", course, "--format", "json").output)
    as_csv = list(
        csv.DictReader(io.StringIO(lo("stats", "--course", course, "--format", "csv").output))
    )
    table = lo("stats", "--course", course).output

    enrolled = {e for (e,) in query(company, "SELECT learner_email FROM progress WHERE "
                                    "course_external_id = ?", (course,))}  # fmt: skip
    expected = sorted((e, *people[e]) for e in enrolled if e in people)
    assert expected, "the course has people of the company"
    for rows in (as_json, as_csv):
        assert (
            sorted((r["learner_email"], r["learner_name"], r["learner_id"]) for r in rows)
            == expected
        )
    assert {str(r["matched"]) for r in as_csv} == {"1"}
    ((title,),) = query(company, "SELECT title FROM courses WHERE external_id = ?", (course,))
    assert table.splitlines()[0] == f"course {course}: {title}"
    for email, name, external_id in expected:
        line = next(line for line in table.splitlines() if email in line)
        assert name in line and external_id in line and "not matched" not in line
    # The provider's own learner ids (310000...) are not what the company reads.
    provider_ids = {i for (i,) in query(company, "SELECT learner_external_id FROM progress "
                                        "WHERE course_external_id = ?", (course,))}  # fmt: skip
    assert not provider_ids & {r["learner_id"] for r in as_json}


def test_archived_courses_are_marked_in_every_format(company, lo):
    archived = {c for (c,) in query(company, "SELECT external_id FROM courses WHERE archived = 1")}
    assert archived, "day 2 archived courses"

    as_json = json.loads(lo("stats", "--format", "json").output)
    as_csv = list(csv.DictReader(io.StringIO(lo("stats", "--format", "csv").output)))
    table = lo("stats").output.splitlines()

    assert {r["course"] for r in as_json if r["archived"]} == archived
    assert {r["course"] for r in as_csv if r["archived"] == "1"} == archived
    marked = {r["course"] for r in as_json if any(
        r["course"] in line and "archived" in line.split() for line in table)}  # fmt: skip
    assert marked == archived


def fold(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def test_a_course_is_found_by_part_of_its_title_whatever_the_case_and_accents(company, lo):
    titles = query(
        company,
        "SELECT provider, external_id, title FROM courses GROUP BY title HAVING count(*) = 1",
    )
    provider, course, title = next(t for t in titles if fold(t[2]) != t[2])
    typed = fold(title).upper()[1:]  # no accent, another case, part of it

    by_title = lo("stats", "--course", typed, "--format", "json")
    by_id = lo("stats", "--course", course, "--provider", provider, "--format", "json")
    table = lo("stats", "--course", typed)

    assert by_title.exit_code == 0, by_title.output
    assert json.loads(by_title.output) == json.loads(by_id.output) != []
    assert table.output.startswith(f"course {provider} {course}: {title}")


def test_a_title_of_several_courses_lists_them_with_their_ids_and_exits_2(company, lo):
    ((title, count),) = query(
        company, "SELECT title, count(*) FROM courses GROUP BY title ORDER BY 2 DESC LIMIT 1"
    )
    ids = [
        i for (i,) in query(company, "SELECT external_id FROM courses WHERE title = ?", (title,))
    ]
    assert count > 1

    result = lo("stats", "--course", title.lower())

    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1
    assert f"names {count} courses" in result.output
    assert all(i in result.output for i in ids[:10])
    assert "Traceback" not in result.output


@pytest.mark.parametrize("typed", ["no course has this title", "x" * 201])
def test_a_course_nothing_names_is_one_line_and_exit_2(lo, typed):
    result = lo("stats", "--course", typed)

    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1
    assert "no course" in result.output or "201 characters" in result.output
