"""`lo-sync report --html FILE`: the dashboard an L&D admin opens, as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from lo_sync.options import App, global_options


@click.command("report")
@global_options
@click.option(
    "--html",
    "html_file",
    required=True,
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Write the dashboard to FILE: one self-contained page, replaced atomically.",
)
@click.pass_obj
def report(app: App, html_file: Path):
    """Write the learning dashboard (per provider, per course, completions over time, the
    last runs) as one HTML file that opens anywhere, from a disk or an e-mail."""
    from lo_sync.dashboard import check_target, collect, render, write_page

    check_target(html_file)  # a FILE that cannot be written fails before the database is read
    path = app.existing_db_path()
    with app.store(write=False) as store:
        figures = collect(store)
    if figures.empty:
        said = f"nothing to report yet: {path} holds no course and no statistics"
        app.reporter.line(app.reporter.stamp() + said)
        return
    write_page(html_file, render(figures))
    if not app.reporter.quiet:
        said = (
            f"report: {html_file} ({len(figures.courses):,} courses with statistics, "
            f"figures as of {figures.as_of})"
        )
        app.reporter.line(app.reporter.stamp() + said)
