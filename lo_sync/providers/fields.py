"""Field validators shared by the provider mappers: each reads one value or raises RecordError.

Type checks use the tuple form `isinstance(x, (int, float))` rather than
`int | float`: it is the cheaper check on Python 3.11, and the mappers run once
for every record of every fetch.
"""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime

from lo_sync.providers.base import RecordError

MAX_TITLE_LENGTH = 1000
MAX_EMAIL_LENGTH = 320  # RFC 5321: 64 for the local part, the @, 255 for the domain


def iso_utc(value: datetime) -> str:
    """Timestamps are stored as ISO-8601 UTC to the second, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# A statistics row carries up to three epochs. The calendar date is computed once
# per day (a report spans a few thousand days at most) and the time of day is two
# list lookups, instead of strftime(gmtime()) for every value.
_DATES: dict[int, str] = {}
_MAX_DATES = 100_000  # garbage epochs must not grow the cache without bound
_HOURS_MINUTES = [f"{h:02}:{m:02}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02}Z" for s in range(60)]


def iso_from_epoch_ms(value, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{field} is not epoch milliseconds: {value!r}")
    try:
        day, second = divmod(int(value // 1000), 86_400)
        date = _DATES.get(day)
        if date is None:
            if len(_DATES) >= _MAX_DATES:
                _DATES.clear()
            date = _DATES[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    except (OverflowError, OSError, ValueError):
        raise RecordError(f"{field} is out of range: {value!r}") from None
    minute, second = divmod(second, 60)
    return date + _HOURS_MINUTES[minute] + _SECONDS[second]


def iso_from_text(value, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field} is not an ISO-8601 string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{field} is not an ISO-8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # the contract says UTC
    return iso_utc(parsed)


def required_text(record: dict, key: str, max_length: int | None = None) -> str:
    value = record.get(key)
    if value is None:
        raise RecordError(f"missing {key}")
    if not isinstance(value, str):
        raise RecordError(f"{key} is {type(value).__name__}, not text")
    if not value.strip():
        raise RecordError(f"{key} is empty")
    if max_length and len(value) > max_length:
        raise RecordError(f"{key} is {len(value)} characters long (limit {max_length})")
    return _storable(value, key)


def optional_text(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} is {type(value).__name__}, not text")
    return _storable(value, key)


def _storable(value: str, key: str) -> str:
    """JSON allows a lone surrogate (\\ud800) that no UTF-8 database can store."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(f"{key} holds text that is not valid Unicode") from None
    return value


def percent(value, field: str, *, required: bool = True) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{field} is not a number: {value!r}")
    if not 0 <= value <= 100:
        raise RecordError(f"{field} is outside 0-100: {value!r}")
    return float(value)


# The usual address, checked first and cheaply: printable ASCII but space and @ (the
# class is ! to ? and A to ~), one @, a dot in the domain: the shape the learners
# import asks of the company's own list.
_ASCII_EMAIL = re.compile(r"[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+")
_ANY_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email_address(value: str, field: str) -> str:
    """`value` as the key learners are matched by (stripped, lower case), if it is an
    e-mail address; a RecordError naming `field` if not.

    An internationalised address (RFC 6531) is one, but none holds a control, format
    (zero-width, bidirectional), private-use or unassigned character, or a space of
    any kind: such a key would look like a learner's e-mail and match no one, or pass
    for someone else's. The error names the field and what is wrong, not the address.
    """
    address = value.strip().lower()
    if len(address) <= MAX_EMAIL_LENGTH and _ASCII_EMAIL.fullmatch(address):
        return address
    if len(address) > MAX_EMAIL_LENGTH:
        raise RecordError(f"{field} is {len(address)} characters long (limit {MAX_EMAIL_LENGTH})")
    for char in address:
        if unicodedata.category(char)[0] in "CZ":
            raise RecordError(f"{field} is not an e-mail address: it holds U+{ord(char):04X}")
    if address.isascii() or not _ANY_EMAIL.fullmatch(address):
        raise RecordError(f"{field} is not an e-mail address (name@domain)")
    return address
