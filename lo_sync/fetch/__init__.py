"""Fetching a provider's records as pages of staging rows: the one way data comes in.

    pages = Fetch(client, pcfg, "stats", page_size)
    for page in mapped_pages(pcfg, "stats", pages, known):
        stage.add(page.rows)

Fetching, JSON decoding, passing over unchanged records and mapping run in a forked
child process (`worker.run_in_child`) while this one stages the previous page: they
are most of a large fetch's CPU, and the GIL would serialize them with the staging
in a thread. While this process waits for pages, the worker hands them over raw and
this process sifts and maps them itself, so the work balances across both cores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lo_sync.config import ProviderConfig
from lo_sync.fetch.known import KnownRows
from lo_sync.fetch.page import Page, PageMapper
from lo_sync.fetch.worker import run_in_child
from lo_sync.http import ApiClient

__all__ = ["Fetch", "KnownRows", "Page", "PageMapper", "mapped_pages"]

# A parent that waited longer than this for its last page has time to spare: the
# worker hands it the next page unmapped (a page arriving while it is busy costs it
# no wait at all; reading one that is ready takes well under a millisecond).
PARENT_IDLE_SECONDS = 0.001


@dataclass
class Fetch:
    """A provider fetch of `kind` ('courses' or 'stats') not yet started: it starts
    when `mapped_pages` knows the stored rows it may pass over.

    `close_fds` are descriptors the worker must not inherit (the database lock).
    """

    client: ApiClient
    pcfg: ProviderConfig
    kind: str
    page_size: int | None
    close_fds: tuple[int, ...] = ()

    def pages(self, known: KnownRows | None = None) -> Iterator[Page]:
        """Pages in order, each mapped by the worker or left raw for the consumer."""
        mapper = PageMapper(self.pcfg, self.kind, known)

        def produce():
            parent_idle, first_seq = False, 0
            for records in mapper.fetch(self.client, self.pcfg, self.page_size):
                page = Page(first_seq, len(records), records)
                waited = yield page if parent_idle else mapper.map(page)
                parent_idle = waited is not None and waited > PARENT_IDLE_SECONDS
                first_seq += len(records)

        return run_in_child(produce, label=self.pcfg.name, close_fds=self.close_fds)


def mapped_pages(
    pcfg: ProviderConfig,
    kind: str,
    source: Fetch | Iterable[list | Page],
    known: KnownRows | None = None,
) -> Iterator[Page]:
    """Every page of `source` mapped: a Fetch, or pages of raw records as tests hand them."""
    mapper = PageMapper(pcfg, kind, known)
    pages = source.pages(known) if isinstance(source, Fetch) else source
    seen = 0
    for page in pages:
        if not isinstance(page, Page):
            page = Page(seen, len(page), page)
        page = mapper.map(page)
        seen += page.count
        yield page
