"""What a person or cron sees: rich tables at a terminal, one line per provider otherwise.

Nothing here decides anything; it renders plans and outcomes. Every text goes
through `redact` on its way out.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import TextIO

import click

from lo_sync.fetch.findings import SET_ASIDE, top_reasons
from lo_sync.providers import NOT_READ
from lo_sync.redact import redact
from lo_sync.store import utc_now
from lo_sync.sync import Outcome, Plan

# What str.splitlines breaks a line at: inside a message (a config key holding "\r", a
# provider's text) it would start a line of its own, without the stamp.
LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

# A terminal shows the first rows of a plan; piped output (e.g. to a file) gets every row.
TERMINAL_ROWS = 40
COUNT_ORDER = (
    "fetched",
    "created",
    "updated",
    "unchanged",
    "missing",
    "returned",
    "archived",
    "restored",
    "regressions",
    "unmatched",
    "ambiguous",
    "not_in_catalog",
    "rejected",
    "not_read",
    "new_in_data",
)


class Reporter:
    def __init__(self, quiet: bool = False, stdout: TextIO | None = None):
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdout.isatty()
        self.quiet = quiet
        self._console = None

    @property
    def console(self):
        # rich is imported only at a terminal: under cron it would be a tenth of a
        # second of start-up for nothing.
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        return self._console

    # --- progress ------------------------------------------------------------------------------

    @contextmanager
    def fetching(self, provider: str, what: str):
        """A live counter at a terminal; nothing under cron.

        The display is redrawn at each page rather than by rich's refresh thread:
        the fetch forks its worker when it asks for a page, and a child must not
        inherit a thread that may hold a lock.
        """
        if not self.interactive or self.quiet:
            yield lambda seen: None
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            auto_refresh=False,
        )
        task = progress.add_task(f"{provider}: fetching {what}", total=None)

        def on_page(seen: int) -> None:
            if not progress.live.is_started:
                progress.start()
            progress.update(task, completed=seen, refresh=True)

        try:
            yield on_page
        finally:
            if progress.live.is_started:
                progress.stop()

    # --- results -------------------------------------------------------------------------------

    def outcome(self, command: str, outcome: Outcome, dry_run: bool) -> None:
        if outcome.plan is not None and (dry_run or self.interactive):
            self.plan(outcome.plan, dry_run, outcome.run_id)
        for warning in outcome.plan.warnings if outcome.plan is not None else ():
            self.warn(f"{outcome.provider} {warning}")
        if outcome.error is not None:
            self.error(outcome.error)
        elif not self.quiet:
            prefix = "dry run: " if dry_run else ""
            self.line(
                f"{self.stamp()}{prefix}{outcome.provider} {command}: "
                f"{summary(outcome.plan.counts)}{reasons(outcome.plan)}"
            )

    def plan(self, plan: Plan, dry_run: bool, run_id: int | None = None) -> None:
        heading = f"{plan.provider} {plan.command}" + (
            " (dry run: nothing written)" if dry_run else ""
        )
        if not plan.changes and not plan.notes:
            if self.interactive:
                self.console.print(f"[bold]{redact(heading)}[/bold]: no changes")
            return
        if self.interactive:
            from rich.table import Table

            table = Table(title=redact(heading), show_lines=False, title_justify="left")
            table.add_column("action")
            table.add_column("id")
            table.add_column("detail", overflow="fold")
            for action, ident, detail in plan.changes[:TERMINAL_ROWS]:
                table.add_row(action, redact(ident), redact(detail))
            hidden = plan.more_changes + max(0, len(plan.changes) - TERMINAL_ROWS)
            if hidden:
                rest = where_the_rest_is(plan, dry_run, run_id)
                table.add_row("…", "", f"and {hidden:,} more {rest}")
            self.console.print(table)
            for note in plan.notes:
                self.console.print(f"  note: {redact(note)}")
        elif dry_run:
            for action, ident, detail in plan.changes:
                self.line(f"{plan.provider} {action} {ident}: {detail}")
            if plan.more_changes:
                rest = where_the_rest_is(plan, dry_run, None)
                self.line(f"{plan.provider} … and {plan.more_changes:,} more {rest}")
            for note in plan.notes:
                self.line(f"{plan.provider} note: {note}")

    def line(self, text: str) -> None:
        click.echo(redact(text), file=self.stdout)

    def stamp(self) -> str:
        """Under cron every line lands in a log file: stamped, the log reads as a history.
        At a terminal the reader is watching the run happen and needs no stamp."""
        return "" if self.interactive else utc_now() + " "

    def warn(self, text: str) -> None:
        click.echo(f"{self.stamp()}{one_line(redact(text))}", err=True)

    def error(self, error: BaseException | str) -> None:
        """One line on stderr: an error, an interruption, a refusal."""
        click.echo(f"{self.stamp()}lo-sync: {one_line(redact(error))}", err=True)

    def table(self, rows: list[dict], title: str | None = None) -> None:
        if not rows:
            self.line("no rows")
            return
        cells = [["" if v is None else redact(v) for v in row.values()] for row in rows]
        if not self.interactive:
            # Piped or logged: plain aligned columns, never squeezed to a terminal width.
            header = list(rows[0])
            widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
            for line in [header, *cells]:
                self.line("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
            return
        from rich import box
        from rich.table import Table

        # A rule under the header and one space between columns, no frame: seven
        # columns with 22-character ids fit 100 columns with room for titles, which
        # then wrap between words rather than being squeezed mid-word.
        table = Table(
            title=title,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        for i, name in enumerate(rows[0]):
            header = name.replace("_", " ")
            textual = any(isinstance(row[name], str) and " " in row[name] for row in rows)
            if textual:
                # Free text such as titles takes the width left and wraps between
                # words; only a word longer than the column folds.
                table.add_column(header, ratio=1, overflow="fold", justify="left")
                continue
            # Ids and numbers get their width and never wrap; their headers wrap
            # between words. rich would otherwise squeeze the widest column (the
            # titles) before wrapping a long header such as "average progress percent".
            width = max(len(w) for w in [*(line[i] for line in cells), *header.split()])
            table.add_column(header, width=width, justify="left" if i < 2 else "right")
        for line in cells:
            table.add_row(*line)
        self.console.print(table)


def one_line(text: str) -> str:
    """`text` with its line breaks written as escapes (`\\n`), so it stays one line."""
    return LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], text)


def where_the_rest_is(plan: Plan, dry_run: bool, run_id: int | None) -> str:
    """Where the rows a terminal does not show can be read, in parentheses."""
    if run_id is not None:  # applied: the database has every change
        if plan.command == "sync-stats":
            return f"(all in progress_history and progress, run {run_id})"
        return f"(all in course_changes, run {run_id})"
    if plan.command == "sync-stats":
        return "(a statistics plan lists only a sample)"
    if not dry_run:  # refused: nothing was written
        return "(nothing written; --dry-run piped to a file lists them all)"
    return "(pipe the dry run to a file for all)"


def reasons(plan: Plan) -> str:
    """'; set aside: email: missing (3), ...; not read: grade: is outside 0-1 (2)': why,
    in the summary line itself, so a log of summary lines says it too (the examples
    are in the run record's notes)."""
    parts = [
        f"; {label}: {top_reasons(found)}"
        for kind, label in ((SET_ASIDE, "set aside"), (NOT_READ, "not read"))
        if (found := plan.findings.reasons(kind))
    ]
    return "".join(parts)


def summary(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]:,} {_label(k, counts[k])}" for k in COUNT_ORDER if k in counts]
    return ", ".join(parts) if parts else "nothing to do"


def _label(key: str, count: int) -> str:
    # The other counts read as adjectives ("1 updated"); only this one is a noun.
    return "regression" if key == "regressions" and count == 1 else key.replace("_", " ")
