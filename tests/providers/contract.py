"""The contract every provider passes, as one test class each provider subclasses.

A subclass names the provider, its saved answers in tests/payloads/ and how its
API serves a collection page by page (`listing`: `OffsetListing`, `RangeListing`,
or a new one beside the new provider's tests):

    class TestCourseraContract(ProviderContract):
        provider = PROVIDERS["coursera"]
        courses_payload = "coursera_contents.json"
        stats_payload = "coursera_enrollment_reports.json"
        listing = OffsetListing
        course_required = frozenset({"contentId", "name"})
        stat_required = frozenset({"contentId", "email"})

`course_required` and `stat_required` are the fields without which a record cannot
be stored (provider-apis.md: no id, no learner at all, no title); every other field
is optional, and a record missing it still maps.

Pytest collects the tests through the subclass; this module holds none of its own.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sqlite3
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lo_sync.http import ApiClient, RetryPolicy
from lo_sync.providers import NEW_VALUE, NOT_READ, PROVIDERS, Notes, Provider, RecordError
from lo_sync.store.schema import (
    STAGED_COURSE,
    STAGED_PROGRESS,
    course_values,
    progress_values,
    typed,
)

BASE_URL = "https://api.contract.test/v1"
TOKEN_URL = "https://auth.contract.test/token"
ORG_ID = "ORG-contract-7"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NOT_OBJECTS = [["id", "x"], "a record", 42, None]
# What a JSON decoder can hand a mapper as one value (json.loads allows NaN and
# lone surrogates, and integers of any size).
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\ud800",
            "0.5",
            "true",
            "PT20H",
            "P12M",
            "1709287200000",
            "2024-03-01T10:00:00Z",
            "Course~x",
            "a@b.co",
            "-1",
            "1e400",
        ]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

# The fuzz runs once per provider subclass: the same test on other executors.
# Hypothesis has that health check only since 6.x; the floor (4.24) makes no such check.
EVERY_PROVIDER = [
    check
    for check in (getattr(HealthCheck, "differing_executors", None), HealthCheck.too_slow)
    if check is not None
]


def storable(columns: tuple[str, ...], values: tuple) -> None:
    """Insert `values` into a table typed as staging is: fails as the store would on a
    value SQLite cannot hold (an integer past 64 bits, text that is not UTF-8)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE TABLE staged ({typed(columns)})")
        conn.execute(f"INSERT INTO staged VALUES ({', '.join('?' * len(columns))})", values)
    finally:
        conn.close()


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


def _payload(name: str):
    from tests.conftest import PAYLOADS

    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


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
    course_required: frozenset[str]
    stat_required: frozenset[str]

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
            # Learners are matched by e-mail, case-insensitively, then by external id.
            email = row["learner_email"]
            assert email is None or email == email.strip().lower()
            assert row["learner_key"] in (email or row["learner_external_id"],)
            assert row["learner_key"]
            assert row["progress_percent"] is None or 0 <= row["progress_percent"] <= 100
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
            with pytest.raises(RecordError, match="^record: is not an object$"):
                mapper(record, Notes())

    # --- optional means optional (provider-apis.md, "What follows for every adapter") -----------

    def mappers(self, course_records, stat_records):
        return (
            (self.provider.course_row, course_records, self.course_required, STAGED_COURSE),
            (self.provider.stat_row, stat_records, self.stat_required, STAGED_PROGRESS),
        )

    def test_a_record_with_only_its_required_fields_maps(self, course_records, stat_records):
        for mapper, records, required, columns in self.mappers(course_records, stat_records):
            for record in records:
                notes = Notes()
                row = mapper({k: v for k, v in record.items() if k in required}, notes)

                assert set(row) == set(columns)
                assert notes == []

    def test_a_record_missing_any_one_optional_field_maps_without_a_note(
        self, course_records, stat_records
    ):
        for mapper, records, required, _ in self.mappers(course_records, stat_records):
            for record in records:
                for key in record.keys() - required:
                    for absent in (
                        {k: v for k, v in record.items() if k != key},
                        {**record, key: None},
                    ):
                        notes = Notes()
                        mapper(absent, notes)
                        assert [n for n in notes if n[0] == NOT_READ] == [], key

    def test_a_record_missing_a_required_field_is_set_aside_naming_it(
        self, course_records, stat_records
    ):
        for mapper, records, required, _ in self.mappers(course_records, stat_records):
            for key in required:
                record = {k: v for k, v in records[0].items() if k in required - {key}}
                with pytest.raises(RecordError) as caught:
                    mapper(record, Notes())
                # Without its e-mail a learner may still have an external id: the
                # reason is then about the learner, not the e-mail field.
                assert caught.value.field in (key, "learner")
                assert caught.value.reason == f"{caught.value.field}: {caught.value.problem}"

    # --- junk never crashes a fetch --------------------------------------------------------------

    def check_mapping(self, mapper, record, columns, values) -> None:
        """`mapper(record)` is a storable row with well-formed notes, or a RecordError
        whose reason names a field: never any other exception."""
        notes = Notes()
        try:
            row = mapper(record, notes)
        except RecordError as error:
            assert error.field and isinstance(error.field, str)
            assert error.reason == f"{error.field}: {error.problem}"
            return
        assert set(row) == set(columns)
        storable(columns, values(row))
        for kind, field, problem, _ in notes:
            assert kind in (NOT_READ, NEW_VALUE)
            assert isinstance(field, str) and field and isinstance(problem, str)

    # Each provider's subclass runs the same test method: differing executors by design.
    @settings(max_examples=100, deadline=None, suppress_health_check=EVERY_PROVIDER)
    @given(data=st.data())
    def test_a_saved_record_with_junk_values_maps_or_is_set_aside(self, data):
        for mapper, name, fields, columns, values in (
            (self.provider.course_row, self.courses_payload, self.provider.course_fields,
             STAGED_COURSE, course_values),
            (self.provider.stat_row, self.stats_payload, self.provider.stat_fields,
             STAGED_PROGRESS, progress_values),
        ):  # fmt: skip
            records = self.listing.records_of(_payload(name))
            record = copy.deepcopy(data.draw(st.sampled_from(records)))
            keys = st.sampled_from(sorted(fields | record.keys())) | st.text(max_size=8)
            record.update(data.draw(st.dictionaries(keys, JSON_VALUES, max_size=4)))
            self.check_mapping(mapper, record, columns, values)

    @settings(max_examples=100, deadline=None, suppress_health_check=EVERY_PROVIDER)
    @given(record=st.dictionaries(st.text(max_size=15), JSON_VALUES, max_size=6))
    def test_a_record_of_random_values_maps_or_is_set_aside(self, record):
        self.check_mapping(self.provider.course_row, record, STAGED_COURSE, course_values)
        self.check_mapping(self.provider.stat_row, record, STAGED_PROGRESS, progress_values)

    # --- the id of a raw record ------------------------------------------------------------------

    def test_course_id_is_the_id_the_row_gets(self, course_records):
        provider = self.provider
        for record in course_records:
            assert provider.course_id(record) == provider.course_row(record, Notes())["external_id"]

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
