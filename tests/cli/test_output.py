"""What a person reads: plan tables at a terminal, summaries, the stats table's width,
and the progress display (which must start no thread)."""

from __future__ import annotations

import io
import re
import threading

import pytest

from lo_sync.output import Reporter, summary
from lo_sync.sync import Outcome, Plan


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_display_runs_no_thread_a_forked_fetch_worker_could_inherit():
    """The fetch forks its worker when it asks for a page: no thread of rich's may
    be alive then, or the child could inherit a lock held by it."""
    terminal = Terminal()
    reporter = Reporter(stdout=terminal)
    before = threading.active_count()

    with reporter.fetching("coursera", "stats") as on_page:
        assert threading.active_count() == before
        on_page(1000)
        assert threading.active_count() == before
        on_page(2000)

    assert threading.active_count() == before
    assert "2,000 records" in terminal.getvalue()


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "30")
    stream = Terminal()
    return stream, Reporter(stdout=stream)


def catalog_plan(n: int) -> Plan:
    changes = [("create", f"c-{i}", f"Course {i}") for i in range(n)]
    return Plan("sync-catalog", "coursera", {"fetched": n, "created": n}, changes=changes)


def stats_plan() -> Plan:
    changes = [("update", f"c-1 / l{i}@x.io", "progress_percent: 1 → 2") for i in range(10)]
    counts = {"fetched": 500, "updated": 10, "created": 0, "regressions": 1}
    return Plan("sync-stats", "coursera", counts, changes=changes, more_changes=490)


def test_a_real_run_at_a_terminal_says_where_every_change_is_not_to_pipe_a_dry_run(terminal):
    stream, reporter = terminal

    reporter.outcome("sync-catalog", Outcome("coursera", catalog_plan(45), run_id=7), False)

    out = stream.getvalue()
    assert "and 5 more (all in course_changes, run 7)" in out
    assert "pipe the dry run" not in out


def test_a_catalog_dry_run_at_a_terminal_still_says_to_pipe_it(terminal):
    stream, reporter = terminal

    reporter.outcome("sync-catalog", Outcome("coursera", catalog_plan(45)), True)

    assert "and 5 more (pipe the dry run to a file for all)" in stream.getvalue()


def test_a_statistics_plan_says_it_lists_a_sample_since_piping_shows_no_more(terminal):
    stream, reporter = terminal
    reporter.outcome("sync-stats", Outcome("coursera", stats_plan()), True)
    reporter.outcome("sync-stats", Outcome("coursera", stats_plan(), run_id=9), False)

    out = stream.getvalue()
    assert "and 490 more (a statistics plan lists only a sample)" in out
    assert "and 490 more (all in progress_history and progress, run 9)" in out
    assert "pipe the dry run" not in out


def test_piped_statistics_dry_run_says_the_rest_is_not_listed():
    stream = io.StringIO()
    Reporter(stdout=stream).outcome("sync-stats", Outcome("coursera", stats_plan()), True)
    assert "coursera … and 490 more (a statistics plan lists only a sample)" in stream.getvalue()


def test_a_count_of_one_reads_in_the_singular():
    assert summary({"updated": 1, "regressions": 1}) == "1 updated, 1 regression"
    assert summary({"regressions": 2, "not_in_catalog": 1}) == "2 regressions, 1 not in catalog"


def stats_rows(n: int = 8) -> list[dict]:
    titles = [
        "Strategic Communication for Cross-Functional Leadership Specialization",
        "Introduction to Data Visualization with Python (2024 edition)",
        "Negotiation Fundamentals",
    ]
    return [
        {
            "provider": "openclassrooms" if i % 2 else "coursera",
            "course": f"Gtv4Xb1-EeS-ViIACwYK{i:02d}",
            "title": titles[i % len(titles)],
            "learners_started": 123,
            "learners_completed": 45,
            "average_progress_percent": 56.7,
            "time_spent_minutes": 12345.6,
        }
        for i in range(n)
    ]


def test_the_stats_table_fits_100_columns_and_wraps_titles_between_words(terminal):
    stream, reporter = terminal

    reporter.table(stats_rows(), title="statistics")

    text = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())  # colours take no columns
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100, "\n".join(lines)
    title_words = set(" ".join(r["title"] for r in stats_rows()).split())
    shown = set(re.findall(r"\S+", text))
    # every word of every title is shown whole somewhere: none was folded mid-word
    assert title_words <= shown, title_words - shown
