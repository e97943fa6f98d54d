"""The run log (`sync_runs`) and the records a run set aside (`rejected_records`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from lo_sync.store.database import transaction
from lo_sync.store.schema import utc_now
from lo_sync.store.sql import placeholders


class Runs:
    def __init__(self, conn: sqlite3.Connection, readonly: bool):
        self.conn = conn
        self.readonly = readonly

    def insert(
        self,
        command: str,
        provider: str,
        started_at: str,
        status: str,
        counts: dict[str, int],
        message: str | None = None,
    ) -> int:
        """Record a run, finished now, with its counts; inside the caller's transaction."""
        columns = ["command", "provider", "started_at", "finished_at", "status", "message", *counts]
        values = [command, provider, started_at, utc_now(), status, message, *counts.values()]
        cursor = self.conn.execute(
            f"INSERT INTO sync_runs ({', '.join(columns)}) VALUES ({placeholders(len(values))})",
            values,
        )
        return cursor.lastrowid

    def record_failed(
        self,
        command: str,
        provider: str,
        started_at: str,
        status: str,
        message: str,
        counts: dict[str, int] | None = None,
        evidence: Callable[[int], None] | None = None,
    ) -> None:
        """Record a run that failed, was refused or was interrupted, in its own transaction
        (a dry run records nothing). `evidence(run_id)` writes, in the same transaction,
        what the failure leaves to read (the records a fetch set aside)."""
        if self.readonly:
            return
        if self.conn.in_transaction:
            # What the failed run left open (an interruption can land between BEGIN and
            # the `try` that would roll it back) must not commit with its record.
            self.conn.execute("ROLLBACK")
        with transaction(self.conn):
            run_id = self.insert(command, provider, started_at, status, counts or {}, message)
            if evidence is not None:
                evidence(run_id)

    def last_id(self) -> int:
        """The newest run's id (0 before the first): a mark to ask `committed_since`."""
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM sync_runs").fetchone()[0]

    def committed_since(self, mark: int, command: str, provider: str) -> bool:
        """Whether a run of `command` for `provider` has been recorded after `mark`."""
        return (
            self.conn.execute(
                "SELECT 1 FROM sync_runs WHERE id > ? AND command = ? AND provider = ? LIMIT 1",
                (mark, command, provider),
            ).fetchone()
            is not None
        )

    def latest(self, command: str, provider: str) -> dict | None:
        row = self.conn.execute(
            "SELECT * FROM sync_runs WHERE command = ? AND provider = ? ORDER BY id DESC LIMIT 1",
            (command, provider),
        ).fetchone()
        return self._as_dict(row)

    def latest_successful(self, command: str, provider: str) -> dict | None:
        row = self.conn.execute(
            "SELECT * FROM sync_runs WHERE command = ? AND provider = ? AND status = 'ok' "
            "ORDER BY id DESC LIMIT 1",
            (command, provider),
        ).fetchone()
        return self._as_dict(row)

    def last_and_last_ok(self, command: str, provider: str) -> tuple[dict | None, dict | None]:
        """The newest run of `command` for `provider`, and its newest successful one
        (the same run when the newest succeeded); None for what never happened."""
        latest = self.latest(command, provider)
        if latest is None or latest["status"] == "ok":
            return latest, latest
        return latest, self.latest_successful(command, provider)

    def insert_rejected(
        self, run_id: int, provider: str, kind: str, rejected: Iterable[tuple[str, Any]]
    ) -> None:
        """Keep the records that broke the contract, with their reason, as evidence."""
        self.conn.executemany(
            "INSERT INTO rejected_records (run_id, provider, kind, reason, raw) VALUES (?,?,?,?,?)",
            ((run_id, provider, kind, reason, _raw_text(raw)) for reason, raw in rejected),
        )

    def _as_dict(self, row) -> dict | None:
        if row is None:
            return None
        names = [r[1] for r in self.conn.execute("PRAGMA table_info(sync_runs)")]
        return dict(zip(names, row, strict=True))


def _raw_text(raw: Any) -> str:
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: keep the record, escaped, rather than lose the evidence.
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    except RecursionError:
        # Decoded JSON nests up to 1,024 levels, and Python's own recursion ends near
        # 1,000 (repr's too): the reason stored beside it says what was wrong.
        text = "(nested too deeply to keep as text)"
    # A 100 KB title should not make the audit table the largest thing in the file.
    return text if len(text) <= 10_000 else text[:10_000] + "…"
