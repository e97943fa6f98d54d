"""`lo-sync learners ...`: the company's people. Click only; the work is in learners.py."""

from __future__ import annotations

from pathlib import Path

import click

from lo_sync.options import App, global_options


@click.group("learners")
def learners():
    """The company's people, to whom provider statistics are matched."""


@learners.command("import")
@global_options
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and show what would change; write nothing."
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's encoding, e.g. cp1252 or latin-1. Default: UTF-8 (UTF-16 with a BOM).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="The file is the whole company: mark everyone absent from it as left (never deleted).",
)
@click.option(
    "--max-left",
    default="10%",
    show_default=True,
    metavar="N|N%",
    help="With --replace, refuse to mark more than this many people (or share of them) as left.",
)
@click.option("--force", is_flag=True, help="With --replace, mark however many people as left.")
@click.pass_obj
def learners_import(
    app: App,
    csv_file: Path,
    dry_run: bool,
    encoding: str | None,
    replace: bool,
    max_left: str,
    force: bool,
):
    """Import learners from a CSV with the columns email, external_id and name (re-importing
    updates; other columns are ignored; comma, semicolon or tab separated). With --replace,
    people absent from the file are marked as left."""
    from lo_sync.learners import apply_import, parse_max_left, plan_import, read_learners_file

    parse_max_left(max_left)  # a typo is a usage error before the file is read
    read = read_learners_file(csv_file, encoding)
    with app.store(write=not dry_run) as store:
        plan = plan_import(store, read.rows, replace, max_left, force)
        prefix = "dry run: " if dry_run else ""
        if dry_run or (not app.reporter.quiet and not plan.refusal):
            how = f" ({read.how_read()})" if read.how_read() else ""
            app.reporter.line(prefix + plan.summary(how, dry_run))
        if plan.refusal:
            raise plan.refusal
        if not dry_run:
            apply_import(store, read.rows, plan)
