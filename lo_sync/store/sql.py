"""SQL pieces the domain modules share, each built in one place."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def dicts(cursor: sqlite3.Cursor) -> Iterator[dict]:
    """The cursor's rows as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def text(value: Any) -> str | None:
    """A value as the history tables store it: text, or NULL."""
    return None if value is None else str(value)
