"""How plans word what changed: counts, values, and changes of long texts."""

from __future__ import annotations

from typing import Any

from lo_sync.fetch.findings import SET_ASIDE, Findings
from lo_sync.providers import NEW_FIELD, NOT_READ


def plural(count: int, noun: str) -> str:
    """'1 course', '2 courses', '1,234 rows'."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def _text(value: Any) -> str:
    return "∅" if value is None else str(value).replace("\n", " ")


def _short(value: Any, width: int = 60) -> str:
    text = _text(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_text(old: Any, new: Any, width: int = 60) -> str:
    """`old → new`, each side at most `width` characters. When a long text changes
    past its start, both sides are cut around the first difference, with the
    same context before it, so the change is what shows."""
    a, b = _text(old), _text(new)
    if len(a) <= width and len(b) <= width:
        return f"{a} → {b}"
    pairs = enumerate(zip(a, b, strict=False))
    first = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    # Cut from the start when the difference shows there; else keep a third of the
    # width as context before it.
    start = 0 if first < width - width // 3 else first - width // 3
    return f"{_window(a, start, width)} → {_window(b, start, width)}"


def _window(text: str, start: int, width: int) -> str:
    """At most `width` characters of `text` from `start`, with … where it is cut."""
    if start == 0:
        return _short(text, width)
    rest = text[start:]
    return "…" + (rest if len(rest) < width else rest[: width - 2] + "…")


def findings_notes(findings: Findings) -> list[str]:
    """One note per reason: what was set aside or not read, how often, with examples."""
    notes = []
    for kind, verb in ((SET_ASIDE, "set aside"), (NOT_READ, "stored without the value")):
        for reason, count, examples in findings.reasons(kind):
            notes.append(f"{verb}: {reason}: {plural(count, 'record')}, e.g. {'; '.join(examples)}")
    return notes


def drift_label(finding: str, name: str, value: str) -> str:
    """'field dataRegion' or "contentType value 'Podcast'": one finding of drift."""
    return f"field {name}" if finding == NEW_FIELD else f"{name} value {value!r}"


def drift_notes(drift: list[tuple]) -> list[str]:
    notes = []
    for finding, name, value, count, example in drift:
        what = drift_label(finding, name, value)
        notes.append(
            f"new {what} ({plural(count, 'record')}, e.g. {example}): "
            "never seen before; stored as usual and recorded in data_drift"
        )
    return notes
