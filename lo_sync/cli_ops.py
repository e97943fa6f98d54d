"""Commands for the people who use the data: `status` (did last night run?), `export`
(streams for downstream systems) and `learners unmatched`. Click only: each parses its
options and calls a plain module."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from lo_sync.errors import EXIT_SYNC_FAILED, ConfigError, InputError
from lo_sync.options import App, format_option, global_options
from lo_sync.providers import PROVIDERS


def _status_providers(app: App) -> list[str]:
    """The configured providers; with --db and no usable config (a monitoring host
    holds no API secrets), every provider lo-sync knows."""
    if app.db_option:
        try:
            return list(app.config().providers)
        except ConfigError:
            return sorted(PROVIDERS)
    return list(app.config().providers)


def _providers_option(help_text: str):
    return click.option(
        "--provider",
        "providers",
        multiple=True,
        type=click.Choice(sorted(PROVIDERS)),
        help=help_text,
    )


@click.command("status")
@global_options
@format_option("table", "json", "prometheus")
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Exit 1 when any last success is older than this (90m, 26h, 2d) or never happened; "
    "the first line then says OK or WARNING.",
)
@click.pass_obj
def status(app: App, fmt: str, max_age: str | None):
    """Show each configured provider's last sync-catalog, archive and sync-stats run:
    when, outcome, counts, how long ago, and the last success. Reads only."""
    from lo_sync import status as runs

    limit = runs.parse_max_age(max_age) if max_age is not None else None
    providers = _status_providers(app)
    # A missing database opens as an empty one (nothing created): every command "never".
    with app.store(write=False) as store:
        entries = runs.collect(store, providers)
    now = time.time()
    reporter = app.reporter
    if fmt == "json":
        json.dump(runs.json_document(entries, limit, now), reporter.stdout, indent=2)
        reporter.stdout.write("\n")
    elif fmt == "prometheus":
        reporter.stdout.write(runs.prometheus_text(entries))
    else:
        if limit is not None:
            reporter.line(runs.summary_line(entries, limit, now))
        reporter.table(runs.table_rows(entries, now), title="lo-sync status")
        for failure in runs.failures(entries):
            reporter.line(f"  {failure}")
    if limit is not None and runs.stale(entries, limit, now):
        sys.exit(EXIT_SYNC_FAILED)


@click.command("export")
@global_options
@click.argument("kind", type=click.Choice(["courses", "progress", "changes"]))
@_providers_option("Only this provider's rows (repeatable). Default: every provider's.")
@click.option(
    "--since",
    metavar="DATE",
    help="Only rows changed at or after this UTC date or time (2026-12-01, 2026-12-01T03:00:00Z).",
)
@format_option("csv", "jsonl")
@click.option(
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (replaced atomically, owner-only, never through a link). Default: stdout.",
)
@click.pass_obj
def export(app: App, kind: str, providers, since, fmt: str, output: Path | None):
    """Stream courses, progress or changes (catalog and statistics history) as CSV or JSON
    Lines, for downstream systems; memory stays flat at any size."""
    from lo_sync.export import atomic_output, parse_since
    from lo_sync.export import export as write_export

    since = parse_since(since) if since is not None else None
    database = app.existing_db_path()
    if output is not None and output.resolve() == database.resolve():
        raise InputError(f"--output {output} is the database itself; name another file")
    with app.store(write=False) as store:
        if output is None:
            count = write_export(store, kind, providers, since, fmt, app.reporter.stdout)
        else:
            with atomic_output(output) as stream:
                count = write_export(store, kind, providers, since, fmt, stream)
    after = f" changed since {since}" if since else ""
    if not count:
        app.reporter.warn(f"no {kind} rows{after} to export")
    elif output is not None and not app.reporter.quiet:
        stamp = app.reporter.stamp()
        app.reporter.line(f"{stamp}exported {count:,} {kind} rows{after} to {output}")


@click.command("unmatched")
@global_options
@_providers_option("Only this provider's statistics (repeatable). Default: every provider's.")
@format_option("table", "csv", "json")
@click.pass_obj
def learners_unmatched(app: App, providers, fmt: str):
    """List the learners in provider statistics whom none of the company's people match
    (by e-mail, else external id), and those more than one matches, with their rows."""
    from lo_sync.report import write_rows

    app.existing_db_path()
    with app.store(write=False) as store:
        if not store.reports.has_learners():
            return _nothing(
                app,
                fmt,
                "no learners imported yet: every statistics row would be unmatched "
                "(import them with `lo-sync learners import FILE`)",
            )
        rows = store.learners.unmatched(tuple(providers))
    if not rows:
        return _nothing(app, fmt, "every learner in the statistics matches exactly one person")
    write_rows(app.reporter, rows, fmt, title="unmatched and ambiguous learners")


def _nothing(app: App, fmt: str, text: str) -> None:
    """Found nothing: one line; on stderr when stdout is data (an empty JSON list, or
    an empty CSV), so that what reads it still parses."""
    if fmt == "table":
        app.reporter.line(text)
        return
    if fmt == "json":
        app.reporter.stdout.write("[]\n")
    app.reporter.warn(text)
