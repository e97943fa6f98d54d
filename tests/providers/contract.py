"""The contract every provider passes, as one test class each provider subclasses.

A subclass names the provider, its saved answers in tests/payloads/ and how its
API serves a collection page by page (`listing`: `OffsetListing`, `RangeListing`,
or a new one beside the new provider's tests):

    class TestCourseraContract(ProviderContract):
        provider = PROVIDERS["coursera"]
        courses_payload = "coursera_contents.json"
        stats_payload = "coursera_enrollment_reports.json"
        listing = OffsetListing

Pytest collects the tests through the subclass; this module holds none of its own.
"""

from __future__ import annotations

import copy
import json
import math
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from lo_sync.http import ApiClient, RetryPolicy
from lo_sync.providers import PROVIDERS, Notes, Provider, RecordError
from lo_sync.store.schema import STAGED_COURSE, STAGED_PROGRESS, course_values, progress_values

BASE_URL = "https://api.contract.test/v1"
TOKEN_URL = "https://auth.contract.test/token"
ORG_ID = "ORG-contract-7"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NOT_OBJECTS = [["id", "x"], "a record", 42, None]


class Listing:
    """A provider API serving `records` page by page, for `responses` to answer with."""

    def __init__(self, records: list):
        self.records = records
        self.sent: list[requests.PreparedRequest] = []
        self.asked: list[int] = []  # the page size of every request

    @property
    def paths(self) -> list[str]:
        return [request.url.split("?")[0] for request in self.sent]

    @staticmethod
    def records_of(payload) -> list:
        """The records of a saved answer."""
        raise NotImplementedError

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        self.sent.append(request)
        return self.answer(request)

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        raise NotImplementedError


class OffsetListing(Listing):
    """`start`/`limit` in the query, an `elements` envelope with `paging.next` and `total`."""

    @staticmethod
    def records_of(payload) -> list:
        return payload["elements"]

    def answer(self, request):
        query = parse_qs(urlsplit(request.url).query)
        start, limit = int(query["start"][0]), int(query["limit"][0])
        self.asked.append(limit)
        paging = {"total": len(self.records)}
        if start + limit < len(self.records):
            paging["next"] = str(start + limit)
        body = {"elements": self.records[start : start + limit], "paging": paging, "linked": {}}
        return 200, {}, json.dumps(body)


class RangeListing(Listing):
    """`Range: items=a-b`, answered 206 with `Content-Range`, 416 past the end, bare arrays."""

    @staticmethod
    def records_of(payload) -> list:
        return payload

    def answer(self, request):
        match = re.fullmatch(r"items=(\d+)-(\d+)", request.headers["Range"])
        first, last = int(match.group(1)), int(match.group(2))
        self.asked.append(last - first + 1)
        total = len(self.records)
        if first >= total:
            return 416, {}, json.dumps({"code": 416, "message": "Range Not Satisfiable"})
        last = min(last, total - 1)
        headers = {"Content-Range": f"items {first}-{last}/{total}"}
        return 206, headers, json.dumps(self.records[first : last + 1])


def fetch(
    provider: Provider, listing: Listing, kind: str, page_size: int | None
) -> tuple[list, Listing]:
    """Every page `provider.fetch_<kind>` reads from `listing`, and the listing, which
    recorded the requests. The organization is `ORG_ID`, its API at `BASE_URL`."""
    cfg = SimpleNamespace(base_url=BASE_URL, org_id=ORG_ID)
    client = ApiClient(
        provider.name,
        token_url=TOKEN_URL,
        client_id="contract-client",
        client_secret="contract-secret-Qw3e",
        retry=RetryPolicy(max_attempts=1),
    )
    read = provider.fetch_courses if kind == "courses" else provider.fetch_stats
    with responses.RequestsMock() as api:
        api.post(TOKEN_URL, json={"access_token": "tok-contract-Rt5y", "expires_in": 3600})
        api.add_callback(responses.GET, re.compile(re.escape(BASE_URL) + "/.*"), listing)
        try:
            pages = list(read(client, cfg, page_size))
        finally:
            client.close()
    return pages, listing


