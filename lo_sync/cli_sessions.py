"""`lo-sync sessions ...`: the company's program sessions. Click only; the work is in
sessions.py."""

from __future__ import annotations

from pathlib import Path

import click

from lo_sync.options import App, format_option, global_options

FORMAT = format_option("table", "csv", "json")


@click.group("sessions")
def sessions():
    """Program sessions: ordered provider courses for a group, with dates and a cohort."""


@sessions.command("import")
@global_options
@click.argument("yaml_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show the changes; write nothing.")
@click.pass_obj
def sessions_import(app: App, yaml_file: Path, dry_run: bool):
    """Import program sessions from a YAML file (see sessions.example.yaml). Each session
    it names is replaced whole; sessions it does not name are left alone."""
    from lo_sync import sessions as program

    read = program.read_sessions_file(yaml_file)
    if not app.db_path().exists():
        program.refuse(read)  # a bad file is said first: it needs fixing either way
        app.existing_db_path()
    with app.store(write=not dry_run) as store:
        warnings = program.check_catalog(store, read)
        program.refuse(read)
        plan = program.plan_import(store, read)
        if not dry_run:
            program.apply_import(store, plan)
    reporter = app.reporter
    for warning in warnings:
        reporter.warn(f"warning: {warning}")
    if dry_run:
        for action, name, detail in plan.changes:
            reporter.line(f"session {action} {name!r}: {detail}")
    if dry_run or not reporter.quiet:
        counts = plan.counts
        alone = plan.left_alone
        rest = f" ({', '.join(repr(n) for n in alone[:5])}{', ...' if len(alone) > 5 else ''})"
        reporter.line(
            f"{reporter.stamp()}{'dry run: ' if dry_run else ''}sessions: "
            f"{counts['in_file']:,} in file, {counts['created']:,} created, "
            f"{counts['updated']:,} updated, {counts['unchanged']:,} unchanged; "
            f"{len(alone):,} not in the file left alone{rest if alone else ''}"
        )


@sessions.command("list")
@global_options
@FORMAT
@click.pass_obj
def sessions_list(app: App, fmt: str):
    """List program sessions: group, dates, open / closed / upcoming, courses, cohort size."""
    from lo_sync.report import write_rows
    from lo_sync.sessions import list_rows

    with app.store(write=False) as store:
        rows = list_rows(store)
    if not rows:
        nothing(app, fmt, "no program sessions yet; import some with `lo-sync sessions import`")
        return
    write_rows(app.reporter, rows, fmt, title="program sessions")


def nothing(app: App, fmt: str, text: str) -> None:
    """Say that a report found nothing: the line itself in a table; an empty document
    on stdout (`[]` in JSON) and the line on stderr otherwise, so a script still parses."""
    if fmt == "json":
        app.reporter.stdout.write("[]\n")
    if fmt == "table":
        app.reporter.line(text)
    else:
        app.reporter.warn(text)


def session_stats(app: App, name: str, fmt: str) -> None:
    """`lo-sync stats --session NAME`: one line per learner of the session."""
    from lo_sync.report import write_rows
    from lo_sync.session_progress import session_rows

    app.existing_db_path()
    with app.store(write=False) as store:
        rows = session_rows(store, name)
    if not rows:
        nothing(app, fmt, f"session {name!r}: no learner has started any of its courses yet")
        return
    write_rows(app.reporter, rows, fmt, title=f"session {name}")
