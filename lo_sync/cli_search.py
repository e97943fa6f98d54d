"""`lo-sync search`: the catalog's full-text search, as a command."""

from __future__ import annotations

import click

from lo_sync.options import App, format_option, global_options, stored_provider_option
from lo_sync.search import DEFAULT_LIMIT, MAX_LIMIT


@click.command("search")
@global_options
@click.argument("query")
@stored_provider_option
@click.option("--language", metavar="CODE", help="Only courses in this language (fr, pt-BR).")
@click.option("--include-archived", is_flag=True, help="Also show archived courses.")
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many courses, best first.",
)
@format_option("table", "csv", "json")
@click.pass_obj
def search(app: App, query, providers, language, include_archived, limit, fmt):
    """Find courses by words of their title, description or skills, best match first."""
    from lo_sync.report import write_rows
    from lo_sync.search import flat, search_rows

    app.existing_db_path()
    with app.store(write=False) as store:
        rows = search_rows(
            store,
            query,
            providers=providers,
            language=language,
            include_archived=include_archived,
            limit=limit,
        )
    if not rows:
        note = f"no course matches {query!r}"
        if fmt == "table":
            app.reporter.line(note)
            return
        # The document stays what a script expects (JSON `[]`, no CSV rows); the
        # note goes where a person reads it.
        app.reporter.warn(note)
    write_rows(app.reporter, rows if fmt == "json" else flat(rows), fmt, title=f"search {query}")
