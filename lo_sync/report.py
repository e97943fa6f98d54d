"""The statistics an L&D admin reads: per course, or per learner of one course."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from typing import Any, TextIO

from lo_sync.errors import InputError
from lo_sync.output import Reporter
from lo_sync.store import Store


def statistics_rows(store: Store, providers: tuple[str, ...], course: str | None) -> list[dict]:
    if course and not any(store.reports.course_known(p, course) for p in providers or (None,)):
        where = " or ".join(providers) if providers else "any provider"
        raise InputError(
            f"no course {course!r} at {where}: neither the catalog nor the statistics hold "
            "it. `lo-sync stats` lists the course ids it knows"
        )
    # Once the company has imported its people, only they count: provider rows
    # for people who left or were never matched stay stored but out of the report.
    company_only = store.reports.has_learners()
    rows: list[dict] = []
    for provider in providers or (None,):
        if course:
            rows += store.reports.course_learner_stats(provider, course, company_only)
        else:
            rows += store.reports.course_stats(provider, company_only)
    return rows


def write_rows(reporter: Reporter, rows: list[dict], fmt: str, title: str) -> None:
    if fmt == "json":
        json.dump(rows, reporter.stdout, ensure_ascii=False, indent=2)
        reporter.stdout.write("\n")
    elif fmt == "csv":
        write_csv(reporter.stdout, rows)
    else:
        reporter.table(rows, title=title)
    if reporter.stdout is sys.stdout:
        sys.stdout.flush()


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+cmd|...`),
    behind a leading `'`, so it shows as the text it is. Only text is touched: a number
    lo-sync writes, negative or not, stays a number."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(stream: TextIO, rows: list[dict]) -> None:
    """Rows as CSV, header first, one line ending in \\n each: every CSV lo-sync writes goes
    through here, since its text cells come from providers and may be opened in a
    spreadsheet."""
    if not rows:
        return
    names = list(rows[0])
    # The csv module quotes a cell holding a character of the line terminator, and only
    # then: with "\n" alone, a bare \r in a title would go out unquoted, and a spreadsheet
    # would start a new row there, whose first cell escaped the check above. So each line
    # is written with "\r\n" and ends in "\n".
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    cells_of_rows = ([spreadsheet_cell(row[name]) for name in names] for row in rows)
    for cells in itertools.chain([names], cells_of_rows):
        writer.writerow(cells)
        stream.write(line.getvalue()[:-2] + "\n")
        line.seek(0)
        line.truncate()
