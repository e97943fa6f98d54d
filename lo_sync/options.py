"""What the global options name (`App`), the options the commands share, and logging.

Global options may come before the command or after it (`lo-sync sync-catalog -q`),
so each command carries them too, from one definition here.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click

from lo_sync import jobs
from lo_sync.config import Config, ProviderConfig, load_config, resolve_config_path
from lo_sync.errors import ConfigError, InputError
from lo_sync.limits import parse_duration
from lo_sync.output import Reporter
from lo_sync.providers import PROVIDERS
from lo_sync.redact import RedactingFilter
from lo_sync.store import DEFAULT_BUSY_TIMEOUT, Store


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

    def existing_db_path(self, first_command: str = "sync-catalog") -> Path:
        """The database's path, for a command that only reads what runs stored: an
        InputError naming the command to run first when no run has made it yet."""
        path = self.db_path()
        if not path.exists():
            raise InputError(f"no database at {path} yet; run `lo-sync {first_command}` first")
        return path

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


def _provider_choice(help_text: str):
    return click.option(
        "--provider", "providers", multiple=True, type=click.Choice(sorted(PROVIDERS)),
        help=help_text,
    )  # fmt: skip


# Commands that talk to providers take the configured ones; commands that read the
# database take what runs stored, with or without a configuration.
provider_option = _provider_choice(
    "Only this provider (repeatable). Default: every configured provider."
)
stored_provider_option = _provider_choice(
    "Only this provider's rows (repeatable). Default: every provider in the database."
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


def set_global(ctx: click.Context, param: click.Parameter, value) -> None:
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
        configure_logging(app.verbose)
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
        option = click.option(*decls, expose_value=False, callback=set_global, **settings)
        func = option(func)
    return func


_LOG_HANDLER = "lo_sync_handler"  # marks the handler we install, so -v set twice replaces it


def configure_logging(verbose: int) -> None:
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


def format_option(*formats: str) -> Callable:
    """`--format` (into `fmt`) for a command that writes one of `formats`, the first by
    default: one spelling of the option for every reading command."""
    return click.option(
        "--format", "fmt", type=click.Choice(formats), default=formats[0], show_default=True
    )
