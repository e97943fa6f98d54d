"""lo-sync learners unmatched: the learners in provider statistics whom none of the
company's people match, and those more than one matches, after a real night against
the simulator and a real `learners import` of its HR export (which leaves out the
last tenth of the simulated learners)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lo_sync.simulator.learners import learner_email, write_hr_export
from tests.helpers.ops import SMALL, invoke, sql


def expected_unmatched(night, db) -> list[tuple[str, str, int]]:
    """(provider, e-mail, rows) of every learner the HR export leaves out."""
    left_out = [learner_email(n) for n in range(night.imported, night.imported * 2)]
    marks = ", ".join("?" * len(left_out))
    return sql(
        db,
        f"SELECT provider, learner_email, count(*) FROM progress WHERE learner_email IN ({marks}) "
        "GROUP BY provider, learner_email",
        tuple(left_out),
    )


def listed(result, fmt: str) -> list[dict]:
    assert result.code == 0, result.stderr
    if fmt == "json":
        return json.loads(result.stdout)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(result.stdout)))
    lines = result.stdout.splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=True)) for line in lines[1:]]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_every_learner_the_hr_export_leaves_out_is_listed_with_its_rows(night, fmt):
    rows = listed(invoke(night, "learners", "unmatched", "--format", fmt), fmt)

    got = sorted((r["provider"], r["learner_email"], int(r["rows"])) for r in rows)
    expected = sorted(expected_unmatched(night, night.db))
    assert got == expected and len({e for _, e, _ in expected}) > 1
    assert {r["match"] for r in rows} == {"unmatched"}
    # OpenClassrooms' learners are fewer than the export lists: all of them match.
    assert {r["provider"] for r in rows} == {"coursera"}
    assert all(int(r["courses"]) >= 1 for r in rows)


def test_provider_keeps_to_that_providers_statistics(night):
    coursera = invoke(night, "learners", "unmatched", "--provider", "coursera", "--format", "json")
    openclassrooms = invoke(night, "learners", "unmatched", "--provider", "openclassrooms")

    assert len(listed(coursera, "json")) == len(expected_unmatched(night, night.db))
    assert openclassrooms.stdout == "every learner in the statistics matches exactly one person\n"


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_two_people_with_the_learners_external_id_make_it_ambiguous(night, copy, tmp_path):
    [(email, external_id)] = sql(
        copy,
        "SELECT learner_email, learner_external_id FROM progress WHERE learner_external_id "
        "LIKE 'EMP-%' AND learner_email NOT IN (SELECT email FROM learners) "
        "ORDER BY learner_email LIMIT 1",
    )
    # Two people of the company hold that id (one file may not: two imports do).
    for who in ("ana", "bo"):
        line = f"{who}@corp.example,{external_id},{who}"
        people = write(tmp_path / f"{who}.csv", f"email,external_id,name\n{line}\n")
        assert invoke(night, "learners", "import", people, db=copy).code == 0

    rows = listed(invoke(night, "learners", "unmatched", "--format", "json", db=copy), "json")

    ambiguous = [r for r in rows if r["match"] == "ambiguous"]
    assert {(r["learner_email"], r["learner_external_id"]) for r in ambiguous} == {
        (email, external_id)
    }
    assert email not in {r["learner_email"] for r in rows if r["match"] == "unmatched"}
    # Unmatched first, then the ambiguous, per provider.
    for provider in {r["provider"] for r in ambiguous}:
        matches = [r["match"] for r in rows if r["provider"] == provider]
        assert matches == sorted(matches, reverse=True)


def test_when_everyone_matches_it_says_so_in_one_line(night, copy, tmp_path):
    everyone = tmp_path / "everyone.csv"
    write_hr_export(everyone, SMALL, share=1.0)
    assert invoke(night, "learners", "import", str(everyone), db=copy).code == 0

    result = invoke(night, "learners", "unmatched", db=copy)

    assert (result.code, result.stdout) == (
        0,
        "every learner in the statistics matches exactly one person\n",
    )


@pytest.mark.parametrize("fmt,stdout", [("table", None), ("json", "[]\n"), ("csv", "")])
def test_with_no_learners_imported_it_says_so_in_one_line(night, copy, fmt, stdout):
    sql(copy, "DELETE FROM learners")

    result = invoke(night, "learners", "unmatched", "--format", fmt, db=copy)

    assert result.code == 0
    said = result.stdout if fmt == "table" else result.stderr
    assert said.splitlines()[-1].endswith(
        "no learners imported yet: every statistics row would be unmatched "
        "(import them with `lo-sync learners import FILE`)"
    )
    assert len(said.splitlines()) == 1
    if stdout is not None:
        assert result.stdout == stdout


def test_a_missing_database_is_one_line_and_exit_2(night, tmp_path):
    result = invoke(night, "learners", "unmatched", db=tmp_path / "none.db")

    assert result.code == 2 and "no database at" in result.stderr
    assert list(tmp_path.iterdir()) == []
