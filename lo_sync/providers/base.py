"""The provider interface: what lo-sync needs from each content provider.

A provider is one module with one `Provider` subclass, registered by name in
`lo_sync.providers.PROVIDERS`, and one subclass of the contract tests in
tests/providers/. Paths, field names and units live in that module and nowhere else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from lo_sync.http import ApiClient, Paginator, paginate
from lo_sync.providers.fields import Unreadable, identifier
from lo_sync.providers.records import Notes, RecordError

__all__ = ["Listing", "Notes", "Provider", "RecordError", "Settings"]


class Settings(Protocol):
    """What a fetch reads of a provider's configuration (a `config.ProviderConfig`)."""

    base_url: str
    org_id: str


@dataclass(frozen=True)
class Listing:
    """One of the organization's collections: its URL, its paging state machine (which,
    once read from, knows the total if the server said it) and its fixed parameters."""

    url: str
    paginator: Paginator
    params: dict[str, Any] | None = None

    def pages(self, client: ApiClient) -> Iterator[list]:
        return paginate(client, self.url, self.paginator, self.params)


class Provider(ABC):
    """One content provider's API: where it is, how to read its listings, how to map a record.

    Fetches yield pages (lists of raw API records) and are read whole or not at
    all. The mappers are static methods, so a fetch looks one up once and calls
    a plain function on every record.
    """

    name: ClassVar[str]  # in the configuration (`providers.<name>`) and in the database
    org_key: ClassVar[str]  # the configuration key of the organization id
    default_base_url: ClassVar[str]
    default_token_url: ClassVar[str]
    max_page_size: ClassVar[int]  # records asked for per page when the configuration sets none
    # Course statuses that keep a course offered; None when the provider has no
    # status and only disappearance archives a course.
    active_statuses: ClassVar[frozenset[str] | None]
    course_id_field: ClassVar[str]  # the course record's id, read by `course_id`
    # The top-level fields of each kind of record the mapping knows: any other is
    # noted as new (drift), not refused.
    course_fields: ClassVar[frozenset[str]]
    stat_fields: ClassVar[frozenset[str]]
    # Kinds of content that statistics may name but the catalog never lists
    # (learning paths, program collections): never "not in the catalog".
    non_catalog_types: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def listing(self, kind: str, cfg: Settings, page_size: int | None = None) -> Listing:
        """Where the organization's 'courses' or 'stats' are, and how they page."""

    def fetch_courses(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list]:
        """The organization's catalog, page by page."""
        return self.listing("courses", cfg, page_size).pages(client)

    def fetch_stats(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list]:
        """The organization's learner statistics, page by page."""
        return self.listing("stats", cfg, page_size).pages(client)

    @staticmethod
    @abstractmethod
    def course_row(record: Any, notes: Notes) -> dict:
        """One catalog record as a course row; `RecordError` when it cannot be stored.
        Values it cannot read, or has never seen, are noted on `notes`."""

    @staticmethod
    @abstractmethod
    def stat_row(record: Any, notes: Notes) -> dict:
        """One statistics record as a progress row; `RecordError` when it cannot be
        stored. Values it cannot read, or has never seen, are noted on `notes`."""

    def course_id(self, record: Any) -> str | None:
        """The id of a raw catalog record, even one that `course_row` refuses.

        A course whose record is broken tonight is still listed, so it is not
        taken for gone. None when the record carries nothing usable as an id.
        """
        value = record.get(self.course_id_field) if isinstance(record, dict) else None
        try:
            return self.content_key(identifier(value))
        except Unreadable:
            return None

    @staticmethod
    def content_key(external_id: str) -> str:
        """The id a course is stored under, from the id as the provider spelled it."""
        return external_id
