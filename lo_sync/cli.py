"""The `lo-sync` command line: Click only. Commands parse options and call jobs.py."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click

from lo_sync import __version__, jobs, sync
from lo_sync.config import Config, ProviderConfig, load_config, resolve_config_path
from lo_sync.errors import (
    EXIT_INTERRUPTED,
    EXIT_SYNC_FAILED,
    EXIT_USAGE,
    ConfigError,
    InputError,
    LoSyncError,
)
from lo_sync.limits import parse_duration
from lo_sync.output import Reporter
from lo_sync.providers import PROVIDERS
from lo_sync.redact import RedactingFilter
from lo_sync.store import DEFAULT_BUSY_TIMEOUT, Store, disk_trouble

# A reader that closed our stdout (`lo-sync stats | head`): 128 + SIGPIPE, the status
# a shell reports for coreutils or git in the same place, so `set -o pipefail` sees
# what it sees for `cat | head`. Not 1 (Python's and Click's choice): 1 means a sync
# failed, and a cron wrapper must not alert on a pager that was closed.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


@dataclass
class App:
    """What the global options name: the configuration, the database and the reporter.

    Global options may come before the command or after it, so the first of them to
    be parsed creates the App (in the root context) and each sets what it names."""

    config_option: str | None = None
    db_option: str | None = None
    reporter: Reporter = field(default_factory=Reporter)
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)
    max_runtime: float | None = None  # --max-runtime, in seconds
    started: float = field(default_factory=time.monotonic, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(resolve_config_path(self.config_option))
            for warning in self._config.warnings:
                self.reporter.warn(warning)
        return self._config

    def db_path(self) -> Path:
        return Path(self.db_option) if self.db_option else self.config().database

    def busy_timeout(self) -> float:
        # A report or import given --db reads no config; it waits the default.
        if self.db_option and self._config is None:
            return DEFAULT_BUSY_TIMEOUT
        return self.config().busy_timeout

    @contextmanager
    def database(self, *, write: bool) -> Iterator[jobs.Database]:
        with jobs.open_database(
            self.db_path(), write=write, busy_timeout=self.busy_timeout()
        ) as database:
            for warning in database.store.warnings:
                self.reporter.warn(warning)
            yield database

    @contextmanager
    def store(self, *, write: bool) -> Iterator[Store]:
        with self.database(write=write) as database:
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
        config = self.config()
        deadline = jobs.command_deadline(config, self.max_runtime, self.started)
        options = dataclasses.replace(options, deadline=deadline)
        with self.database(write=not options.dry_run) as database:
            code = jobs.run(command, database, config, selected, self.reporter, options)
        sys.exit(code)


class LoSyncGroup(click.Group):
    """Turns every expected error into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        # Each line goes through the reporter, which stamps it as it stamps summaries.
        reporter = ctx.ensure_object(App).reporter
        try:
            # Output a closed pipe refused shows at this flush, not as a traceback at exit.
            try:
                result = super().invoke(ctx)
            except (SystemExit, click.exceptions.Exit):
                sys.stdout.flush()
                raise
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except LoSyncError as exc:
            reporter.error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            reporter.error("interrupted; what this run had not committed was rolled back")
            ctx.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            trouble = disk_trouble(exc)
            if trouble:
                logging.getLogger("lo_sync").debug("disk trouble", exc_info=True)
                reporter.error(f"{trouble}. Nothing from the failing step was committed")
                ctx.exit(EXIT_USAGE)
            # A bug, not a situation we planned for: still one line, still no secret.
            logging.getLogger("lo_sync").debug("internal error", exc_info=True)
            reporter.error(
                f"internal error ({type(exc).__name__}: {exc}); "
                "nothing from the failing step was committed. Rerun with -vv for details"
            )
            ctx.exit(EXIT_SYNC_FAILED)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not meet
    the closed pipe again (the recipe of Python's `signal` documentation)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file: a test's capture
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


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


class Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value, param, ctx):
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _on_sigterm(signum, frame):
    # Same path as Ctrl-C: the open transaction rolls back, the provider being run is
    # recorded as interrupted (by what this names), and we say so.
    raise KeyboardInterrupt("SIGTERM")


def _set_global(ctx: click.Context, param: click.Parameter, value) -> None:
    """Where a global option was given, before the command or after it, it lands here."""
    if not value:
        return
    app = ctx.find_root().ensure_object(App)
    if param.name == "config_option":
        app.config_option = value
    elif param.name == "db_option":
        app.db_option = value
    elif param.name == "quiet":
        app.reporter.quiet = True
    elif param.name == "verbose":
        app.verbose += value  # `lo-sync -v sync-stats -v` is -vv
        _configure_logging(app.verbose)
    elif param.name == "max_runtime":
        app.max_runtime = value


GLOBAL_OPTIONS = {
    ("--config", "config_option"): dict(
        metavar="FILE", help="Configuration YAML. Default: $LO_SYNC_CONFIG, else ./config.yaml."
    ),
    ("--db", "db_option"): dict(metavar="FILE", help="SQLite database; overrides the config's."),
    ("-q", "--quiet"): dict(
        is_flag=True, help="Print nothing on success (errors still go to stderr)."
    ),
    ("-v", "verbose"): dict(count=True, help="Log HTTP and retry details to stderr (-vv: debug)."),
    ("--max-runtime", "max_runtime"): dict(
        type=Duration(),
        help="Time limit for the command (90s, 30m, 2h): past it, the provider being fetched "
        "fails and nothing of it is applied. Default: the config's max_runtime, else 6h.",
    ),
}


def global_options(func: Callable) -> Callable:
    """--config, --db, -q and -v: on the group and on every command that reads the
    config or the database, so they work after the command as well as before it."""
    for decls, settings in reversed(GLOBAL_OPTIONS.items()):
        option = click.option(*decls, expose_value=False, callback=_set_global, **settings)
        func = option(func)
    return func


@click.group(cls=LoSyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lo-sync")
@global_options
@click.pass_context
def cli(ctx: click.Context):
    """Sync course catalogs and learner statistics from Coursera and OpenClassrooms into SQLite."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    ctx.ensure_object(App)


_LOG_HANDLER = "lo_sync_handler"  # marks the handler we install, so -v set twice replaces it


def _configure_logging(verbose: int) -> None:
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.set_name(_LOG_HANDLER)
    # The summaries' timestamp (UTC, ISO 8601), so the log reads as one history.
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger("lo_sync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose > 1:
        for name in ("urllib3", "tenacity"):
            library = logging.getLogger(name)
            library.handlers[:] = [h for h in library.handlers if h.get_name() != _LOG_HANDLER]
            library.addHandler(handler)
            library.setLevel(logging.DEBUG)


@cli.command("sync-catalog")
@global_options
@provider_options
@click.pass_obj
def sync_catalog(app: App, providers, dry_run):
    """Fetch every course available to the organization and record created / updated / unchanged."""
    app.run("sync-catalog", providers, jobs.Options(dry_run=dry_run))


@cli.command("archive")
@global_options
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
@global_options
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
@global_options
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
