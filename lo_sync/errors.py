"""Every failure lo-sync reports is one of these types, each with its exit code.

The CLI maps them to one line on stderr; a traceback in front of a user is a bug.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_SYNC_FAILED = 1
EXIT_USAGE = 2
EXIT_SAFETY = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130


class LoSyncError(Exception):
    """Base of every error lo-sync expects and explains."""

    exit_code = EXIT_SYNC_FAILED


class ConfigError(LoSyncError):
    """The configuration (file, keys, values, environment) is unusable."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.problems))


class InputError(LoSyncError):
    """A file the operator handed us (CSV, database) cannot be used as it is."""

    exit_code = EXIT_USAGE


class ProviderError(LoSyncError):
    """The provider's API failed us: network, HTTP status, or an answer we cannot trust."""

    exit_code = EXIT_SYNC_FAILED
    status: int | None = None  # the HTTP status that said so, when one did


class DataError(LoSyncError):
    """The provider answered, but the data is not what the contract promises."""

    exit_code = EXIT_SYNC_FAILED


class SafetyAbort(LoSyncError):
    """A guard refused to act (mass archive, stats volume drop, incomplete fetch)."""

    exit_code = EXIT_SAFETY


class LockHeld(LoSyncError):
    """Another lo-sync run is writing the same database."""

    exit_code = EXIT_LOCKED


class DatabaseBusy(LoSyncError):
    """Another program (a reader, a BI tool, sqlite3) held the database longer than
    `busy_timeout`: the same remedy as a held lock, try again when it lets go."""

    exit_code = EXIT_LOCKED


class InternalError(LoSyncError):
    """A bug met while running one provider: reported in one line and recorded as a
    failed run like any other failure, so the next provider still runs."""

    exit_code = EXIT_SYNC_FAILED


class Interrupted(LoSyncError):
    """The run was stopped from outside (e.g. a deadline). Like Ctrl-C and SIGTERM, it
    rolls back and is recorded as an 'interrupted' run of the provider being run; no
    later provider starts. The message says what stopped it."""

    exit_code = EXIT_INTERRUPTED
