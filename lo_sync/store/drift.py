"""Drift: fields and enum values of a provider's data that lo-sync had never seen.

A provider that changes its data (a new `contentType`, a new status, a key the
mapping does not know) is noticed the night it happens: the run says what is new
tonight, and `data_drift` keeps when each was first and last seen, with how many
records carried it and an example.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

# (finding, field, value, records, example): a new field has value ''.
DriftEntry = tuple[str, str, str, int, str]


class Drift:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def unseen(self, provider: str, kind: str, entries: Iterable[DriftEntry]) -> list[DriftEntry]:
        """The entries no earlier run recorded: what is new tonight."""
        return [
            entry
            for entry in entries
            if self.conn.execute(
                "SELECT 1 FROM data_drift WHERE provider = ? AND kind = ? AND finding = ? "
                "AND field = ? AND value = ?",
                (provider, kind, *entry[:3]),
            ).fetchone()
            is None
        ]

    def record(
        self, provider: str, kind: str, run_id: int, now: str, entries: Iterable[DriftEntry]
    ) -> None:
        """Note tonight's entries: new ones are inserted, known ones seen again."""
        self.conn.executemany(
            "INSERT INTO data_drift (provider, kind, finding, field, value, first_run_id, "
            "first_seen_at, last_run_id, last_seen_at, records, example) "
            "VALUES (:provider, :kind, :finding, :field, :value, :run, :now, :run, :now, "
            ":records, :example) "
            "ON CONFLICT (provider, kind, finding, field, value) DO UPDATE SET "
            "last_run_id = :run, last_seen_at = :now, records = :records",
            (
                {
                    "provider": provider,
                    "kind": kind,
                    "finding": finding,
                    "field": field,
                    "value": value,
                    "run": run_id,
                    "now": now,
                    "records": records,
                    "example": example,
                }
                for finding, field, value, records, example in entries
            ),
        )
