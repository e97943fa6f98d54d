"""The statistics an L&D admin reads: per course, per learner of one course, and one
learner's courses at every provider."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from typing import Any, TextIO

from lo_sync.errors import InputError
from lo_sync.output import Reporter
from lo_sync.session_progress import learner_sessions
from lo_sync.store import Store

# Bounds on what an operator types: a course id or title, an e-mail or an id.
MAX_QUERY = 200
MAX_CANDIDATES_SHOWN = 10


def statistics_rows(store: Store, providers: tuple[str, ...], course: str | None) -> list[dict]:
    """Per course, or, with `course`, one line per learner of that course."""
    if course:
        return course_report(store, providers, course)["learners"]
    company_only = store.reports.has_learners()
    rows: list[dict] = []
    for provider in providers or (None,):
        rows += store.reports.course_stats(provider, company_only)
    return rows


def course_report(store: Store, providers: tuple[str, ...], course: str) -> dict:
    """One course's learners: {"courses": [(provider, id, title)], "learners": rows}.
    `course` is a provider's course id, or a title (whole or part, case and accents
    aside) that names one course."""
    found = find_course(store, providers, course)
    # Once the company has imported its people, only they count: provider rows
    # for people who left or were never matched stay stored but out of the report.
    company_only = store.reports.has_learners()
    rows: list[dict] = []
    for provider, course_id in dict.fromkeys((p, c) for p, c, _ in found):
        rows += store.reports.course_learner_stats(provider, course_id, company_only)
    return {"courses": found, "learners": rows}


def find_course(
    store: Store, providers: tuple[str, ...], text: str
) -> list[tuple[str | None, str, str | None]]:
    """(provider or None for any, course id, title) of the course `text` names."""
    text = _bounded("--course", text)
    by_id = [
        (p, text, store.reports.course_title(p, text))
        for p in providers or (None,)
        if store.reports.course_known(p, text)
    ]
    if by_id:
        return by_id
    for exact in (True, False):
        at = providers or (None,)
        titled = [row for p in at for row in store.reports.courses_titled(p, text, exact)]
        if len(titled) == 1:
            return [(titled[0]["provider"], titled[0]["course"], titled[0]["title"])]
        if titled:
            shown = titled[:MAX_CANDIDATES_SHOWN]
            more = len(titled) - len(shown)
            raise InputError(
                f"--course {text!r} names {len(titled)} courses: "
                + "; ".join(f"{r['provider']} {r['course']} {r['title']!r}" for r in shown)
                + (f"; and {more} more" if more else "")
                + ". Give the course id, or more of the title"
            )
    where = " or ".join(providers) if providers else "any provider"
    raise InputError(
        f"no course {text!r} at {where}: no course id, and no title holding it, in the "
        "catalog or the statistics. `lo-sync stats` lists the courses it knows"
    )


def learner_report(store: Store, key: str, providers: tuple[str, ...] = ()) -> dict:
    """One learner's courses at every provider, and where they stand in each program
    session that counts them: {"learner": who, "courses": rows, "sessions": rows}.

    `key` is an e-mail (any case), the company's external id, or a provider's learner
    id; `providers`, when given, keep to their courses. The dict is the report's whole
    shape, so that other parts (a program's sessions) can join it under keys of their
    own."""
    key = _bounded("--learner", key)
    people = store.learners.find(key)
    if people:
        person = people[0]
        courses = store.reports.person_courses(person)
        who = {
            "learner_name": person["name"],
            "learner_id": person["external_id"],
            "learner_email": person["email"],
            "matched": 1,
            "left_at": person["left_at"],
        }
    else:
        courses = store.reports.provider_learner_courses(key)
        if not courses:
            raise InputError(
                f"no learner {key!r}: neither the company's people nor the statistics hold "
                "that e-mail or id"
            )
        matched = {row["person_id"]: row["learner_email"] for row in courses}
        matched.pop(None, None)
        if len(matched) == 1:  # a provider's id for one of the company's people
            return learner_report(store, next(iter(matched.values())), providers)
        if matched:
            raise InputError(
                f"--learner {key!r} is the provider's id of {len(matched)} of the company's "
                f"people ({', '.join(sorted(matched.values()))}); give the e-mail"
            )
        first = courses[0]
        who = {name: first[name] for name in ("learner_name", "learner_id", "learner_email")}
        who |= {"matched": 0, "left_at": None}
    identity = {"learner_name", "learner_id", "learner_email", "matched", "person_id", "left_at"}
    rows = [
        {k: v for k, v in row.items() if k not in identity}
        for row in courses
        if not providers or row["provider"] in providers
    ]
    return {
        "learner": who,
        "courses": rows,
        "sessions": learner_sessions(store, who["learner_email"]),
    }


def who(learner: dict) -> str:
    """'Jeanne Martin (EMP-000042, jeanne@x.io)', with whether the company knows them."""
    ids = ", ".join(str(v) for v in (learner["learner_id"], learner["learner_email"]) if v)
    text = f"{learner['learner_name'] or learner['learner_email'] or learner['learner_id']}"
    text += f" ({ids})" if ids else ""
    if not learner["matched"]:
        text += ", not matched to the company's people"
    elif learner["left_at"]:
        text += f", left on {learner['left_at'][:10]}"
    return text


def _bounded(option: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise InputError(f"{option}: empty; give an id, an e-mail or a title")
    if len(text) > MAX_QUERY:
        raise InputError(f"{option}: {len(text):,} characters, above the {MAX_QUERY} allowed")
    return text


def for_table(rows: list[dict]) -> list[dict]:
    """Rows as a person reads them: a marker where a course is archived or a learner
    is not one the company imported, instead of 0/1."""
    marks = {"archived": ("", "archived"), "matched": ("not matched", "")}
    return [{k: (marks[k][bool(v)] if k in marks else v) for k, v in row.items()} for row in rows]


def write_rows(reporter: Reporter, rows: list[dict], fmt: str, title: str) -> None:
    if fmt == "json":
        json.dump(rows, reporter.stdout, ensure_ascii=False, indent=2)
        reporter.stdout.write("\n")
    elif fmt == "csv":
        write_csv(reporter.stdout, rows)
    else:
        reporter.table(for_table(rows), title=title)
    if reporter.stdout is sys.stdout:
        sys.stdout.flush()


def write_course(reporter: Reporter, report: dict, fmt: str) -> None:
    """One course's learners (`course_report`): the rows in JSON and CSV; as a table,
    under a line naming the course."""
    names = "; ".join(
        " ".join(str(part) for part in (provider, course) if part) + (f": {title}" if title else "")
        for provider, course, title in report["courses"]
    )
    if fmt != "table":
        write_rows(reporter, report["learners"], fmt, title="")
    elif not report["learners"]:
        reporter.line(f"course {names}: no learners to show")
    else:
        reporter.line(f"course {names}")
        reporter.table(for_table(report["learners"]))


def write_learner(reporter: Reporter, report: dict, fmt: str) -> None:
    """One learner's report (`learner_report`): the whole dict in JSON, the courses in
    CSV, and at a terminal a line naming the learner, then the courses."""
    if fmt == "json":
        json.dump(report, reporter.stdout, ensure_ascii=False, indent=2)
        reporter.stdout.write("\n")
    elif fmt == "csv":
        write_csv(reporter.stdout, report["courses"])
    else:
        reporter.line(who(report["learner"]))
        if report["courses"]:
            reporter.table(for_table(report["courses"]), title="courses")
        else:
            reporter.line("no courses in the statistics")
        if report["sessions"]:
            reporter.table(for_table(report["sessions"]), title="program sessions")
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
