"""Field readers shared by the provider mappers: each reads one value by its meaning.

Real answers stray from the contract's tables (provider-apis.md, "What real data
looks like"): numbers and booleans come as strings, ids as numbers, timestamps and
durations in several units. A reader accepts every spelling that means one thing
and refuses what is ambiguous rather than guess (a progress of 0.75 stays 0.75 %).

Two kinds of reader:
- `required_*` raise `RecordError`: without that value the record cannot be stored.
- the others return None for a missing or empty value, and for one they cannot
  read they note why on the record's `Notes` and return None: the record is still
  stored, without that value.

Each reader checks the usual type first with `value.__class__ is ...`: the mappers
run once for every record of every fetch, and the common spelling must stay cheap.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from datetime import UTC, datetime

from lo_sync.providers.records import Notes, RecordError

MAX_TITLE_LENGTH = 1000
MAX_EMAIL_LENGTH = 320  # RFC 5321: 64 for the local part, the @, 255 for the domain
MAX_ID_LENGTH = 200


class Unreadable(ValueError):
    """One value cannot be read as its field's meaning; the text says why."""


def iso_utc(value: datetime) -> str:
    """Timestamps are stored as ISO-8601 UTC to the second, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- reading one value -------------------------------------------------------------------------


def number(value) -> float | int:
    """A JSON number, or a string that spells one (`"0.977"`, `" 12 "`); never a boolean."""
    kind = value.__class__
    if kind is int or kind is float:
        if kind is float and not math.isfinite(value):
            raise Unreadable("is not a finite number")
        return value
    if kind is str:
        try:
            parsed = float(value.strip())
        except ValueError:
            raise Unreadable("is not a number") from None
        if not math.isfinite(parsed):
            raise Unreadable("is not a finite number")
        return int(parsed) if parsed.is_integer() and abs(parsed) < 2**53 else parsed
    raise Unreadable(f"is {_type_name(value)}, not a number")


def identifier(value) -> str:
    """An id as text: a string, or a whole JSON number (`413861904646` is `"413861904646"`)."""
    kind = value.__class__
    if kind is str:
        text = value.strip()
        if not text:
            raise Unreadable("is empty")
        if len(text) > MAX_ID_LENGTH:
            raise Unreadable(f"is {len(text)} characters long (limit {MAX_ID_LENGTH})")
        if not text.isprintable():
            # A control or format character would make an id (or a learner key) that
            # looks like another and matches nothing.
            raise Unreadable("holds a control or invisible character")
        return _storable(text)
    if kind is int:
        text = str(value)
        if len(text) > MAX_ID_LENGTH:
            raise Unreadable(f"is {len(text)} digits long (limit {MAX_ID_LENGTH})")
        return text
    if kind is float and value.is_integer() and abs(value) < 2**53:
        # Past 2**53 a float is not the number that was sent (a decoder's reading of
        # a huge integer): no id.
        return str(int(value))
    raise Unreadable(f"is {_type_name(value)}, not an id")


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def boolean(value) -> bool:
    """true/false, or the strings and numbers that spell them ("true", "0", 1)."""
    if value is True or value is False:
        return value
    if value.__class__ is str:
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    elif value.__class__ is int and value in (0, 1):
        return bool(value)
    raise Unreadable("is not a boolean")


# A statistics row carries up to three epochs. The calendar date is computed once
# per day (a report spans a few thousand days at most) and the time of day is two
# list lookups, instead of strftime(gmtime()) for every value.
_DATES: dict[int, str] = {}
_MAX_DATES = 100_000  # garbage epochs must not grow the cache without bound
_HOURS_MINUTES = [f"{h:02}:{m:02}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02}Z" for s in range(60)]
# Epochs lo-sync takes for real: 1970 to 2200. Anything else is a unit mistake or junk.
_MAX_EPOCH_SECONDS = 7_258_118_400


def iso_from_epoch(seconds: int | float) -> str:
    if not 0 <= seconds < _MAX_EPOCH_SECONDS:
        raise Unreadable("is out of range")
    day, second = divmod(int(seconds), 86_400)
    date = _DATES.get(day)
    if date is None:
        if len(_DATES) >= _MAX_DATES:
            _DATES.clear()
        date = _DATES[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    minute, second = divmod(second, 60)
    return date + _HOURS_MINUTES[minute] + _SECONDS[second]


def iso_from_text(value: str) -> str:
    """An ISO-8601 timestamp as stored; one without a zone is taken as UTC, as the
    contracts say every timestamp is."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable("is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # The epochs' range: a year 5 would be stored as "5-01-01T..." (strftime does not
    # pad it) and year 1 with an offset overflows on the way to UTC.
    if not 1970 <= parsed.year < 2200:
        raise Unreadable("is out of range")
    return iso_utc(parsed)


