"""The `lo-sync` command line: Click only. Commands parse options and call jobs.py."""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click

from lo_sync import __version__, jobs, sync
from lo_sync.config import Config, ProviderConfig, load_config, resolve_config_path
from lo_sync.errors import (
    EXIT_SYNC_FAILED,
    EXIT_USAGE,
    ConfigError,
    InputError,
    LoSyncError,
)
from lo_sync.output import Reporter
from lo_sync.providers import PROVIDERS
from lo_sync.redact import RedactingFilter, redact
from lo_sync.store import Store, disk_trouble

EXIT_INTERRUPTED = 130


@dataclass
class App:
    """What the global options name: the configuration, the database and the reporter."""

    config_option: str | None
    db_option: str | None
    reporter: Reporter
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(resolve_config_path(self.config_option))
            for warning in self._config.warnings:
                self.reporter.warn(warning)
        return self._config

    def db_path(self) -> Path:
        return Path(self.db_option) if self.db_option else self.config().database

    @contextmanager
    def store(self, *, write: bool) -> Iterator[Store]:
        with jobs.open_database(self.db_path(), write=write) as database:
            yield database.store

    def providers(self, names: tuple[str, ...]) -> list[ProviderConfig]:
        config = self.config()
        if not names:
            return list(config.providers.values())
        missing = [n for n in names if n not in config.providers]
        if missing:
            where = config.path or "the configuration"
            raise ConfigError(
                f"provider {', '.join(missing)} is not configured in {where} "
                f"(configured: {', '.join(config.providers) or 'none'})"
            )
        return [config.providers[n] for n in dict.fromkeys(names)]

    def run(self, command: str, providers: tuple[str, ...], options: jobs.Options) -> NoReturn:
        """Run a provider command and exit with the worst provider's code."""
        selected = self.providers(providers)
        with jobs.open_database(self.db_path(), write=not options.dry_run) as database:
            code = jobs.run(command, database, self.config(), selected, self.reporter, options)
        sys.exit(code)


class LoSyncGroup(click.Group):
    """Turns every expected error into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LoSyncError as exc:
            click.echo(f"lo-sync: {redact(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "lo-sync: interrupted; what this run had not committed was rolled back", err=True
            )
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            trouble = disk_trouble(exc)
            if trouble:
                logging.getLogger("lo_sync").debug("disk trouble", exc_info=True)
                click.echo(
                    f"lo-sync: {trouble}. Nothing from the failing step was committed", err=True
                )
                ctx.exit(EXIT_USAGE)
            # A bug, not a situation we planned for: still one line, still no secret.
            logging.getLogger("lo_sync").debug("internal error", exc_info=True)
            click.echo(
                f"lo-sync: internal error ({type(exc).__name__}: {redact(exc)}); "
                "nothing from the failing step was committed. Rerun with -vv for details",
                err=True,
            )
            ctx.exit(EXIT_SYNC_FAILED)


provider_option = click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(sorted(PROVIDERS)),
    help="Only this provider (repeatable). Default: every configured provider.",
)


def provider_options(func: Callable) -> Callable:
    """--provider and --dry-run, shared by every command that talks to providers."""

    @provider_option
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Print what would change and write nothing (a missing database is not created).",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _on_sigterm(signum, frame):
    # Same path as Ctrl-C: the open transaction rolls back and we say so.
    raise KeyboardInterrupt


@click.group(cls=LoSyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lo-sync")
@click.option(
    "--config",
    "config_option",
    metavar="FILE",
    help="Configuration YAML. Default: $LO_SYNC_CONFIG, else ./config.yaml.",
)
@click.option("--db", "db_option", metavar="FILE", help="SQLite database; overrides the config's.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing on success (errors still go to stderr)."
)
@click.option(
    "-v", "--verbose", count=True, help="Log HTTP and retry details to stderr (-vv: debug)."
)
@click.pass_context
def cli(ctx: click.Context, config_option, db_option, quiet, verbose):
    """Sync course catalogs and learner statistics from Coursera and OpenClassrooms into SQLite."""
    _configure_logging(verbose)
    signal.signal(signal.SIGTERM, _on_sigterm)
    ctx.obj = App(config_option, db_option, Reporter(quiet=quiet))


def _configure_logging(verbose: int) -> None:
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lo_sync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose > 1:
        for name in ("urllib3", "tenacity"):
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.DEBUG)


@cli.command("sync-catalog")
@provider_options
@click.pass_obj
def sync_catalog(app: App, providers, dry_run):
    """Fetch every course available to the organization and record created / updated / unchanged."""
    app.run("sync-catalog", providers, jobs.Options(dry_run=dry_run))


@cli.command("archive")
@provider_options
@click.option(
    "--max-archive",
    default=sync.DEFAULT_MAX_ARCHIVE,
    show_default=True,
    metavar="N|N%",
    help="Refuse to archive more than this many courses (or share of active ones) per provider.",
)
@click.option("--force", is_flag=True, help="Archive however many courses the rules select.")
@click.pass_obj
def archive(app: App, providers, dry_run, max_archive, force):
    """Archive courses the provider no longer offers, and restore those that came back."""
    sync.parse_max_archive(max_archive)  # a typo is a usage error before anything runs
    app.run(
        "archive", providers, jobs.Options(dry_run=dry_run, max_archive=max_archive, force=force)
    )


@cli.command("sync-stats")
@provider_options
@click.option(
    "--accept-regressions",
    is_flag=True,
    help="Take the provider's values even when they undo a completion or lower progress.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Apply even when the provider returns less than half of last run's rows.",
)
@click.pass_obj
def sync_stats(app: App, providers, dry_run, accept_regressions, force):
    """Fetch per-learner progress, completion, score and time spent for every provider course."""
    options = jobs.Options(dry_run=dry_run, force=force, accept_regressions=accept_regressions)
    app.run("sync-stats", providers, options)


@cli.group("learners")
def learners():
    """The company's people, to whom provider statistics are matched."""


