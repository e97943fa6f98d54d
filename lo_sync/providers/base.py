"""The provider interface: what lo-sync needs from each content provider.

A provider is one module with one `Provider` subclass, registered by name in
`lo_sync.providers.PROVIDERS`, and one subclass of the contract tests in
tests/providers/. Paths, field names and units live in that module and nowhere else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Protocol

from lo_sync.http import ApiClient


class RecordError(ValueError):
    """One API record breaks the contract; it is set aside, not stored."""


class Settings(Protocol):
    """What a fetch reads of a provider's configuration (a `config.ProviderConfig`)."""

    base_url: str
    org_id: str


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

    @abstractmethod
    def fetch_courses(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list]:
        """The organization's catalog, page by page."""

    @abstractmethod
    def fetch_stats(
        self, client: ApiClient, cfg: Settings, page_size: int | None = None
    ) -> Iterator[list]:
        """The organization's learner statistics, page by page."""

    @staticmethod
    @abstractmethod
    def course_row(record: Any) -> dict:
        """One catalog record as a course row; `RecordError` when it breaks the contract."""

    @staticmethod
    @abstractmethod
    def stat_row(record: Any) -> dict:
        """One statistics record as a progress row; `RecordError` when it breaks the contract."""

    def course_id(self, record: Any) -> str | None:
        """The id of a raw catalog record, even one that `course_row` refuses.

        A course whose record is broken tonight is still listed, so it is not
        taken for gone. None when the record carries nothing usable as an id.
        """
        value = record.get(self.course_id_field) if isinstance(record, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        return None