_EPOCH_DIVISOR = {"s": 1, "ms": 1000}


def timestamp(value, unit: str) -> str:
    """A timestamp as stored (ISO-8601 UTC). Numbers, and strings of digits, are
    epochs in the field's documented `unit` ('s', 'ms'), or refused when the field
    documents ISO-8601 ('iso'): seconds and milliseconds are not told apart by
    guessing. An ISO-8601 string is read in any field: it cannot be mistaken."""
    kind = value.__class__
    if kind is str:
        text = value.strip()
        if not text[:1].isdigit() or "-" in text or ":" in text:
            return iso_from_text(text)
        try:
            value = number(text)
        except Unreadable:
            # Digits first but no number: ISO-8601's basic format (20240301T100000Z)
            # or no timestamp at all (01/03/2024), which the reason must say.
            return iso_from_text(text)
    elif kind is not int and kind is not float:
        raise Unreadable(f"is {_type_name(value)}, not a timestamp")
    if unit == "iso":
        raise Unreadable("is a number, and this field is ISO-8601 (seconds or milliseconds?)")
    divisor = _EPOCH_DIVISOR[unit]
    # Checked before dividing: a huge JSON integer divided overflows a float.
    if not 0 <= value < _MAX_EPOCH_SECONDS * divisor:
        raise Unreadable("is out of range")
    return iso_from_epoch(value / divisor)


_ISO_DURATION = re.compile(
    r"P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_MINUTES_PER = {"seconds": 1 / 60, "minutes": 1, "hours": 60}
# About 190 years: longer is junk or a unit mistake, and a huge number would not fit
# the store's INTEGER (or would overflow a float on the way).
MAX_MINUTES = 100_000_000


def minutes(value, unit: str) -> float:
    """A duration in minutes. Numbers (and numeric strings) are in the field's
    documented `unit` ('seconds', 'minutes', 'hours'); ISO-8601 durations (`PT20H`,
    `PT1H30M`, `P1DT2H`) are read in any field. Years, months and weeks are calendar
    lengths, not learning time, and are refused rather than converted."""
    kind = value.__class__
    if kind is str and value.strip()[:1] in ("P", "p"):
        result = _iso_duration_minutes(value.strip())
        if not result <= MAX_MINUTES:
            raise Unreadable(f"is longer than {MAX_MINUTES:,} minutes")
        return result
    amount = number(value)
    if amount < 0:
        raise Unreadable("is negative")
    per = _MINUTES_PER[unit]
    if amount > MAX_MINUTES / per:
        raise Unreadable(f"is longer than {MAX_MINUTES:,} minutes")
    return amount * per


def _iso_duration_minutes(text: str) -> float:
    match = _ISO_DURATION.fullmatch(text)
    if not match or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        raise Unreadable("is not an ISO-8601 duration")
    parts = {name: float(v) for name, v in match.groupdict().items() if v is not None}
    if parts.keys() & {"years", "months", "weeks"}:
        raise Unreadable("is a calendar length (years, months or weeks), not a learning time")
    return (
        parts.get("days", 0) * 1440
        + parts.get("hours", 0) * 60
        + parts.get("minutes", 0)
        + parts.get("seconds", 0) / 60
    )


def percent(value) -> float:
    """A percentage on 0-100, as the contract has it: 0.75 is 0.75 %, not 75 %."""
    amount = number(value)
    if not 0 <= amount <= 100:
        raise Unreadable("is outside 0-100")
    return float(amount)


def fraction_as_percent(value) -> float:
    """A share on 0-1 (Coursera's grade) as a percentage."""
    amount = number(value)
    if not 0 <= amount <= 1:
        raise Unreadable("is outside 0-1")
    # float(): a whole number must map to the REAL that is stored, or the row's
    # fingerprint would differ from the stored one.
    return round(float(amount) * 100, 2)


def text(value) -> str:
    """Text as sent; a number is its text (a title of 1984 is "1984")."""
    kind = value.__class__
    if kind is str:
        return _storable(value)
    if kind is int or kind is float:
        return str(value)
    raise Unreadable(f"is {_type_name(value)}, not text")


# --- reading a record's field ------------------------------------------------------------------


def optional(record: dict, key: str, reader, notes: Notes, *args):
    """`reader(record[key], *args)`, or None when the value is missing, null or empty,
    or cannot be read: then the note says which field, why, and what was sent."""
    value = record.get(key)
    # Blank text is empty too, as `required` has it (isspace stops at the first letter).
    if value is None or value == "" or (value.__class__ is str and value.isspace()):
        return None
    try:
        return reader(value, *args)
    except Unreadable as problem:
        notes.unread(key, str(problem), value)
        return None


def required(record: dict, key: str, reader, *args):
    """`reader(record[key], *args)`; a `RecordError` naming the field when the value is
    missing or cannot be read."""
    value = record.get(key)
    if value is None or (value.__class__ is str and not value.strip()):
        raise RecordError(key, "missing" if value is None else "empty")
    try:
        return reader(value, *args)
    except Unreadable as problem:
        raise RecordError(key, str(problem), value) from None


def required_text(record: dict, key: str, max_length: int) -> str:
    value = required(record, key, text)
    if len(value) > max_length:
        raise RecordError(key, f"is longer than {max_length} characters", value)
    return value


def _storable(value: str) -> str:
    """JSON allows a lone surrogate (\\ud800) that no UTF-8 database can store."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unreadable("holds text that is not valid Unicode") from None
    return value


def _type_name(value) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean"}.get(
        value.__class__, type(value).__name__
    )


# --- e-mail addresses --------------------------------------------------------------------------

# The usual address, checked first and cheaply: printable ASCII but space and @ (the
# class is ! to ? and A to ~), one @, a dot in the domain: the shape the learners
# import asks of the company's own list.
_ASCII_EMAIL = re.compile(r"[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+")
_ANY_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email(value) -> str:
    """`value` as the key learners are matched by (stripped, lower case), if it is an
    e-mail address; `Unreadable` if not.

    An internationalised address (RFC 6531) is one, but none holds a control, format
    (zero-width, bidirectional), private-use or unassigned character, or a space of
    any kind: such a key would look like a learner's e-mail and match no one, or pass
    for someone else's. The reason says what is wrong, not the address.
    """
    if value.__class__ is not str:
        raise Unreadable(f"is {_type_name(value)}, not an e-mail address")
    address = value.strip().lower()
    if len(address) <= MAX_EMAIL_LENGTH and _ASCII_EMAIL.fullmatch(address):
        return address
    if len(address) > MAX_EMAIL_LENGTH:
        raise Unreadable(f"is longer than {MAX_EMAIL_LENGTH} characters")
    for char in address:
        if unicodedata.category(char)[0] in "CZ":
            raise Unreadable(f"is not an e-mail address: it holds U+{ord(char):04X}")
    if address.isascii() or not _ANY_EMAIL.fullmatch(address):
        raise Unreadable("is not an e-mail address (name@domain)")
    return _storable(address)


def listed_email(value: str) -> tuple[str | None, str]:
    """An address from one of the company's own lists (the learners file, a session's
    cohort) as `email` keys it, so that it matches the providers' records by the same
    rule: (key, "") or (None, what is wrong, the value quoted first)."""
    try:
        return email(value), ""
    except Unreadable as problem:
        shown = value.strip()[:60] or "(empty)"
        return None, f"{shown!r} {problem}"


# --- the usual spelling, read quickly --------------------------------------------------------
#
# A report row is read once a night for every learner and content: a million rows
# make the general readers above (a call to `optional`, one to the reader, one to
# `number`...) a large share of a night's CPU. Nearly every value comes in the
# contract's own spelling, and the readers below take only that spelling, with one
# call a value; anything else raises `Unusual`, and the mapper reads the record
# again the general way. They must never read a value differently from the general
# readers: tests/providers/test_usual_spelling.py holds them to it.


class Unusual(Exception):
    """A value is not in its field's usual spelling: the record is read the general way."""


