"""One command over the selected providers: client → fetch → plan → apply or record the
failure → outcome. The CLI parses options and calls `run`; everything between lives here.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lo_sync import sync
from lo_sync.config import Config, ProviderConfig
from lo_sync.errors import (
    EXIT_OK,
    InputError,
    InternalError,
    Interrupted,
    LoSyncError,
    SafetyAbort,
)
from lo_sync.fetch import Fetch
from lo_sync.http import ApiClient, Deadline, RetryPolicy
from lo_sync.limits import format_duration
from lo_sync.lock import exclusive
from lo_sync.output import Reporter
from lo_sync.redact import redact
from lo_sync.store import DEFAULT_BUSY_TIMEOUT, Store, disk_trouble, missing_folder, utc_now
from lo_sync.sync import Outcome, Plan

log = logging.getLogger("lo_sync.jobs")


@dataclass(frozen=True)
class Options:
    """What the operator asked of a command beyond --provider and --dry-run."""

    dry_run: bool = False
    max_archive: str = sync.DEFAULT_MAX_ARCHIVE
    force: bool = False
    accept_regressions: bool = False
    deadline: Deadline | None = None  # the whole command's (`command_deadline`)


@dataclass
class Database:
    """The database a command works on, and the descriptors a forked fetch worker
    must not keep (the lock, while it is held)."""

    store: Store
    private_fds: tuple[int, ...] = field(default=())


@contextmanager
def open_database(
    path: Path, *, write: bool, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> Iterator[Database]:
    """The database, locked for writing, or opened read-only for a dry run or a report.

    SQLite giving up on another program's lock (outside a provider's guard, e.g. in a
    report) is raised as the `DatabaseBusy` that says who held what for how long."""
    with ExitStack() as stack:
        private_fds: tuple[int, ...] = ()
        if write:
            if not path.parent.is_dir():
                raise InputError(missing_folder(path))
            private_fds = (stack.enter_context(exclusive(path)),)
        store = Store.open(path, readonly=not write, busy_timeout=busy_timeout)
        stack.callback(store.close)
        try:
            yield Database(store, private_fds)
        except Exception as exc:
            busy = store.busy(exc)
            if busy is None:
                raise
            raise busy from None


def command_deadline(config: Config, max_runtime: float | None, started: float) -> Deadline:
    """When a command started at `started` (monotonic) must end: --max-runtime, else
    the config's max_runtime. The message that names it says which one to raise."""
    setting, seconds = ("--max-runtime", max_runtime)
    if max_runtime is None:
        setting, seconds = ("max_runtime", config.max_runtime)
    bound = f"the time limit for the whole command ({setting} {format_duration(seconds)})"
    return Deadline(started + seconds, bound)


def make_client(
    pcfg: ProviderConfig,
    config: Config,
    retry: RetryPolicy | None = None,
    deadline: Deadline | None = None,
) -> ApiClient:
    http = config.http
    return ApiClient(
        pcfg.name,
        token_url=pcfg.token_url,
        client_id=pcfg.client_id,
        client_secret=pcfg.client_secret,
        scope=pcfg.scope,
        timeout=(http.connect_timeout, http.read_timeout),
        retry=retry or RetryPolicy(max_attempts=http.max_attempts, max_wait=http.max_retry_wait),
        request_deadline=http.request_deadline,
        deadline=deadline,
        max_response_mb=http.max_response_mb,
        concurrency=http.concurrency,
        max_requests_per_second=http.max_requests_per_second,
    )


# What each command fetches: 'courses', 'stats', or nothing (archive reads the store).
FETCHES = {"sync-catalog": "courses", "archive": None, "sync-stats": "stats"}


def run(
    command: str,
    database: Database,
    config: Config,
    providers: list[ProviderConfig],
    reporter: Reporter,
    options: Options,
) -> int:
    """Run `command` for each provider in turn and report each outcome; returns the
    worst provider's exit code. One provider's failure never stops the next."""
    # What is loaded by now lives for the whole run: kept out of the collector's
    # sight, it is not walked again at every collection the mapped rows set off.
    gc.freeze()
    exit_code = EXIT_OK
    for pcfg in providers:
        outcome = run_provider(
            command,
            database.store,
            pcfg,
            dry_run=options.dry_run,
            make_plan=lambda pcfg=pcfg: _plan(command, database, config, pcfg, reporter, options),
            apply=lambda plan, started_at, pcfg=pcfg: _apply(
                command, database.store, pcfg, plan, started_at, options
            ),
        )
        reporter.outcome(command, outcome, options.dry_run)
        if outcome.error is not None:
            exit_code = max(exit_code, outcome.error.exit_code)
    return exit_code


