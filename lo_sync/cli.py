"""The `lo-sync` command line: Click only. Commands parse options and call jobs.py."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import click

from lo_sync import __version__, jobs, sync
from lo_sync.cli_learners import learners
from lo_sync.cli_ops import export, learners_unmatched, status
from lo_sync.cli_report import report
from lo_sync.cli_search import search
from lo_sync.cli_sessions import session_stats, sessions
from lo_sync.demo import MAX_SIZE as MAX_DEMO_SIZE
from lo_sync.demo import MIN_SIZE as MIN_DEMO_SIZE
from lo_sync.demo import run_demo
from lo_sync.errors import (
    EXIT_INTERRUPTED,
    EXIT_SYNC_FAILED,
    EXIT_USAGE,
    InputError,
    LoSyncError,
)
from lo_sync.options import (
    App,
    format_option,
    global_options,
    provider_option,
    provider_options,
    stored_provider_option,
)
from lo_sync.store import disk_trouble

# A reader that closed our stdout (`lo-sync stats | head`): 128 + SIGPIPE, the status
# a shell reports for coreutils or git in the same place, so `set -o pipefail` sees
# what it sees for `cat | head`. Not 1 (Python's and Click's choice): 1 means a sync
# failed, and a cron wrapper must not alert on a pager that was closed.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


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


def _on_sigterm(signum, frame):
    # Same path as Ctrl-C: the open transaction rolls back, the provider being run is
    # recorded as interrupted (by what this names), and we say so.
    raise KeyboardInterrupt("SIGTERM")


@click.group(cls=LoSyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lo-sync")
@global_options
@click.pass_context
def cli(ctx: click.Context):
    """Sync course catalogs and learner statistics from Coursera and OpenClassrooms into SQLite."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    ctx.ensure_object(App)


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


@cli.command("check")
@global_options
@provider_option
@click.pass_obj
def check(app: App, providers):
    """Check each provider the night's job reads: token, first page of every endpoint,
    what the mapping makes of it. Writes nothing. Exit 0 ready, 1 would fail, 2 fix the
    configuration or credentials."""
    from lo_sync import check as checks

    selected = app.providers(providers)
    config = app.config()
    deadline = jobs.command_deadline(config, app.max_runtime, app.started)
    results = checks.check(config, selected, deadline)
    reporter = app.reporter
    if reporter.interactive:
        reporter.table(checks.table_rows(results), title="lo-sync check")
        for result in results:
            for detail in checks.details(result):
                reporter.line(f"  {detail}")
    else:
        for result in results:
            reporter.line(reporter.stamp() + checks.line(result))
    sys.exit(checks.exit_code(results))


@cli.command("stats")
@global_options
@stored_provider_option
@click.option("--course", metavar="ID|TITLE", help="One line per learner of this course.")
@click.option("--learner", metavar="EMAIL|ID", help="One learner's courses at every provider.")
@click.option("--session", metavar="NAME", help="One line per learner of this program session.")
@format_option("table", "csv", "json")
@click.pass_obj
def stats(app: App, providers, course, learner, session, fmt):
    """Show learning statistics per course (started, completed, average progress, time spent);
    with --course, its learners; with --learner, that learner's courses; with --session,
    where each learner of that program session stands."""
    from lo_sync import report

    if course and learner:
        raise InputError("--course and --learner: give one of them")
    if session is not None:
        if course or learner or providers:
            raise InputError("--session takes none of --course, --learner, --provider")
        return session_stats(app, session, fmt)
    app.existing_db_path("sync-stats")
    with app.store(write=False) as store:
        if learner:
            report.write_learner(
                app.reporter, report.learner_report(store, learner, providers), fmt
            )
        elif course:
            report.write_course(app.reporter, report.course_report(store, providers, course), fmt)
        else:
            rows = report.statistics_rows(store, providers, None)
            report.write_rows(app.reporter, rows, fmt, title="statistics")


