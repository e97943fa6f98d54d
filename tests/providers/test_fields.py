"""The field validators every mapper shares."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lo_sync.providers import Notes
from lo_sync.providers.fields import (
    Unreadable,
    boolean,
    email,
    fraction_as_percent,
    identifier,
    listed_email,
    minutes,
    number,
    optional,
    percent,
    timestamp,
)


@given(
    st.one_of(
        st.integers(min_value=0, max_value=7_258_118_399_999),
        st.floats(min_value=0, max_value=7_258_118_399_999),
    )
)
def test_epoch_milliseconds_convert_exactly_as_strftime_of_gmtime_does(value):
    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value // 1000))
    assert timestamp(value, "ms") == expected


@pytest.mark.parametrize(
    ("value", "unit", "stored"),
    [
        (1709287200000, "ms", "2024-03-01T10:00:00Z"),
        ("1709287200000", "ms", "2024-03-01T10:00:00Z"),  # digits as text
        (1709287200, "s", "2024-03-01T10:00:00Z"),  # Coursera lastUpdatedAt: seconds
        # One client's fixtures spell the report's epochs as ISO-8601: read in any field.
        ("2024-03-01T10:00:00Z", "ms", "2024-03-01T10:00:00Z"),
        ("2024-03-01T12:00:00+02:00", "iso", "2024-03-01T10:00:00Z"),
        ("2024-03-01T10:00:00", "iso", "2024-03-01T10:00:00Z"),  # no zone: UTC
        ("20240301T100000Z", "iso", "2024-03-01T10:00:00Z"),  # ISO-8601 basic format
    ],
)
def test_a_timestamp_is_read_in_the_units_its_field_documents(value, unit, stored):
    assert timestamp(value, unit) == stored


@pytest.mark.parametrize(
    ("value", "unit", "problem"),
    [
        (1709055912, "iso", "is a number, and this field is ISO-8601 (seconds or milliseconds?)"),
        ("1709055912", "iso", "is a number, and this field is ISO-8601 (seconds or milliseconds?)"),
        (1709287200000, "s", "is out of range"),  # milliseconds in a seconds field
        (-1, "ms", "is out of range"),
        (10**400, "ms", "is out of range"),  # overflowed a float once
        (float("nan"), "ms", "is out of range"),
        ("01/03/2024", "iso", "is not an ISO-8601 timestamp"),
        ("0005-01-01T00:00:00Z", "iso", "is out of range"),  # was stored as "5-01-01T..."
        (True, "ms", "is a boolean, not a timestamp"),
    ],
)
def test_a_timestamp_that_is_ambiguous_or_junk_is_not_read(value, unit, problem):
    with pytest.raises(Unreadable, match=f"^{re.escape(problem)}$"):
        timestamp(value, unit)


@pytest.mark.parametrize(
    ("value", "unit", "stored"),
    [
        ("PT20H", "minutes", 1200),  # OpenClassrooms' public API house style
        ("PT1H30M", "minutes", 90),
        ("P1DT2H", "minutes", 1560),
        ("pt45s", "minutes", 0.75),
        (64800, "seconds", 1080),  # Coursera estimatedLearningTime
        ("720", "minutes", 720),
        (12.75, "hours", 765),  # approxTotalCourseHrs
    ],
)
def test_a_duration_is_read_in_minutes(value, unit, stored):
    assert minutes(value, unit) == stored


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("P12M", "is a calendar length (years, months or weeks), not a learning time"),
        ("P1Y", "is a calendar length (years, months or weeks), not a learning time"),
        ("PT", "is not an ISO-8601 duration"),
        ("P1DT", "is not an ISO-8601 duration"),
        (-5, "is negative"),
        (10**400, "is longer than 100,000,000 minutes"),  # overflowed a float once
        (1e308, "is longer than 100,000,000 minutes"),  # was an integer SQLite cannot hold
        ("P99999999999D", "is longer than 100,000,000 minutes"),
    ],
)
def test_a_duration_that_is_a_calendar_length_or_junk_is_not_read(value, problem):
    with pytest.raises(Unreadable, match=f"^{re.escape(problem)}$"):
        minutes(value, "minutes")


@pytest.mark.parametrize(
    ("value", "read"),
    [(413861904646, "413861904646"), (413861904646.0, "413861904646"), (" abc ", "abc")],
)
def test_an_id_is_read_as_text_whether_sent_as_a_number_or_a_string(value, read):
    assert identifier(value) == read


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        # Past 2**53 a float is not the integer that was sent.
        (4.5e20, "is float, not an id"),
        (1.5, "is float, not an id"),
        (True, "is a boolean, not an id"),
        (10**250, "is 251 digits long (limit 200)"),  # a text id has a limit: so has this
        ("x" * 201, "is 201 characters long (limit 200)"),
        ("   ", "is empty"),
    ],
)
def test_an_id_that_cannot_be_trusted_is_refused(value, problem):
    with pytest.raises(Unreadable, match=f"^{re.escape(problem)}$"):
        identifier(value)


def test_numbers_and_booleans_sent_as_strings_are_read_by_meaning():
    assert (number("0.977"), number(" 12 "), fraction_as_percent("0.977")) == (0.977, 12, 97.7)
    assert [boolean(v) for v in ("true", "FALSE", 1, 0, True)] == [True, False, True, False, True]
    with pytest.raises(Unreadable):
        number(True)


def test_a_progress_of_0_75_stays_0_75_percent():
    """The contract says 0-100: 0.75 could be 75 % on a 0-1 scale, and is not guessed."""
    assert percent(0.75) == 0.75


def test_an_optional_value_that_is_blank_is_empty_and_not_noted():
    notes = Notes()

    assert optional({"email": "  "}, "email", email, notes) is None
    assert optional({"email": 12}, "email", email, notes) is None
    assert notes == [("not read", "email", "is int, not an e-mail address", 12)]


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (" Ada.Lovelace+lo@Example.COM ", "ada.lovelace+lo@example.com"),
        ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
        # Internationalised addresses are addresses (RFC 6531).
        ("José@Exemple.fr", "josé@exemple.fr"),
        ("用户@例子.广告", "用户@例子.广告"),
    ],
)
def test_an_e_mail_address_becomes_its_key(value, key):
    assert email(value) == key
    # The company's own lists key an address by the same rule as the providers' records.
    assert listed_email(value) == (key, "")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ada\u200b@example.com", "it holds U+200B"),  # zero-width space
        ("ada@exam\u200dple.com", "it holds U+200D"),  # zero-width joiner
        ("\ufeffada@example.com", "it holds U+FEFF"),  # byte-order mark
        ("ada@elpmaxe\u202e.com", "it holds U+202E"),  # right-to-left override
        ("ada@example.com\x00evil", "it holds U+0000"),
        ("ada\x7f@example.com", "it holds U+007F"),
        ("ada\n@example.com", "it holds U+000A"),
        ("ada\u00a0lovelace@example.com", "it holds U+00A0"),  # no-break space
        ("josé\u2028@exemple.fr", "it holds U+2028"),
        ("ada@example", "(name@domain)"),
        ("ada.example.com", "(name@domain)"),
        ("ada@@example.com", "(name@domain)"),
        ("@example.com", "(name@domain)"),
        ("josé@exemple", "(name@domain)"),
        ("a" * 312 + "@example.com", "is longer than 320 characters"),
    ],
)
def test_what_is_not_an_e_mail_address_is_refused_saying_why(value, problem):
    with pytest.raises(Unreadable) as caught:
        email(value)

    assert str(caught.value).startswith("is ")
    assert str(caught.value).endswith(problem)
    key, said = listed_email(value)
    assert key is None
    assert said == f"{value.strip()[:60]!r} {caught.value}"


@pytest.mark.parametrize("value", ["EMP-1\x00", "a@b.io\u200b", "ab\ncd"], ids=repr)
def test_an_id_holding_a_control_or_invisible_character_is_not_an_id(value):
    from lo_sync.providers.fields import Unreadable, identifier

    with pytest.raises(Unreadable, match="control or invisible"):
        identifier(value)
