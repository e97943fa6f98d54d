"""lo-sync export: courses, progress and changes for downstream systems, from two real
nights against the simulator, as CSV and JSON Lines, to stdout or a file."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat

import pytest

from lo_sync.report import spreadsheet_cell
from lo_sync.store.exports import CHANGE_COLUMNS, COURSE_COLUMNS, PROGRESS_COLUMNS
from tests.helpers.ops import invoke, sql

LONG_AGO = "2026-01-01T00:00:00Z"


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def jsonl_rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_courses_as_csv_are_every_stored_course_with_its_columns(night):
    result = invoke(night, "export", "courses")

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(COURSE_COLUMNS)
    rows = csv_rows(result.stdout)
    stored = sql(night.db, "SELECT provider, external_id, title, updated_at FROM courses")
    got = [(r["provider"], r["external_id"], r["title"], r["updated_at"]) for r in rows]
    # Text that starts like a formula is behind a "'", ids included (Coursera's may
    # start with "-"): the one CSV rule. JSON Lines carries them as they are.
    assert sorted(got) == sorted(tuple(spreadsheet_cell(v) for v in row) for row in stored)
    assert any(r["external_id"].startswith("'-") for r in rows)
    assert {r["provider"] for r in rows} == {"coursera", "openclassrooms"}


def test_courses_as_jsonl_keep_types_and_skills_as_a_list(night):
    result = invoke(night, "export", "courses", "--format", "jsonl", "--provider", "coursera")

    assert result.code == 0, result.stderr
    rows = jsonl_rows(result.stdout)
    assert (
        len(rows) == sql(night.db, "SELECT count(*) FROM courses WHERE provider = 'coursera'")[0][0]
    )
    assert {r["provider"] for r in rows} == {"coursera"}
    assert all(isinstance(r["skills"], list) for r in rows)
    assert any(r["skills"] for r in rows)
    assert all(isinstance(r["archived"], int) for r in rows)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_progress_is_every_stored_row_with_when_it_last_changed(night, fmt):
    result = invoke(night, "export", "progress", "--format", fmt, "--provider", "openclassrooms")

    assert result.code == 0, result.stderr
    rows = csv_rows(result.stdout) if fmt == "csv" else jsonl_rows(result.stdout)
    assert list(rows[0]) == [*PROGRESS_COLUMNS, "course_archived", "last_changed_at"]
    archived = {c for (c,) in sql(night.db, "SELECT external_id FROM courses WHERE archived = 1")}
    marked = {r["course_external_id"] for r in rows if str(r["course_archived"]) == "1"}
    assert marked == archived & {r["course_external_id"] for r in rows}
    stored = sql(
        night.db,
        "SELECT p.course_external_id, p.learner_key, r.finished_at FROM progress p "
        "JOIN sync_runs r ON r.id = p.last_run_id WHERE p.provider = 'openclassrooms'",
    )
    got = [(r["course_external_id"], r["learner_key"], r["last_changed_at"]) for r in rows]
    assert sorted(got) == sorted(stored)
    if fmt == "jsonl":
        assert all(isinstance(r["progress_percent"], float | int) for r in rows)


def test_progress_names_each_learner_as_the_company_does(night):
    result = invoke(night, "export", "progress", "--format", "jsonl")

    assert result.code == 0, result.stderr
    rows = jsonl_rows(result.stdout)
    people = dict(
        (email, (name, external_id))
        for email, name, external_id in sql(
            night.db, "SELECT email, name, external_id FROM learners"
        )
    )
    matched = [r for r in rows if r["matched"]]
    unmatched = [r for r in rows if not r["matched"]]
    assert matched and unmatched  # the HR file leaves a tenth of the learners out
    for row in matched:
        assert (row["learner_name"], row["learner_id"]) == people[row["learner_email"]]
        assert row["provider_email"] == row["learner_email"] or row["provider_email"] is None
    for row in unmatched:
        assert row["learner_email"] not in people
        assert (row["learner_email"], row["learner_id"]) == (
            row["provider_email"],
            row["provider_learner_id"],
        )


def count(db, query: str) -> int:
    return sql(db, query)[0][0]


def test_since_keeps_only_what_changed_after_it_in_each_export(night, copy):
    # The first night, moved to January: after June, only the second night changed things.
    second_night = count(
        copy,
        "SELECT min(id) FROM sync_runs WHERE command = 'sync-catalog' "
        "AND id > (SELECT max(id) FROM sync_runs WHERE command = 'archive')",
    )
    before = f"run_id < {second_night}"
    sql(copy, f"UPDATE sync_runs SET finished_at = '{LONG_AGO}' WHERE id < {second_night}")
    sql(copy, f"UPDATE course_changes SET changed_at = '{LONG_AGO}' WHERE {before}")
    sql(copy, f"UPDATE progress_history SET changed_at = '{LONG_AGO}' WHERE {before}")
    sql(copy, "UPDATE courses SET updated_at = ? WHERE provider = 'coursera'", (LONG_AGO,))

    def export(kind, since, *args):
        result = invoke(night, "export", kind, "--since", since, *args, db=copy)
        assert result.code == 0, result.stderr
        return result.stdout

    courses = csv_rows(export("courses", "2026-06-01"))
    progress = csv_rows(export("progress", "2026-06-01"))
    changes = jsonl_rows(export("changes", "2026-06-01T00:00:00Z", "--format", "jsonl"))

    assert {r["provider"] for r in courses} == {"openclassrooms"}
    assert len(courses) == count(copy, "SELECT count(*) FROM courses WHERE provider <> 'coursera'")
    # Only OpenClassrooms' statistics synced on the second night, and only changed rows moved.
    assert {r["provider"] for r in progress} == {"openclassrooms"}
    later = f"SELECT count(*) FROM progress WHERE last_run_id >= {second_night}"
    assert 0 < len(progress) == count(copy, later)
    assert {r["kind"] for r in changes} == {"course", "progress"}
    assert min(r["run_id"] for r in changes) >= second_night
    assert len(changes) == count(
        copy,
        f"SELECT (SELECT count(*) FROM course_changes WHERE NOT {before}) "
        f"+ (SELECT count(*) FROM progress_history WHERE NOT {before})",
    )


def test_changes_are_one_flat_shape_course_changes_then_progress_history(night):
    result = invoke(night, "export", "changes")

    assert result.code == 0, result.stderr
    rows = csv_rows(result.stdout)
    assert list(rows[0]) == list(CHANGE_COLUMNS)
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds)  # 'course' rows, then 'progress' rows
    counts = sql(night.db, "SELECT (SELECT count(*) FROM course_changes), "
                 "(SELECT count(*) FROM progress_history)")[0]  # fmt: skip
    assert (kinds.count("course"), kinds.count("progress")) == counts
    progress = [r for r in rows if r["kind"] == "progress"]
    assert all(r["learner_key"] and r["field"] for r in progress)
    regression = [r for r in progress if r["regression"] == "1"]
    assert regression and {r["action"] for r in regression} == {"regression"}
    assert {r["action"] for r in rows if r["kind"] == "course"} >= {"created", "updated"}


def test_csv_neutralises_formulas_but_jsonl_keeps_the_text(night, copy):
    formula = '=HYPERLINK("http://evil.example/","x")'
    sql(copy, "UPDATE courses SET title = ?, description = '-2+3' WHERE provider = 'coursera'",
        (formula,))  # fmt: skip

    as_csv = csv_rows(invoke(night, "export", "courses", "--provider", "coursera", db=copy).stdout)
    as_jsonl = jsonl_rows(
        invoke(night, "export", "courses", "--provider", "coursera", "--format", "jsonl",
               db=copy).stdout
    )  # fmt: skip

    assert {r["title"] for r in as_csv} == {"'" + formula}
    assert {r["description"] for r in as_csv} == {"'-2+3"}
    assert {r["title"] for r in as_jsonl} == {formula}


def test_output_replaces_the_file_owner_only_and_leaves_no_temporary_file(night, tmp_path):
    target = tmp_path / "progress.csv"
    target.write_text("yesterday\n")
    target.chmod(0o644)

    result = invoke(night, "export", "progress", "--output", str(target))

    assert result.code == 0, result.stderr
    count = sql(night.db, "SELECT count(*) FROM progress")[0][0]
    assert result.stdout == f"{result.stdout[:21]}exported {count:,} progress rows to {target}\n"
    assert target.read_text() == invoke(night, "export", "progress").stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.csv"]


def test_an_export_that_fails_midway_leaves_the_old_file_whole(night, tmp_path, monkeypatch):
    import lo_sync.export

    target = tmp_path / "courses.csv"
    target.write_text("yesterday\n")
    real = lo_sync.export.write_csv_rows

    def disk_full(out, names, rows):
        real(out, names, (row for i, row in zip(range(10), rows, strict=False)))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lo_sync.export, "write_csv_rows", disk_full)

    result = invoke(night, "export", "courses", "--output", str(target))

    assert result.code == 2
    assert result.stderr.strip().endswith(
        f"cannot write export file {target}: No space left on device"
    )
    assert target.read_text() == "yesterday\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["courses.csv"]


def test_output_refuses_a_symbolic_link_and_leaves_its_target_alone(night, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "export.csv"
    link.symlink_to(victim)

    result = invoke(night, "export", "courses", "--output", str(link))

    assert result.code == 2
    assert "is a symbolic link" in result.stderr and len(result.stderr.splitlines()) == 1
    assert victim.read_text() == "precious\n" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "victim"]


def test_nothing_since_a_future_date_is_a_header_and_one_line_saying_so(night):
    result = invoke(night, "export", "courses", "--since", "2099-01-01")

    assert result.code == 0
    assert result.stdout == ",".join(COURSE_COLUMNS) + "\n"
    assert result.stderr.strip().endswith(
        "no courses rows changed since 2099-01-01T00:00:00Z to export"
    )


def test_a_missing_database_is_one_line_exit_2_and_is_not_created(night, tmp_path):
    result = invoke(night, "export", "courses", db=tmp_path / "none.db")

    assert result.code == 2
    assert "no database at" in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-12-01T25:00", "1.12.2026"])
def test_a_bad_since_is_one_line_and_exit_2(night, value):
    result = invoke(night, "export", "changes", "--since", value)

    assert result.code == 2
    assert "--since" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_streaming_csv_writes_exactly_what_write_csv_writes():
    """One CSV rule: the export's writer and the report's agree on every hostile cell,
    in batches with and without a carriage return among them."""
    from lo_sync.export import write_csv_rows
    from lo_sync.report import write_csv

    hostile = [{"a": "x\r=y", "b": 1}, {"a": "p\nq", "b": -2}, {"a": "-3", "b": None}]
    rows = hostile * 400 + [{"a": '@plain, quoted "too"', "b": 2.5}] * 1200
    report, streamed = io.StringIO(), io.StringIO()

    write_csv(report, rows)
    written = write_csv_rows(streamed, ["a", "b"], (tuple(r.values()) for r in rows))

    assert streamed.getvalue() == report.getvalue() and written == len(rows)


def test_output_refuses_to_replace_the_database_itself(night, copy):
    before = copy.read_bytes()

    result = invoke(night, "export", "courses", "--output", str(copy), db=copy)

    assert result.code == 2 and "is the database itself" in result.stderr
    assert copy.read_bytes() == before
