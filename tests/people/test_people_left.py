"""`learners import --replace`: the file is the whole company. People absent from it are
marked as left, never deleted, and leave the company's counts; a guard refuses an
import that would empty too much of the company at once."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest


def query(company, sql, params=()):
    with sqlite3.connect(company / "lo-sync.db") as conn:
        return conn.execute(sql, params).fetchall()


def without_last(company, count: int):
    """people.csv without its last `count` people: (the shorter file, who is missing)."""
    lines = (company / "people.csv").read_text().splitlines()
    kept, gone = lines[: len(lines) - count], lines[len(lines) - count :]
    path = company / f"people-minus-{count}.csv"
    path.write_text("\n".join(kept) + "\n")
    return path, sorted(line.split(",")[0] for line in gone)


@pytest.fixture
def imported(company, lo):
    assert lo("learners", "import", str(company / "people.csv")).exit_code == 0
    return company


def learners_table(company):
    return query(company, "SELECT email, external_id, name, left_at FROM learners ORDER BY id")


def test_a_dry_run_shows_who_would_be_marked_as_left_and_writes_nothing(imported, lo):
    path, gone = without_last(imported, 7)
    before = learners_table(imported)

    result = lo("learners", "import", str(path), "--replace", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("dry run: learners: ")
    assert "7 to be marked as left (" + ", ".join(gone[:5]) + " and 2 more)" in result.output
    assert learners_table(imported) == before


def test_people_absent_from_the_file_are_marked_as_left_and_kept_with_their_history(imported, lo):
    path, gone = without_last(imported, 3)
    progress_before = query(imported, "SELECT count(*) FROM progress")
    counts_before = json.loads(lo("stats", "--format", "json").output)

    result = lo("learners", "import", str(path), "--replace")

    assert result.exit_code == 0, result.output
    assert "3 marked as left" in result.output
    left = query(imported, "SELECT email, left_at FROM learners WHERE left_at IS NOT NULL")
    assert sorted(email for email, _ in left) == gone
    assert all(at and at[:4].isdigit() for _, at in left)
    assert query(imported, "SELECT count(*) FROM learners")[0][0] == len(learners_table(imported))
    assert query(imported, "SELECT count(*) FROM progress") == progress_before
    # Out of the company's counts: each course loses exactly the rows of those who left.
    counts_after = json.loads(lo("stats", "--format", "json").output)
    their_rows = Counter(
        (p, c)
        for p, c, email in query(
            imported, "SELECT provider, course_external_id, learner_email FROM progress "
            "WHERE completed = 1 OR progress_percent > 0"
        )
        if email in gone
    )  # fmt: skip
    assert their_rows, "the people who left had started courses"
    after = {(r["provider"], r["course"]): r["learners_started"] for r in counts_after}
    for row in counts_before:
        key = (row["provider"], row["course"])
        assert after.get(key, 0) == row["learners_started"] - their_rows[key]
    # Their history stays readable, with the date they left.
    report = json.loads(lo("stats", "--learner", gone[0], "--format", "json").output)
    assert report["learner"]["left_at"] == dict(left)[gone[0]]
    assert (
        len(report["courses"])
        == query(imported, "SELECT count(*) FROM progress WHERE learner_email = ?", (gone[0],))[0][
            0
        ]
    )


def test_someone_who_left_and_is_in_a_later_file_is_back(imported, lo):
    path, gone = without_last(imported, 2)
    assert lo("learners", "import", str(path), "--replace").exit_code == 0
    counts_with_them = json.loads(lo("stats", "--format", "json").output)

    again = lo("learners", "import", str(imported / "people.csv"), "--replace")

    assert again.exit_code == 0, again.output
    assert "2 back" in again.output and "left" not in again.output
    assert query(imported, "SELECT count(*) FROM learners WHERE left_at IS NOT NULL") == [(0,)]
    assert json.loads(lo("stats", "--format", "json").output) != counts_with_them


def test_the_guard_refuses_to_mark_too_many_as_left_and_writes_nothing(imported, lo):
    people = len(learners_table(imported))
    path, gone = without_last(imported, people // 2)
    before = learners_table(imported)

    refused = lo("learners", "import", str(path), "--replace")
    dry = lo("learners", "import", str(path), "--replace", "--dry-run")

    assert refused.exit_code == 3
    line = refused.output.strip()
    assert "\n" not in line
    assert f"would mark {len(gone)} of {people} people as left" in line
    assert f"10% of {people} = {people // 10}" in line
    assert f"--max-left {len(gone)} or --force" in line
    assert dry.exit_code == 3 and f"{len(gone)} to be marked as left" in dry.output
    assert learners_table(imported) == before


@pytest.mark.parametrize("option", [("--max-left", "{n}"), ("--max-left", "60%"), ("--force",)])
def test_the_guard_lets_through_what_the_operator_allows(imported, lo, option):
    people = len(learners_table(imported))
    path, gone = without_last(imported, people // 2)
    allowed = [part.format(n=len(gone)) for part in option]

    result = lo("learners", "import", str(path), "--replace", *allowed)

    assert result.exit_code == 0, result.output
    assert query(imported, "SELECT count(*) FROM learners WHERE left_at IS NOT NULL") == [
        (len(gone),)
    ]


def test_a_limit_just_below_is_still_refused(imported, lo):
    path, gone = without_last(imported, 5)

    result = lo("learners", "import", str(path), "--replace", "--max-left", "4")

    assert result.exit_code == 3 and "above the limit (4)" in result.output


@pytest.mark.parametrize("value", ["ten", "-1", "2.5", "%"])
def test_a_max_left_that_is_not_a_count_or_a_share_is_exit_2(imported, lo, value):
    result = lo(
        "learners", "import", str(imported / "people.csv"), "--replace", "--max-left", value
    )

    assert result.exit_code == 2
    assert "--max-left" in result.output and len(result.output.splitlines()) == 1


def test_without_replace_nobody_is_marked_as_left(imported, lo):
    path, _ = without_last(imported, 20)

    result = lo("learners", "import", str(path))

    assert result.exit_code == 0 and "left" not in result.output
    assert query(imported, "SELECT count(*) FROM learners WHERE left_at IS NOT NULL") == [(0,)]
