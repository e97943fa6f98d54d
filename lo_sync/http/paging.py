"""Paging styles as small state machines, and the one loop that drives them over HTTP.

A paginator never sends anything. It says which request comes first, reads each
answer (`update_state(response, body)` returns the page's records), and then
says which request comes next, or None when the listing has been read whole.
Every check of a listing that cannot be trusted lives here, so tests drive a
paginator with made-up answers and no network:

    paginator = OffsetPaginator("coursera", limit=100)
    request = paginator.first_request()
    while request is not None:
        records = paginator.update_state(*answer_to(request))
        request = paginator.next_request()

`paginate` is that loop over `ApiClient.get_json`. A paginator reads one listing once.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from lo_sync.errors import DataError
from lo_sync.http.messages import describe
from lo_sync.http.prefetch import PageWindow

if TYPE_CHECKING:
    from lo_sync.http.client import ApiClient

log = logging.getLogger("lo_sync.http")

# A fetch that has not ended after this many pages is a server bug, not a catalog.
MAX_PAGES = 100_000


@dataclass(frozen=True)
class PageRequest:
    """What one page's GET adds to the listing's URL: query parameters and headers."""

    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class Paginator(ABC):
    """One listing's paging state; `provider` names it in every refusal."""

    # Statuses that answer a page request without being failures (their body is None).
    accept_statuses: frozenset[int] = frozenset()

    def __init__(self, provider: str, page_size: int, max_pages: int = MAX_PAGES):
        self.provider = provider
        self.page_size = page_size
        self.max_pages = max_pages
        self.start = 0  # where the latest request starts; next_request moves it on
        self.total: int | None = None  # the listing's size, once the server has said it
        self.step = page_size  # how far one full page moves `start`
        self.answers = 0
        self.finished = False

    def first_request(self) -> PageRequest:
        return self._request(0)

    @abstractmethod
    def update_state(self, response: requests.Response, body: Any) -> list | None:
        """Read one answer: the page's records (None when the answer carries no page).

        Raises `DataError` for an answer that breaks the paging contract.
        """

    def next_request(self) -> PageRequest | None:
        """The request for the next page, or None when the listing has been read whole.

        Raises `DataError` for a cursor that goes nowhere, and after `max_pages` answers.
        """
        before = self.start
        request = self._advance()
        if request is None:
            self.finished = True
        elif self.answers == 1 and self.start > before:
            # The size the server serves pages in (it may cap what was asked for).
            self.step = self.start - before
        elif self.answers >= self.max_pages:
            raise DataError(f"{self.provider}: more than {self.max_pages} pages; refusing to go on")
        return request

    @abstractmethod
    def _advance(self) -> PageRequest | None: ...

    def remaining_starts(self) -> range | None:
        """After `next_request`: where each page still to read starts, that one first,
        if pages keep coming the size the first one came in. None while the total is
        unknown: a window of concurrent requests plans from these (prefetch.py)."""
        if self.finished:
            return range(0)
        if self.total is None:
            return None
        return range(self.start, self.total, self.step)

    def request_at(self, start: int) -> PageRequest:
        """The request for the page that starts at `start`."""
        return self._request(start)

    @abstractmethod
    def _request(self, start: int) -> PageRequest: ...


class OffsetPaginator(Paginator):
    """`start`/`limit` paging with a `paging.next` offset (Coursera).

    Stops when `next` is absent; refuses a `next` that does not move forward and
    a `total` that disagrees with what was actually read. A short page is no
    trouble: `next` says where the following one starts.
    """

    def __init__(self, provider: str, limit: int, max_pages: int = MAX_PAGES):
        super().__init__(provider, limit, max_pages)
        self.seen = 0
        self._paging: Any = None

    def _request(self, start: int) -> PageRequest:
        return PageRequest(params={"start": start, "limit": self.page_size})

    def update_state(self, response: requests.Response, body: Any) -> list:
        self.answers += 1
        if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            raise DataError(f"{self.provider}: page at start={self.start} has no 'elements' list")
        elements = body["elements"]
        self.seen += len(elements)
        # `paging` is judged by next_request: the page itself is good, and is handed
        # on before a bad cursor ends the fetch.
        self._paging = body.get("paging") or {}
        if isinstance(self._paging, dict) and isinstance(self._paging.get("total"), int):
            self.total = self._paging["total"]
        return elements

    def _advance(self) -> PageRequest | None:
        paging, start = self._paging, self.start
        if not isinstance(paging, dict):
            raise DataError(f"{self.provider}: page at start={start} has a malformed 'paging'")
        nxt = paging.get("next")
        if nxt is None or nxt == "":
            total = paging.get("total")
            if isinstance(total, int) and total != self.seen:
                raise DataError(
                    f"{self.provider}: listing said total {total} but returned {self.seen} "
                    "records; the fetch is incomplete"
                )
            return None
        try:
            next_start = int(nxt)
        except (TypeError, ValueError):
            raise DataError(
                f"{self.provider}: paging.next {nxt!r} at start={start} is not an offset"
            ) from None
        if next_start <= start:
            raise DataError(
                f"{self.provider}: paging.next {next_start} at start={start} does not "
                "move forward; refusing to loop"
            )
        self.start = next_start
        return self._request(next_start)