class ProviderContract:
    provider: Provider
    courses_payload: str
    stats_payload: str
    listing: type[Listing]

    # --- the saved answers ----------------------------------------------------------------------

    @pytest.fixture
    def course_records(self, load_payload) -> list:
        return self.listing.records_of(load_payload(self.courses_payload))

    @pytest.fixture
    def stat_records(self, load_payload) -> list:
        return self.listing.records_of(load_payload(self.stats_payload))

    # --- what the configuration needs ------------------------------------------------------------

    def test_is_registered_under_its_name(self):
        assert isinstance(PROVIDERS[self.provider.name], type(self.provider))
        assert re.fullmatch(r"[a-z][a-z0-9_]*", self.provider.name)

    def test_names_its_organization_key_apart_from_the_common_keys(self):
        org_key = self.provider.org_key
        assert isinstance(org_key, str) and org_key
        assert org_key not in {"client_id", "client_secret", "group", "base_url", "token_url"}

    def test_default_urls_are_https_without_a_trailing_slash(self):
        for url in (self.provider.default_base_url, self.provider.default_token_url):
            assert url.startswith("https://") and not url.endswith("/")

    def test_says_its_page_size_and_which_statuses_keep_a_course(self):
        assert isinstance(self.provider.max_page_size, int) and self.provider.max_page_size > 0
        statuses = self.provider.active_statuses
        if statuses is not None:
            assert isinstance(statuses, frozenset) and statuses
            assert all(isinstance(status, str) for status in statuses)

    # --- mapping ---------------------------------------------------------------------------------

    def test_saved_catalog_maps_to_rows_with_the_staging_columns(self, course_records):
        rows = [self.provider.course_row(record, Notes()) for record in course_records]

        assert rows
        for row in rows:
            assert set(row) == set(STAGED_COURSE)
            assert isinstance(row["external_id"], str) and row["external_id"]
            assert isinstance(row["title"], str) and row["title"].strip()
            assert row["provider_updated_at"] is None or ISO_UTC.match(row["provider_updated_at"])
            course_values(row)
        assert len({row["external_id"] for row in rows}) == len(rows)

    def test_saved_statistics_map_to_rows_with_the_staging_columns(self, stat_records):
        rows = [self.provider.stat_row(record, Notes()) for record in stat_records]

        assert rows
        for row in rows:
            assert set(row) == set(STAGED_PROGRESS)
            assert isinstance(row["course_external_id"], str) and row["course_external_id"]
            # Learners are matched by e-mail, case-insensitively.
            assert row["learner_email"] == row["learner_email"].strip().lower()
            assert 0 <= row["progress_percent"] <= 100
            assert row["completed"] in (0, 1)
            assert row["time_spent_theoretical"] in (0, 1)
            for column in ("completed_at", "last_activity_at", "enrolled_at"):
                assert row[column] is None or ISO_UTC.match(row[column]), column
            progress_values(row)

    def test_mapping_leaves_the_record_as_it_came(self, course_records, stat_records):
        for mapper, records in (
            (self.provider.course_row, course_records),
            (self.provider.stat_row, stat_records),
        ):
            for record in records:
                before = copy.deepcopy(record)
                assert mapper(record, Notes()) == mapper(record, Notes())
                assert record == before

    @pytest.mark.parametrize("record", NOT_OBJECTS, ids=repr)
    def test_a_record_that_is_not_an_object_is_refused(self, record):
        for mapper in (self.provider.course_row, self.provider.stat_row):
            with pytest.raises(RecordError, match="record is not an object"):
                mapper(record, Notes())

    # --- the id of a raw record ------------------------------------------------------------------

    def test_course_id_is_the_id_the_row_gets(self, course_records):
        provider = self.provider
        for record in course_records:
            assert provider.course_id(record) == provider.course_row(record)["external_id"]

    def test_course_id_of_a_record_that_cannot_be_mapped(self, course_records):
        field = self.provider.course_id_field
        broken = {field: course_records[0][field]}  # nothing but its id

        with pytest.raises(RecordError):
            self.provider.course_row(broken, Notes())
        assert self.provider.course_id(broken) == str(course_records[0][field])
        assert self.provider.course_id({**broken, field: 42}) == "42"

    @pytest.mark.parametrize("value", [None, True, 1.5, ["x"], {"id": 1}], ids=repr)
    def test_course_id_of_a_record_without_a_usable_id_is_none(self, value):
        assert self.provider.course_id({self.provider.course_id_field: value}) is None
        assert self.provider.course_id({}) is None

    @pytest.mark.parametrize("record", NOT_OBJECTS, ids=repr)
    def test_course_id_of_a_record_that_is_not_an_object_is_none(self, record):
        assert self.provider.course_id(record) is None

    # --- fetching --------------------------------------------------------------------------------

    def fetch(self, kind: str, records: list, page_size: int | None) -> tuple[list, Listing]:
        return fetch(self.provider, self.listing(records), kind, page_size)

    @pytest.mark.parametrize("kind", ["courses", "stats"])
    def test_a_fetch_reads_every_page_of_the_organization_listing(
        self, kind, course_records, stat_records
    ):
        records = course_records if kind == "courses" else stat_records

        pages, listing = self.fetch(kind, records, page_size=2)

        assert [record for page in pages for record in page] == records
        assert len(pages) == math.ceil(len(records) / 2)
        assert set(listing.asked) == {2}
        assert len(set(listing.paths)) == 1
        assert listing.paths[0].startswith(BASE_URL + "/") and ORG_ID in listing.paths[0]

    def test_catalog_and_statistics_are_different_listings(self, course_records, stat_records):
        _, courses = self.fetch("courses", course_records, page_size=None)
        _, stats = self.fetch("stats", stat_records, page_size=None)

        assert courses.paths[0] != stats.paths[0]

    @pytest.mark.parametrize("kind", ["courses", "stats"])
    def test_without_a_configured_page_size_a_fetch_asks_for_max_page_size(
        self, kind, course_records, stat_records
    ):
        records = course_records if kind == "courses" else stat_records

        pages, listing = self.fetch(kind, records, page_size=None)

        assert pages == [records]
        assert listing.asked == [self.provider.max_page_size]

    @pytest.mark.parametrize("kind", ["courses", "stats"])
    def test_an_empty_listing_is_read_as_empty(self, kind):
        pages, _ = self.fetch(kind, [], page_size=None)

        assert [record for page in pages for record in page] == []
