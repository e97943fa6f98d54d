"""The company's people, from a CSV: validated whole before anything is written."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from lo_sync.errors import InputError, SafetyAbort
from lo_sync.limits import MostAllowed, first_of
from lo_sync.providers.fields import listed_email
from lo_sync.store import Store, utc_now

COLUMNS = ("email", "external_id", "name")
MAX_PROBLEMS_SHOWN = 10
# A company of a million people is some 100 MB of CSV; past this it is not a people list.
MAX_FILE_BYTES = 256 * 1024 * 1024
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
        email, problem = listed_email(values[index["email"]])
        external_id = values[index["external_id"]].strip() or None
        name = values[index["name"]].strip() or None
        if email is None:
            problems.append(f"line {number}: {problem}")
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
        shown, more = first_of(problems, MAX_PROBLEMS_SHOWN)
        raise InputError(
            f"{path}: rejected, nothing imported: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else "")
        )
    return LearnersFile(rows, encoding, delimiter, ignored)


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"{path}: {size / 1024 / 1024:,.0f} MiB, above the "
                f"{MAX_FILE_BYTES // 1024 // 1024} MiB a people list may take; "
                "is it the right file?"
            )
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


DEFAULT_MAX_LEFT = "10%"
LEFT_SHOWN = 5


def parse_max_left(text: str) -> MostAllowed:
    """'15': at most 15 people; '10%': at most 10% of the people at the company."""
    try:
        return MostAllowed.parse("--max-left", text)
    except ValueError as problem:
        raise InputError(str(problem)) from None


@dataclass
class ImportPlan:
    """What an import would do: counts, and who would be marked as left (--replace)."""

    in_file: int
    created: int = 0
    updated: int = 0
    back: int = 0  # had left, and are in the file again
    leaving: list[str] = field(default_factory=list)  # e-mails, sorted
    at_company: int = 0  # people at the company before the import
    refusal: SafetyAbort | None = None

    @property
    def unchanged(self) -> int:
        return self.in_file - self.created - self.updated - self.back

    def summary(self, how: str = "", dry_run: bool = False) -> str:
        back = f", {self.back:,} back" if self.back else ""
        line = (
            f"learners: {self.in_file:,} in file{how}, {self.created:,} created, "
            f"{self.updated:,} updated{back}, {self.unchanged:,} unchanged"
        )
        if self.leaving or self.refusal:
            sample = ", ".join(self.leaving[:LEFT_SHOWN])
            more = len(self.leaving) - LEFT_SHOWN
            line += f", {len(self.leaving):,} {'to be marked' if dry_run else 'marked'} as left"
            line += f" ({sample}{f' and {more:,} more' if more > 0 else ''})" if sample else ""
        return line


def plan_import(
    store: Store,
    rows: list[dict],
    replace: bool = False,
    max_left: str = DEFAULT_MAX_LEFT,
    force: bool = False,
) -> ImportPlan:
    """Compare the file with the people stored. With `replace`, the file is the whole
    company: everyone absent from it would be marked as left, unless that is more
    than `max_left` of the people at the company (a file cut short, the wrong
    export), which refuses the whole import unless `force`."""
    existing = store.learners.by_email()
    plan = ImportPlan(len(rows))
    for row in rows:
        old = existing.get(row["email"])
        if old is None:
            plan.created += 1
        elif old["left_at"] is not None:
            plan.back += 1
        elif (old["external_id"], old["name"]) != (row["external_id"], row["name"]):
            plan.updated += 1
    if not replace:
        return plan
    in_file = {row["email"] for row in rows}
    at_company = [email for email, old in existing.items() if old["left_at"] is None]
    plan.at_company = len(at_company)
    plan.leaving = sorted(email for email in at_company if email not in in_file)
    bound = parse_max_left(max_left)
    if not force and len(plan.leaving) > bound.of(plan.at_company):
        plan.refusal = SafetyAbort(
            f"learners import --replace: would mark {len(plan.leaving):,} of "
            f"{plan.at_company:,} people as left, above the limit "
            f"({bound.said(plan.at_company)}); nothing "
            "written. Check that the file lists the whole company, then rerun with "
            f"--max-left {len(plan.leaving)} or --force"
        )
    return plan


def apply_import(store: Store, rows: list[dict], plan: ImportPlan) -> None:
    """Write the plan in one transaction: people created, updated, back, and left."""
    now = utc_now()
    with store.transaction():
        store.learners.upsert(rows, now)
        store.learners.mark_left(plan.leaving, now)


def import_learners(store: Store, rows: list[dict], dry_run: bool) -> tuple[int, int]:
    """(created, updated), people back counted as updated. Learners are keyed by
    lower-cased e-mail."""
    plan = plan_import(store, rows)
    if not dry_run:
        apply_import(store, rows, plan)
    return plan.created, plan.updated + plan.back
