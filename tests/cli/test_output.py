"""The reporter at a terminal: what it starts, and when."""

from __future__ import annotations

import io
import threading

from lo_sync.output import Reporter


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
