"""The statistics an L&D admin reads: per course, or per learner of one course."""

from __future__ import annotations

import csv
import json
import sys

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
        if not rows:
            return
        writer = csv.DictWriter(reporter.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        reporter.table(rows, title=title)
    if reporter.stdout is sys.stdout:
        sys.stdout.flush()