def _plan(
    command: str,
    database: Database,
    config: Config,
    pcfg: ProviderConfig,
    reporter: Reporter,
    options: Options,
) -> Plan:
    store = database.store
    kind = FETCHES[command]
    if kind is None:
        return sync.plan_archive(store, pcfg, max_archive=options.max_archive, force=options.force)
    client = make_client(pcfg, config, deadline=options.deadline)
    try:
        pages = Fetch(client, pcfg, kind, config.http.page_size, database.private_fds)
        with reporter.fetching(pcfg.name, kind) as on_page:
            if kind == "courses":
                return sync.plan_catalog(store, pcfg, pages, on_page=on_page)
            return sync.plan_stats(
                store,
                pcfg,
                pages,
                accept_regressions=options.accept_regressions,
                force=options.force,
                on_page=on_page,
            )
    finally:
        client.close()


def _apply(
    command: str, store: Store, pcfg: ProviderConfig, plan: Plan, started_at: str, options: Options
) -> int:
    if command == "sync-catalog":
        return sync.apply_catalog(store, pcfg, plan, started_at)
    if command == "archive":
        return sync.apply_archive(store, pcfg, plan, started_at)
    return sync.apply_stats(store, pcfg, plan, started_at, options.accept_regressions)


def run_provider(
    command: str,
    store: Store,
    pcfg: ProviderConfig,
    *,
    dry_run: bool,
    make_plan: Callable[[], Plan],
    apply: Callable[[Plan, str], int],
) -> Outcome:
    """Plan and (unless dry) apply one provider; a failure is recorded and returned, not raised.

    This is each provider's guard: a bug or a busy database fails this provider alone
    (recorded, one line) and the next one runs. Two things still end the whole run:
    an interruption, recorded as 'interrupted' for this provider and raised again, and
    trouble with the disk, which every later provider would meet too.
    """
    started_at = utc_now()
    mark = store.runs.last_id()
    try:
        plan = make_plan()
        if plan.refusal:
            if not dry_run:
                store.runs.record_failed(
                    command, pcfg.name, started_at, "refused", str(plan.refusal)
                )
            return Outcome(pcfg.name, plan, plan.refusal)
        if dry_run:
            return Outcome(pcfg.name, plan)
        return Outcome(pcfg.name, plan, run_id=apply(plan, started_at))
    except (KeyboardInterrupt, Interrupted) as exc:
        # Ctrl-C raises a bare KeyboardInterrupt; cli.py's SIGTERM handler names itself.
        what = str(exc) or "Ctrl-C"
        message = f"interrupted ({what}); what this run had not committed was rolled back"
        if not dry_run:
            try:
                # A signal can land just after this provider's run committed: it is
                # done, and a second record would call it interrupted. (A transaction
                # still open is the interrupted one: its rows are not committed.)
                committed = not store.conn.in_transaction and store.runs.committed_since(
                    mark, command, pcfg.name
                )
                if not committed:
                    store.runs.record_failed(command, pcfg.name, started_at, "interrupted", message)
            except Exception:  # the interruption is what to report, not this
                log.debug("recording the interrupted run of %s failed", pcfg.name, exc_info=True)
        raise
    except LoSyncError as exc:
        status = "refused" if isinstance(exc, SafetyAbort) else "failed"
        log.debug("%s %s failed", command, pcfg.name, exc_info=True)
        return _failed(command, store, pcfg, started_at, status, exc, dry_run)
    except Exception as exc:
        if disk_trouble(exc):
            raise
        error = store.busy(exc)
        if error is None:
            # The traceback only in the debug log (-vv), redacted by the filter on its handler.
            log.debug("%s %s: internal error", command, pcfg.name, exc_info=True)
            error = InternalError(
                f"internal error ({type(exc).__name__}: {exc}); nothing of its run was "
                "committed. Rerun with -vv for details"
            )
        error.args = (f"{pcfg.name}: {error}",)
        return _failed(command, store, pcfg, started_at, "failed", error, dry_run)


def _failed(
    command: str,
    store: Store,
    pcfg: ProviderConfig,
    started_at: str,
    status: str,
    error: LoSyncError,
    dry_run: bool,
) -> Outcome:
    """Record the failed run and return its outcome. When the record cannot be written
    either (the database still busy), the error line says so instead."""
    if not dry_run:
        counts, evidence = None, None
        if isinstance(error, sync.TooManySetAside):
            counts = {"rejected": error.findings.total(sync.SET_ASIDE)}

            def evidence(run_id: int, error: sync.TooManySetAside = error) -> None:
                sync.record_set_aside(store, pcfg.name, run_id, error)

        try:
            store.runs.record_failed(
                command, pcfg.name, started_at, status, redact(error), counts, evidence
            )
        except Exception as exc:
            if disk_trouble(exc):
                raise
            log.debug("recording the failed run of %s failed", pcfg.name, exc_info=True)
            why = "the database stayed busy" if store.busy(exc) else f"{type(exc).__name__}: {exc}"
            error.args = (f"{error} (not recorded in sync_runs: {why})",)
    return Outcome(pcfg.name, error=error)
