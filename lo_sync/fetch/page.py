"""A page of a fetch, and how its raw provider records become staging rows."""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from typing import Any

from lo_sync.config import ProviderConfig
from lo_sync.fetch.findings import SET_ASIDE, PageFindings, add
from lo_sync.fetch.fingerprint import record_fingerprint
from lo_sync.fetch.known import KnownRows
from lo_sync.providers import NEW_FIELD, PROVIDERS, Notes, RecordError
from lo_sync.providers.records import NO_VALUE
from lo_sync.store import course_values, progress_values


@dataclass
class Page:
    """One page of a fetch: raw provider records until it is mapped, rows after.

    Statistics rows are (seq, fingerprint, *progress_values): where in the fetch the
    record came, and its fingerprint. Records stored exactly so are not among them.
    """

    first_seq: int  # records of the fetch before this page
    count: int  # records on the page, rejected and passed-over ones included
    records: list | None = None  # the raw records, while the page is not mapped
    rows: list[tuple] = field(default_factory=list)
    rejected: list[tuple[str, Any]] = field(default_factory=list)  # (reason, raw record)
    findings: PageFindings = field(default_factory=dict)  # set aside, not read, new

    @property
    def mapped(self) -> bool:
        return self.records is None

    def __reduce__(self):
        # Pages cross from the fetch worker as marshal, which carries the plain values
        # of rows and decoded JSON exactly (NaN, huge integers, lone surrogates) and
        # costs the worker less than pickle.
        state = (
            self.first_seq, self.count, self.records, self.rows, self.rejected, self.findings
        )  # fmt: skip
        return (_unmarshal_page, (marshal.dumps(state),))


def _unmarshal_page(data: bytes) -> Page:
    return Page(*marshal.loads(data))


class PageMapper:
    """Maps one kind of record ('courses' or 'stats') to staging rows. For statistics
    it first passes over the records whose fingerprint a stored row carries (noting
    them as seen), and fingerprints the others so that their rows carry it."""

    def __init__(self, pcfg: ProviderConfig, kind: str, known: KnownRows | None = None):
        provider = PROVIDERS[pcfg.name]
        self.fetch = provider.fetch_courses if kind == "courses" else provider.fetch_stats
        self.mapper = provider.course_row if kind == "courses" else provider.stat_row
        self.known_fields = provider.course_fields if kind == "courses" else provider.stat_fields
        self.values = course_values if kind == "courses" else progress_values
        self.known = known

    def sift(self, records: list, first_seq: int) -> list[tuple]:
        """(seq, fingerprint, record) for the records not stored exactly so."""
        if self.known is None:
            return [(0, None, record) for record in records]
        return self.known.sift(records, first_seq, record_fingerprint)

    def map(self, page: Page) -> Page:
        """The page with its records sifted and mapped (a mapped page is returned as is)."""
        if page.mapped:
            return page
        rows: list[tuple] = []
        rejected: list[tuple[str, Any]] = []
        found: PageFindings = {}
        notes = Notes()
        mapper, values, fingerprinted = self.mapper, self.values, self.known is not None
        known_fields = self.known_fields
        for seq, mark, record in self.sift(page.records, page.first_seq):
            noted = len(notes)
            try:
                row = mapper(record, notes)
            except RecordError as exc:
                del notes[noted:]  # a record set aside is counted once, by its reason
                rejected.append((exc.reason, record))
                example = record if exc.value is NO_VALUE else exc.value
                add(found, SET_ASIDE, exc.field, exc.problem, example)
                continue
            if not record.keys() <= known_fields:
                for key in record.keys() - known_fields:
                    notes.append((NEW_FIELD, key, "never seen before", record[key]))
            if not fingerprinted:
                rows.append(values(row))
            elif row["time_spent_theoretical"]:
                # Its time comes from the catalog at each run: compared in full every time.
                rows.append((seq, None, *values(row)))
            else:
                rows.append((seq, mark, *values(row)))
        for kind, name, problem, value in notes:
            add(found, kind, name, problem, value)
        return Page(page.first_seq, page.count, None, rows, rejected, found)
