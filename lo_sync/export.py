"""Exports for downstream systems (an HRIS, a BI tool): CSV or JSON Lines, streamed from
a cursor row by row, to stdout or to a file replaced atomically.

Memory stays flat at any size: nothing is gathered before it is written. What each
export holds and which column `--since` filters on is in `lo_sync/store/exports.py`.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TextIO

from lo_sync.errors import InputError
from lo_sync.report import spreadsheet_cell
from lo_sync.store import Store

KINDS = ("courses", "progress", "changes")
BATCH_ROWS = 500  # rows formatted at a time: fewer writes, memory still flat
FORMATS = ("csv", "jsonl")
# Columns stored as JSON text, written as JSON values in JSON Lines.
JSON_COLUMNS = frozenset({"skills"})
_SINCE = re.compile(r"(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d(?::\d\d)?)Z?)?")


def parse_since(raw: str) -> str:
    """A UTC date or time (2026-12-01, 2026-12-01T03:00:00Z) as the stored timestamps
    spell it, so that it compares with them as text; else InputError."""
    match = _SINCE.fullmatch(raw.strip())
    try:
        if not match:
            raise ValueError
        clock = match.group(2) or "00:00:00"
        clock += ":00" if len(clock) == 5 else ""
        moment = datetime.strptime(f"{match.group(1)}T{clock}", "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise InputError(
            f"--since {raw[:40]!r}: expected a UTC date or time such as 2026-12-01 or "
            "2026-12-01T03:00:00Z"
        ) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def export(
    store: Store, kind: str, providers: Sequence[str], since: str | None, fmt: str, out: TextIO
) -> int:
    """Write the export `kind` to `out` in `fmt`; how many rows it holds."""
    names, rows = getattr(store.exports, kind)(providers, since)
    try:
        if fmt == "jsonl":
            return write_jsonl(out, names, rows)
        return write_csv_rows(out, names, rows)
    finally:
        rows.close()  # its cursor, while the connection is open (a write may have failed)


def write_csv_rows(out: TextIO, names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """CSV, header first, as `report.write_csv` writes it (the same cell rule, the same
    line endings), but a batch at a time from an iterator; how many rows."""
    # As in write_csv: the csv module quotes a cell holding a character of the line
    # terminator, and only then; written with "\r\n" and ended in "\n", a bare \r in a
    # cell is quoted and cannot start a row whose first cell escaped the check.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cells = ([spreadsheet_cell(cell) for cell in row] for row in rows)
    batch = [list(names)]
    count = -1  # the header
    while batch:
        writer.writerows(batch)
        text = buffer.getvalue()
        if text.count("\r") == len(batch):  # only the line ends: all at once
            out.write(text.replace("\r\n", "\n"))
        else:  # a cell holds a \r: line by line, so that only the line ends change
            for line in batch:
                buffer.seek(0)
                buffer.truncate()
                writer.writerow(line)
                out.write(buffer.getvalue()[:-2] + "\n")
        buffer.seek(0)
        buffer.truncate()
        count += len(batch)
        batch = list(itertools.islice(cells, BATCH_ROWS))
    return count


def write_jsonl(out: TextIO, names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """One JSON object a line; how many rows."""
    decoded = [i for i, name in enumerate(names) if name in JSON_COLUMNS]
    count = 0
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for i in decoded:
            with suppress(TypeError, ValueError):  # not JSON after all: kept as text
                record[names[i]] = json.loads(row[i])
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


@contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """A text stream whose content replaces `path` only once all of it is written.

    It is written to an owner-only temporary file beside `path` (mkstemp: mode 0600,
    O_EXCL), then renamed over it, so a reader never sees half an export and a failed
    export leaves yesterday's file as it was. A symbolic link at `path` is refused.
    """
    what = f"export file {path}"
    if path.is_symlink():
        raise InputError(
            f"{what} is a symbolic link; lo-sync does not write through links "
            "(remove it: lo-sync creates the file itself)"
        )
    if path.exists() and not path.is_file():
        raise InputError(f"{what} is not a regular file; lo-sync will not replace it")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {what}: the folder {folder} does not exist")
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot create {what}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # rename never follows a link: one planted since the check is replaced, not written.
        os.replace(temp, path)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(temp)
        raise InputError(f"cannot write {what}: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
