"""SQL pieces the domain modules share, each built in one place.

Staged rows are always aliased `s`; the stored row they are compared with is `c`
(courses) or `p` (progress), and belongs to the provider passed as the first
parameter of the join.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def qualified(alias: str, columns: Iterable[str]) -> str:
    """'s.a, s.b' for columns a and b of the table aliased `s`."""
    return ", ".join(f"{alias}.{c}" for c in columns)


def differs(fields: Iterable[str], left: str, right: str) -> str:
    """True when any of `fields` differs between the two rows; NULL equals NULL."""
    return " OR ".join(f"{left}.{f} IS NOT {right}.{f}" for f in fields)


def same(fields: Iterable[str], left: str, right: str) -> str:
    """True when every one of `fields` is equal in the two rows; NULL equals NULL."""
    return " AND ".join(f"{left}.{f} IS {right}.{f}" for f in fields)


def stored_row(table: str, alias: str, key: Sequence[str], provider: str = "?") -> str:
    """`table alias ON …`: the provider's stored row with the key of the staged row `s`."""
    return f"{table} {alias} ON {alias}.provider = {provider} AND " + " AND ".join(
        f"{alias}.{k} = s.{k}" for k in key
    )


def staged_not_stored(stage: str, table: str, alias: str, key: Sequence[str], provider="?") -> str:
    """`FROM … WHERE …`: the staged rows the provider has no stored row for yet."""
    return (
        f"FROM {stage} s LEFT JOIN {stored_row(table, alias, key, provider)} "
        f"WHERE {alias}.{key[-1]} IS NULL"
    )


# Presence in tonight's listing (the TEMP table `stage_listed`) of the provider's
# stored courses, which the caller selects with `provider = ?`.
MISSING_FROM_LISTING = (
    "missing_since IS NULL AND external_id NOT IN (SELECT external_id FROM stage_listed)"
)
RETURNED_TO_LISTING = (
    "missing_since IS NOT NULL AND external_id IN (SELECT external_id FROM stage_listed)"
)


def dicts(cursor: sqlite3.Cursor) -> Iterator[dict]:
    """The cursor's rows as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def text(value: Any) -> str | None:
    """A value as the history tables store it: text, or NULL."""
    return None if value is None else str(value)