def usual_id(value) -> str | None:
    """`identifier` of a missing value or of printable ASCII text."""
    if value is None:
        return None
    if value.__class__ is str:
        text = value.strip()
        if text and len(text) <= MAX_ID_LENGTH and text.isascii() and text.isprintable():
            return text
    raise Unusual


def usual_text(value) -> str | None:
    """`text` of a missing value or of text that is not blank."""
    if value is None:
        return None
    if value.__class__ is str and value and not value.isspace():
        if value.isascii():
            return value
        try:
            return _storable(value)
        except Unreadable:
            raise Unusual from None
    raise Unusual


def usual_number(value, low: float, high: float) -> int | float | None:
    """`number` of a missing value or of a JSON number from `low` to `high`."""
    if value is None:
        return None
    if (value.__class__ is float or value.__class__ is int) and low <= value <= high:
        return value
    raise Unusual


def usual_epoch(value, per_second: int) -> str | None:
    """`timestamp` of a missing value or of an epoch number (`per_second` 1 for
    seconds, 1000 for milliseconds) in range."""
    if value is None:
        return None
    if (value.__class__ is int or value.__class__ is float) and (
        0 <= value < _MAX_EPOCH_SECONDS * per_second
    ):
        return iso_from_epoch(value / per_second)
    raise Unusual


def usual_email(value) -> str | None:
    """`email` of a missing value or of a plain ASCII address."""
    if value is None:
        return None
    if value.__class__ is str:
        address = value.strip().lower()
        if len(address) <= MAX_EMAIL_LENGTH and _ASCII_EMAIL.fullmatch(address):
            return address
    raise Unusual
