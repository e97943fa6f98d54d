"""The company's people, from a CSV: validated whole before anything is written."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from lo_sync.errors import InputError
from lo_sync.store import Store, utc_now

COLUMNS = ("email", "external_id", "name")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PROBLEMS_SHOWN = 10


def read_learners_csv(path: Path) -> list[dict]:
    """Parse and validate the whole file; every bad line is reported by number, and
    one bad line rejects the file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            # (line number, fields): a quoted field may span lines, so count as the file does.
            lines = [(reader.line_num, fields) for fields in reader]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not lines:
        raise InputError(f"{path}: empty file; expected a header line email,external_id,name")
    header = [h.strip().lower() for h in lines[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise InputError(
            f"{path}: line 1: header must name the columns {', '.join(COLUMNS)} "
            f"(got {', '.join(header)!r})"
        )
    index = {name: header.index(name) for name in COLUMNS}
    problems: list[str] = []
    rows: list[dict] = []
    seen_email: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    for number, values in lines[1:]:
        if not any(v.strip() for v in values):
            continue  # blank lines are harmless
        if len(values) != len(header):
            problems.append(f"line {number}: {len(values)} fields, expected {len(header)}")
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
    return rows


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