@learners.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and show what would change; write nothing."
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's encoding, e.g. cp1252 or latin-1. Default: UTF-8 (UTF-16 with a BOM).",
)
@click.pass_obj
def learners_import(app: App, csv_file: Path, dry_run: bool, encoding: str | None):
    """Import learners from a CSV with the columns email, external_id and name (re-importing
    updates; other columns are ignored; comma, semicolon or tab separated)."""
    from lo_sync.learners import import_learners, read_learners_file

    read = read_learners_file(csv_file, encoding)
    rows = read.rows
    with app.store(write=not dry_run) as store:
        created, updated = import_learners(store, rows, dry_run=dry_run)
    prefix = "dry run: " if dry_run else ""
    how = f" ({read.how_read()})" if read.how_read() else ""
    if not app.reporter.quiet or dry_run:
        app.reporter.line(
            f"{prefix}learners: {len(rows):,} in file{how}, {created:,} created, "
            f"{updated:,} updated, {len(rows) - created - updated:,} unchanged"
        )


@cli.command("stats")
@provider_option
@click.option("--course", metavar="ID", help="One line per learner for this course's external id.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_obj
def stats(app: App, providers, course, fmt):
    """Show learning statistics per course (started, completed, average progress, time spent)."""
    from lo_sync.report import statistics_rows, write_rows

    path = app.db_path()
    if not path.exists():
        raise InputError(f"no database at {path} yet; run `lo-sync sync-stats` first")
    with app.store(write=False) as store:
        rows = statistics_rows(store, providers, course)
    write_rows(app.reporter, rows, fmt, title="statistics" if not course else f"course {course}")


@cli.command("simulate")
@click.option(
    "--port", default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port)."
)
@click.option(
    "--size",
    default=1000,
    show_default=True,
    help="Catalog size (Coursera contents; OpenClassrooms gets 40%).",
)
@click.option(
    "--enrollments", default=None, type=int, help="Coursera enrollment rows (default: 10 x size)."
)
@click.option(
    "--day",
    default=1,
    show_default=True,
    type=click.IntRange(1, 2),
    help="1: first night; 2: the next day (titles, statuses, removals, progress change).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND[:k=v,...]",
    help="Inject a fault, e.g. rate_limit:every=3 (repeatable; see README).",
)
def simulate(port, size, enrollments, day, faults):
    """Serve both providers' APIs on 127.0.0.1 from generated data, as the contract describes."""
    from lo_sync.simulator import CREDENTIALS, Fault, SimulatorConfig, serve_forever
    from lo_sync.simulator.client_config import config_yaml

    try:
        parsed = tuple(Fault.parse(f) for f in faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    config = SimulatorConfig.sized(size, enrollments, day, parsed)

    def ready(url: str) -> None:
        click.echo(f"simulator listening on {url} (Ctrl-C to stop)")
        click.echo("point a config at it with:")
        click.echo(config_yaml(url, CREDENTIALS, literal_secrets=True, database="lo-sync.db"))

    serve_forever(config, "127.0.0.1", port, on_ready=ready)


@cli.command("demo")
@click.option(
    "--dir",
    "folder",
    default="lo-sync-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo writes its config, learners CSV and database.",
)
@click.option("--size", default=300, show_default=True, help="Simulated catalog size.")
def demo(folder: Path, size: int):
    """Run the whole nightly job against the built-in simulator: no credentials needed."""
    from lo_sync.demo import run_demo
    from lo_sync.simulator import SimulatorConfig

    sys.exit(run_demo(folder, SimulatorConfig.sized(size), invoke=invoke))


def invoke(argv: list[str]) -> int:
    """Run lo-sync in this process on `argv`; its exit code."""
    try:
        # An error our group handles ends in ctx.exit, whose code main() returns here.
        code = cli.main(argv, prog_name="lo-sync", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return code if isinstance(code, int) else 0


def main() -> None:
    cli(prog_name="lo-sync")
