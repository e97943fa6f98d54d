"""The company's people, from a CSV: validated whole before anything is written."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from lo_sync.errors import InputError
from lo_sync.store import Store, utc_now

COLUMNS = ("email", "external_id", "name")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PROBLEMS_SHOWN = 10
# What HR tools and spreadsheets separate columns with; the header tells which one.
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# A byte order mark names its encoding; without one, the file must be UTF-8 or
# the operator names its encoding.
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip


@dataclass(frozen=True)
class LearnersFile:
    """A learners CSV read whole: its rows, and how it was read."""

    rows: list[dict]
    encoding: str
    delimiter: str
    ignored: tuple[str, ...] = ()

    def how_read(self) -> str:
        """What was not the default about the file, for the summary line ('' if nothing)."""
        parts = []
        if self.encoding not in ("utf-8", "utf-8-sig"):
            parts.append(f"read as {self.encoding}")
        if self.delimiter != ",":
            parts.append(f"{_DELIMITER_NAMES[self.delimiter]}-separated")
        if self.ignored:
            parts.append("ignored columns: " + ", ".join(self.ignored))
        return "; ".join(parts)


def read_learners_csv(path: Path, encoding: str | None = None) -> list[dict]:
    return read_learners_file(path, encoding).rows


def read_learners_file(path: Path, encoding: str | None = None) -> LearnersFile:
    """Parse and validate the whole file; every bad line is reported by number, and
    one bad line rejects the file.

    Accepted as they come: UTF-8 with or without a BOM, UTF-16 with a BOM (or any
    `encoding` named), columns separated by comma, semicolon, tab or pipe (the
    header shows which), and columns besides email, external_id and name (ignored).
    """
    text, encoding = _decode(path, _read_bytes(path), encoding)
    delimiter = _delimiter(path, text)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        # (line number, fields): a quoted field may span lines, so count as the file does.
        lines = [(reader.line_num, fields) for fields in reader]
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file ({exc})") from None
    header = [h.strip().lower() for h in lines[0][1]]
    doubled = [c for c in COLUMNS if header.count(c) > 1]
    if doubled:
        raise InputError(f"{path}: line 1: the column {doubled[0]} appears twice in the header")
    index = {name: header.index(name) for name in COLUMNS}
    ignored = tuple(h for h in lines[0][1] if h.strip().lower() not in COLUMNS)
    problems: list[str] = []
    rows: list[dict] = []
    seen_email: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    for number, values in lines[1:]:
        if not any(v.strip() for v in values):
            continue  # blank lines are harmless
        if len(values) != len(header):
            problems.append(
                f"line {number}: {len(values)} fields, expected {len(header)} as in the header "
                f"(a value holding a {_DELIMITER_NAMES[delimiter]} must be in double quotes)"
            )
            continue
        email = values[index["email"]].strip().lower()
        external_id = values[index["external_id"]].strip() or None
        name = values[index["name"]].strip() or None
        if not _EMAIL.match(email):
            problems.append(f"line {number}: {email or 'empty e-mail'!r} is not an e-mail address")
            continue
        if email in seen_email:
            problems.append(f"line {number}: e-mail {email} already on line {seen_email[email]}")
            continue
        if external_id and external_id in seen_external:
            problems.append(
                f"line {number}: external_id {external_id} already on line "
                f"{seen_external[external_id]}"
            )
            continue
        seen_email[email] = number
        if external_id:
            seen_external[external_id] = number
        rows.append({"email": email, "external_id": external_id, "name": name})
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise InputError(
            f"{path}: rejected, nothing imported: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else "")
        )
    return LearnersFile(rows, encoding, delimiter, ignored)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(
                f"--encoding {encoding}: not an encoding name Python knows "
                "(e.g. utf-8, cp1252, latin-1, cp1250, utf-16)"
            ) from None
        name = "utf-8-sig" if name == "utf-8" else name  # a BOM is not part of the header
        try:
            return data.decode(name), encoding
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: line {_line_of(data, exc)} is not {encoding} text; "
                "name the file's encoding with --encoding"
            ) from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: starts as {name} but line {_line_of(data, exc)} is not; "
                    "name the file's encoding with --encoding"
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        number = _line_of(data, exc)
        line = data.split(b"\n")[number - 1].rstrip(b"\r")
        as_windows = line.decode("cp1252", errors="replace")
        raise InputError(
            f"{path}: not UTF-8: line {number} holds the byte 0x{data[exc.start]:02X}, so "
            "another program wrote it in its own encoding. Most spreadsheets and HR tools "
            f"on Windows write Windows-1252, in which line {number} reads {as_windows!r}: if "
            "that is right, rerun with --encoding cp1252. Otherwise name the file's encoding "
            "(--encoding latin-1, cp1250, ...), or save the file as CSV UTF-8"
        ) from None


def _line_of(data: bytes, exc: UnicodeDecodeError) -> int:
    return data.count(b"\n", 0, exc.start) + 1


def _delimiter(path: Path, text: str) -> str:
    """The separator with which the header names every column lo-sync needs."""
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise InputError(f"{path}: empty file; expected a header line email,external_id,name")
    split = {d: [h.strip().lower() for h in next(csv.reader([first], delimiter=d))]
             for d in DELIMITERS}  # fmt: skip
    fitting = [d for d, header in split.items() if set(COLUMNS) <= set(header)]
    if fitting:
        return fitting[0]
    best = max(DELIMITERS, key=lambda d: len(split[d]))
    missing = [c for c in COLUMNS if c not in split[best]]
    raise InputError(
        f"{path}: line 1: the header has no column {', '.join(missing)} (its columns: "
        f"{', '.join(split[best])}). Name the columns email, external_id and name in the "
        "first line; external_id and name may be empty on a line, other columns are ignored"
    )


def import_learners(store: Store, rows: list[dict], dry_run: bool) -> tuple[int, int]:
    """(created, updated). Learners are keyed by lower-cased e-mail."""
    if dry_run:
        existing = store.learners.by_email()
        created = sum(1 for r in rows if r["email"] not in existing)
        updated = sum(
            1
            for r in rows
            if r["email"] in existing
            and (existing[r["email"]]["external_id"], existing[r["email"]]["name"])
            != (r["external_id"], r["name"])
        )
        return created, updated
    with store.transaction():
        return store.learners.upsert(rows, utc_now())