_CONTENT_RANGE = re.compile(r"^\s*items\s+(\d+)-(\d+)/(\d+|\*)\s*$")


class RangePaginator(Paginator):
    """HTTP `Range: items=a-b` paging (OpenClassrooms).

    Follows what the server actually returned (`Content-Range`), so a server that
    caps each slice is read whole; refuses a total that changes mid-fetch. A 200
    is the whole collection; a 416 is the end, unless it comes before the total.
    """

    accept_statuses = frozenset({416})

    def __init__(self, provider: str, size: int, max_pages: int = MAX_PAGES):
        super().__init__(provider, size, max_pages)
        self._more = True
        self._next_start = 0

    def _request(self, start: int) -> PageRequest:
        return PageRequest(headers={"Range": f"items={start}-{start + self.page_size - 1}"})

    def update_state(self, response: requests.Response, body: Any) -> list | None:
        self.answers += 1
        start, total = self.start, self.total
        if response.status_code == 416:
            if total is None or start >= total:
                self._more = False
                return None
            raise DataError(
                f"{self.provider}: server says items from {start} are out of range, "
                f"but announced {total}; the collection shrank while paging"
            )
        if not isinstance(body, list):
            raise DataError(f"{self.provider}: items from {start}: body is not a JSON array")
        if response.status_code == 200:
            if start != 0:
                raise DataError(
                    f"{self.provider}: server ignored Range items={start}- and sent the "
                    "whole collection again"
                )
            self._more = False
            return body
        _, last, announced = self._content_range(response, start, len(body))
        if total is not None and announced is not None and announced != total:
            raise DataError(
                f"{self.provider}: collection size changed from {total} to {announced} "
                "while paging; the listing cannot be trusted"
            )
        self.total = announced if announced is not None else total
        self._next_start = last + 1
        self._more = bool(body) and (self.total is None or self._next_start < self.total)
        return body

    def _advance(self) -> PageRequest | None:
        if not self._more:
            return None
        self.start = self._next_start
        return self._request(self.start)

    def _content_range(self, response: requests.Response, start: int, count: int):
        header = response.headers.get("Content-Range", "")
        match = _CONTENT_RANGE.match(header)
        if not match:
            raise DataError(
                f"{self.provider}: 206 answer for items from {start} has no valid "
                f"Content-Range ({header!r})"
            )
        first, last = int(match.group(1)), int(match.group(2))
        total = None if match.group(3) == "*" else int(match.group(3))
        if first != start or last < first or last - first + 1 != count:
            raise DataError(
                f"{self.provider}: Content-Range {header!r} does not match the request "
                f"from {start} and the {count} items sent"
            )
        if total is not None and last >= total:
            raise DataError(f"{self.provider}: Content-Range {header!r} runs past its total")
        return first, last, total


def paginate(
    client: ApiClient, url: str, paginator: Paginator, params: dict[str, Any] | None = None
) -> Iterator[list]:
    """Every page of the listing at `url`, in order, as `paginator` directs.

    `params` go with every request, before the paginator's own. Pages come whole
    or not at all: a request that fails after its retries, or an answer the
    paginator refuses, ends the iteration with the error. Once an answer gives the
    total, a client with `concurrency` above 1 has the next pages requested ahead
    (prefetch.py); the paginator still reads every answer in order.
    """
    window = PageWindow(client, url, params, paginator.accept_statuses)
    request: PageRequest | None = paginator.first_request()
    try:
        while request is not None:
            ahead = window.take(paginator.start)
            answer = window.answer(ahead, request) if ahead is not None else None
            if answer is None:  # not asked for ahead, or its body must be read again
                answer = client.get_json(
                    url,
                    params={**(params or {}), **request.params} or None,
                    headers=request.headers or None,
                    accept_statuses=paginator.accept_statuses,
                )
            records = paginator.update_state(*answer)
            if records is not None:
                yield records
            request = paginator.next_request()
            if request is not None and client.concurrency > 1:
                window.plan(paginator.remaining_starts(), paginator.request_at)
    finally:
        window.close()
    log.info(
        "%s: %s: %s pages, %s",
        client.provider,
        describe(url, None),
        f"{paginator.answers:,}",
        _how_read(client, window),
    )


def _how_read(client: ApiClient, window: PageWindow) -> str:
    if window.used:
        return f"{client.gate.summary()}; read up to {window.deepest} pages ahead"
    if client.concurrency > 1:
        return "one request at a time (the listing gave no total to plan from)"
    return "one request at a time (http.concurrency 1)"
