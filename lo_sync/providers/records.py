"""What mapping says about one record: why it cannot be stored, or what it noted."""

from __future__ import annotations

from typing import Any

NO_VALUE = object()


class RecordError(ValueError):
    """One API record cannot be stored at all; it is set aside, with the field and why.

    `reason` ("contentId: missing") is what set-aside records are counted by; the
    value, when there is one, shows only in examples.
    """

    def __init__(self, field: str, problem: str, value: Any = NO_VALUE):
        self.field = field
        self.problem = problem
        self.reason = f"{field}: {problem}"
        self.value = value
        super().__init__(self.reason if value is NO_VALUE else f"{self.reason} ({_shown(value)})")


def _shown(value: Any) -> str:
    try:
        return f"{value!r:.80}"
    except RecursionError:  # decoded JSON nests deeper than repr can recurse
        return "nested too deeply to show"


# What a mapper notes about a record it stored: a value it could not read (stored
# as NULL), or a value or field it has never seen before.
NOT_READ = "not read"
NEW_VALUE = "new value"
NEW_FIELD = "new field"


class Notes(list):
    """What mapping records noted: (kind, field, problem, value) tuples, appended by
    the mappers and counted by the fetch (`lo_sync.fetch.findings`)."""

    def unread(self, field: str, problem: str, value: Any) -> None:
        self.append((NOT_READ, field, problem, value))

    def new_value(self, field: str, value: Any) -> None:
        # Each new value is its own finding: its text is the "problem".
        self.append((NEW_VALUE, field, str(value)[:80], value))
