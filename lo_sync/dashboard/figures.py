"""Every number the dashboard shows, collected from the store in one read-only pass.

"Now", for the 7- and 30-day windows, is the end of the last statistics run (else of the
last run of any command), not the clock: the figures describe the statistics as they
were synced, so a report of last month's database reads as it did last month instead
of showing every window empty. Only a database with no run at all falls back to the
clock. The page says which, and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lo_sync.store import Store, utc_now

UNMATCHED_EXAMPLES = 5
TOP_COURSES = 10
MONTHS = 24  # the completions chart's longest span
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Figures:
    as_of: str  # ISO-8601 UTC, the end of the windows
    as_of_source: str  # what `as_of` is, in words
    written_at: str
    company_only: bool
    providers: list[dict]
    courses: list[dict]
    # (month 'YYYY-MM', completions), contiguous, oldest first, at most MONTHS
    months: list[tuple[str, int]]
    completions_before: int  # completions older than the first month shown
    unmatched: int
    unmatched_examples: list[str]
    runs: list[dict]

    @property
    def empty(self) -> bool:
        return not self.courses and not any(p["courses_offered"] for p in self.providers)

    @property
    def top_courses(self) -> list[dict]:
        """The most-followed courses: most learners started, at most TOP_COURSES."""
        ranked = sorted(
            (c for c in self.courses if c["learners_started"]),
            key=lambda c: (-c["learners_started"], c["provider"], c["course"]),
        )
        return ranked[:TOP_COURSES]


def collect(store: Store, clock: str | None = None) -> Figures:
    board = store.dashboard
    written_at = clock or utc_now()
    as_of, command = board.as_of()
    source = f"the end of the last {command} run" if command else "the time of writing (no run)"
    as_of = as_of or written_at
    until = _parse(as_of)
    company_only = board.company_only()
    unmatched, examples = board.unmatched(UNMATCHED_EXAMPLES)
    months, before = month_series(board.completions_by_month(company_only, as_of), MONTHS)
    return Figures(
        as_of=as_of,
        as_of_source=source,
        written_at=written_at,
        company_only=company_only,
        providers=board.providers(
            company_only, _iso(until - timedelta(days=7)), _iso(until - timedelta(days=30)), as_of
        ),
        courses=board.courses(company_only),
        months=months,
        completions_before=before,
        unmatched=unmatched,
        unmatched_examples=examples,
        runs=board.last_runs(),
    )


def month_series(counts: dict[str, int], longest: int) -> tuple[list[tuple[str, int]], int]:
    """Every month from the first with a completion to the last, zeros filled in, keeping
    the last `longest`; and how many completions fell before the months kept."""
    counts = {k: n for k, n in counts.items() if _MONTH.fullmatch(k)}
    if not counts:
        return [], 0
    first, last = min(counts), max(counts)
    months = []
    year, month = int(last[:4]), int(last[5:7])
    while len(months) < longest:
        key = f"{year:04d}-{month:02d}"
        months.append((key, counts.get(key, 0)))
        if key <= first:
            break
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    before = sum(n for key, n in counts.items() if key < months[0][0])
    return months, before


def _parse(iso: str) -> datetime:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
