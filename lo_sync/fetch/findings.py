"""What a fetch could not store, could not read, or saw for the first time, by reason.

Every record set aside, every value stored as NULL because it could not be read,
and every field or enum value the mapping has never seen is counted here under
its reason ("email: is not an e-mail address (name@domain)"), with a few examples,
so the run summary, the failed run's record and `lo-sync check` can say exactly
what the provider sent that lo-sync could not use.
"""

from __future__ import annotations

import json
from typing import Any

from lo_sync.providers import NEW_FIELD, NEW_VALUE, NOT_READ

SET_ASIDE = "set aside"
KINDS = (SET_ASIDE, NOT_READ, NEW_FIELD, NEW_VALUE)
EXAMPLES = 3  # kept per reason
EXAMPLE_WIDTH = 120

# (kind, field, problem) → [count, [example, ...]]: how a page carries its findings
# across from the fetch worker (plain values, as marshal needs them).
PageFindings = dict[tuple[str, str, str], list]


# Distinct findings kept per fetch: each new value is a finding of its own, and a
# field of junk must not grow them without bound. Past it, they count together.
MAX_FINDINGS = 500
MORE = "(more values than lo-sync keeps apart)"


def add(page: PageFindings, kind: str, field: str, problem: str, value: Any) -> None:
    entry = page.get((kind, field, problem))
    if entry is None:
        if len(page) >= MAX_FINDINGS:
            problem = MORE
            entry = page.get((kind, field, problem))
        if entry is None:
            page[(kind, field, problem)] = [1, [example_text(value)]]
            return
    entry[0] += 1
    if len(entry[1]) < EXAMPLES:
        example = example_text(value)
        if example not in entry[1]:
            entry[1].append(example)


def example_text(value: Any) -> str:
    """A value as an example: short, one line, JSON where it can be."""
    try:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        shown.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: shown escaped, since no database or terminal takes it.
        shown = json.dumps(value)
    except (TypeError, ValueError):
        shown = str(type(value).__name__)
    except RecursionError:
        shown = "(nested too deeply to show)"
    shown = " ".join(shown.split())
    shown = shown if len(shown) <= EXAMPLE_WIDTH else shown[: EXAMPLE_WIDTH - 1] + "…"
    return printable(shown)


def printable(text: str) -> str:
    """`text`, with what UTF-8 cannot carry (a lone surrogate JSON allows, \\ud800)
    escaped: examples, fields and values end up in the database and on the terminal."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class Findings:
    """A whole fetch's findings: pages' findings merged, counts exact, examples few."""

    def __init__(self) -> None:
        self.entries: PageFindings = {}

    def merge(self, page: PageFindings) -> None:
        for (kind, field, problem), (count, examples) in page.items():
            # A new field's name, or a new value, is whatever the provider sent.
            key = (kind, printable(field), printable(problem))
            entry = self.entries.get(key)
            if entry is None and len(self.entries) >= MAX_FINDINGS:
                key = (kind, key[1], MORE)
                entry = self.entries.get(key)
            if entry is None:
                self.entries[key] = [count, list(examples[:EXAMPLES])]
                continue
            entry[0] += count
            for example in examples:
                if len(entry[1]) < EXAMPLES and example not in entry[1]:
                    entry[1].append(example)

    def total(self, kind: str) -> int:
        return sum(count for (k, _, _), (count, _) in self.entries.items() if k == kind)

    def reasons(self, kind: str) -> list[tuple[str, int, list[str]]]:
        """(reason, count, examples) of one kind, most frequent first."""
        found = [
            (reason_text(field, problem), count, examples)
            for (k, field, problem), (count, examples) in self.entries.items()
            if k == kind
        ]
        return sorted(found, key=lambda item: (-item[1], item[0]))

    def drift(self) -> list[tuple[str, str, str, int, str]]:
        """(kind, field, value, count, example) of every new field and new value; the
        value is '' for a new field."""
        found = []
        for (kind, field, problem), (count, examples) in self.entries.items():
            if kind == NEW_FIELD:
                found.append((kind, field, "", count, examples[0]))
            elif kind == NEW_VALUE:
                found.append((kind, field, problem, count, examples[0]))
        return sorted(found)

    def __bool__(self) -> bool:
        return bool(self.entries)


def reason_text(field: str, problem: str) -> str:
    return f"{field}: {problem}"


def top_reasons(reasons: list[tuple[str, int, list[str]]], limit: int = 3) -> str:
    """'email: missing (12), contentId: is an object, not an id (3) and 2 more reasons'."""
    shown = ", ".join(f"{reason} ({count:,})" for reason, count, _ in reasons[:limit])
    rest = len(reasons) - limit
    return shown + (f" and {rest} more reason{'s' if rest > 1 else ''}" if rest > 0 else "")
