"""The SQLite file: schema, staging, plans and their application. The only package with SQL.

Fetched rows are streamed into TEMP staging tables page by page, so memory does
not grow with the size of a fetch; diffs against what is stored are computed in
SQL, and only the rows that differ come back to Python. A dry run opens the
file read-only (TEMP tables live outside it), so planning is the same code for
both and a dry run cannot change the file or create a missing one.

`Store` opens the file and hands out one object per domain, all on its connection:

    store.runs       the run log and rejected records          (runs.py)
    store.drift      fields and values never seen before        (drift.py)
    store.catalog    catalog staging, diff, apply               (catalog.py)
    store.archive    archive candidates, apply                  (archive.py)
    store.progress   statistics staging, diff, apply            (progress.py)
    store.learners   the company's learners                     (learners.py)
    store.reports    statistics read back                       (reports.py)
    store.exports    streaming exports for downstream systems   (exports.py)
    store.dashboard  the HTML dashboard's figures               (dashboard.py)
    store.search     the catalog's full-text index, queried     (search.py)
    store.sessions   program sessions, their cohorts, progress  (sessions.py)

A staging run is an object of its own (`store.catalog.stage(provider)`), which
owns what it has staged and finishes into a diff that can be applied. Under the
domains: schema.py (migrations, columns), database.py (opening, recovery,
transactions), staging.py (what every stage shares) and sql.py (the SQL pieces
built once).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import sqlite_utils

from lo_sync.errors import DatabaseBusy
from lo_sync.store import database
from lo_sync.store.archive import Archive
from lo_sync.store.catalog import Catalog, CatalogDiff, CatalogStage
from lo_sync.store.dashboard import Dashboard
from lo_sync.store.database import DEFAULT_BUSY_TIMEOUT, disk_trouble, missing_folder
from lo_sync.store.drift import Drift
from lo_sync.store.exports import Exports
from lo_sync.store.learners import Learners
from lo_sync.store.progress import Progress, ProgressDiff, ProgressStage
from lo_sync.store.reports import Reports
from lo_sync.store.runs import Runs
from lo_sync.store.schema import (
    COURSE_FIELDS,
    PROGRESS_FIELDS,
    course_values,
    progress_values,
    utc_now,
)
from lo_sync.store.search import Search
from lo_sync.store.sessions import Sessions

__all__ = [
    "COURSE_FIELDS",
    "DEFAULT_BUSY_TIMEOUT",
    "PROGRESS_FIELDS",
    "CatalogDiff",
    "CatalogStage",
    "ProgressDiff",
    "ProgressStage",
    "Store",
    "course_values",
    "disk_trouble",
    "missing_folder",
    "progress_values",
    "utc_now",
]


class Store:
    """A connection to the lo-sync database, and its domains."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        path: Path | None,
        readonly: bool,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ):
        self.db = db
        self.conn = db.conn
        self.path = path
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self.runs = Runs(self.conn, readonly)
        self.drift = Drift(self.conn)
        self.catalog = Catalog(self.conn)
        self.archive = Archive(self.conn)
        self.progress = Progress(self.conn)
        self.learners = Learners(self.conn)
        self.reports = Reports(self.conn)
        self.exports = Exports(self.conn)
        self.dashboard = Dashboard(self.conn)
        self.search = Search(self.conn)
        self.sessions = Sessions(self.conn)
        # What the operator should hear about the file itself; the CLI prints them.
        self.warnings: tuple[str, ...] = ()

    @classmethod
    def open(
        cls, path: Path, *, readonly: bool = False, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> Store:
        """Open (or, unless read-only, create) the database and bring its schema up to date.

        Read-only opens of a missing file plan against an empty in-memory schema:
        a dry run must not create the file. Each statement waits up to `busy_timeout`
        seconds for another program's lock on the file.
        """
        store = cls(*database.connect(path, readonly, busy_timeout), busy_timeout)
        warning = database.link_warning(path)
        store.warnings = (warning,) if warning else ()
        return store

    def busy(self, exc: BaseException) -> DatabaseBusy | None:
        """`exc` as what to tell the operator, when it is SQLite giving up on a lock
        another program held on this file longer than `busy_timeout`."""
        if not database.is_busy(exc):
            return None
        return DatabaseBusy(database.busy_message(self.path, self.busy_timeout))

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction: everything inside commits together or not at all."""
        return database.transaction(self.conn)