# Bounds of `simulate`: the simulator keeps a few integers per statistics row in
# memory, so an unbounded --enrollments could take the machine's memory.
MAX_SIMULATED_CONTENTS = 1_000_000
MAX_SIMULATED_ENROLLMENTS = 10_000_000


@cli.command("simulate")
@click.option(
    "--port", default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free port)."
)
@click.option(
    "--size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, MAX_SIMULATED_CONTENTS),
    help="Catalog size (Coursera contents; OpenClassrooms gets 40%), "
    f"at most {MAX_SIMULATED_CONTENTS:,}.",
)
@click.option(
    "--enrollments",
    default=None,
    type=click.IntRange(0, MAX_SIMULATED_ENROLLMENTS),
    help=f"Coursera enrollment rows (default: 10 x size), at most {MAX_SIMULATED_ENROLLMENTS:,}.",
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
@click.option(
    "--variance",
    is_flag=True,
    help="Spell the same data as real answers do, in realistic shares (see README).",
)
@click.option(
    "--require-scope",
    "scopes",
    multiple=True,
    metavar="PROVIDER=SCOPE",
    help="That provider's token endpoint refuses requests without SCOPE (repeatable).",
)
@click.option(
    "--latency", default=0.0, type=click.FloatRange(0, 60_000), help="Milliseconds each page waits."
)
@click.option(
    "--jitter", default=0.0, type=click.FloatRange(0, 60_000), help="Up to this many ms more."
)
@click.option(
    "--report-order",
    default="learner",
    show_default=True,
    type=click.Choice(["learner", "content", "shuffled"]),
    help="The statistics reports' row order.",
)
@click.option(
    "--distribution",
    default="even",
    show_default=True,
    type=click.Choice(["even", "realistic"]),
    help="How report rows fall to learners: the same number each, or as organizations' do.",
)
def simulate(
    port,
    size,
    enrollments,
    day,
    faults,
    variance,
    scopes,
    latency,
    jitter,
    report_order,
    distribution,
):
    """Serve both providers' APIs on 127.0.0.1 from generated data, as the contract describes."""
    from lo_sync.simulator import CREDENTIALS, Fault, SimulatorConfig, serve_forever
    from lo_sync.simulator.client_config import config_yaml

    try:
        parsed = tuple(Fault.parse(f) for f in faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    pairs = [scope.partition("=") for scope in scopes]
    if any(not sep for _, sep, _ in pairs):
        raise click.BadParameter("expected PROVIDER=SCOPE", param_hint="--require-scope")
    try:
        config = SimulatorConfig.sized(size, enrollments, day, parsed).replace(
            variance=variance,
            require_scope=tuple((provider.strip(), scope.strip()) for provider, _, scope in pairs),
            latency_ms=latency,
            latency_jitter_ms=jitter,
            report_order=report_order,
            distribution=distribution,
        )
    except ValueError as exc:  # a scope, or options that do not go together
        if str(exc).startswith("require_scope"):
            raise click.BadParameter(str(exc), param_hint="--require-scope") from None
        raise click.UsageError(str(exc)) from None

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
@click.option(
    "--size",
    default=300,
    show_default=True,
    type=click.IntRange(min=MIN_DEMO_SIZE, max=MAX_DEMO_SIZE),
    help=f"Simulated catalog size, {MIN_DEMO_SIZE} to {MAX_DEMO_SIZE:,}: in a smaller one, "
    f"what the second night archives is above the archive guard's {sync.DEFAULT_MAX_ARCHIVE}, "
    "so the demo would stop there.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Serve the contract's strict spellings (default: as real services spell them).",
)
def demo(folder: Path, size: int, strict: bool):
    """Run the whole nightly job against the built-in simulator: no credentials needed."""
    from lo_sync.simulator import SimulatorConfig

    sim_config = SimulatorConfig.sized(size).replace(variance=not strict)
    sys.exit(run_demo(folder, sim_config, invoke=invoke))


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


cli.add_command(learners)
cli.add_command(status)
cli.add_command(export)
learners.add_command(learners_unmatched)
cli.add_command(report)
cli.add_command(search)
cli.add_command(sessions)
