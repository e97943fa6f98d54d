"""Fixtures shared across test modules. Keep each one small and clearly named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
def load_payload():
    """Read a saved provider API answer from tests/payloads/ as it came off the wire."""

    def load(name: str):
        return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))

    return load


# --- shared by test_faults.py, test_security.py and test_fuzz.py ---------------------------------


def _never_shown(sim) -> list[str]:
    """What must never appear anywhere lo-sync writes: the simulator's client secrets,
    the HTTP Basic values that carry them, and every access token it has issued."""
    import base64

    from lo_sync.simulator import CREDENTIALS

    values = []
    for creds in CREDENTIALS.values():
        values.append(creds["client_secret"])
        pair = f"{creds['client_id']}:{creds['client_secret']}".encode()
        values.append(base64.b64encode(pair).decode())
    return values + (sim.issued_tokens() if sim is not None else [])


@pytest.fixture
def assert_no_secrets():
    """`check(sim, *texts, extra=())`: fail naming the first secret or token found in any text
    (str or bytes: output, log files, database bytes)."""

    def check(sim, *texts, extra=()):
        for value in [*_never_shown(sim), *extra]:
            for text in texts:
                haystack = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                assert value not in haystack, f"a secret or token leaked: {value[:6]}…"

    return check


# --- reliability: database content and read-only paths (test_kills, test_concurrency, test_disk) --

# Every table lo-sync writes but the run log (a killed run's attempts differ from a clean one's).
CONTENT_TABLES = (
    "courses",
    "group_courses",
    "course_tags",
    "course_changes",
    "rejected_records",
    "learners",
    "progress",
    "progress_history",
)
# Wall-clock columns differ between two runs that do the same thing: keep only whether they are set.
CLOCK_COLUMNS = {
    "archived_at",
    "missing_since",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "added_at",
    "changed_at",
}
RUN_COLUMNS = {"run_id", "first_run_id", "last_run_id"}


def content_of(path) -> dict:
    """The database's content as {table: Counter(normalized rows)}, comparable across runs.

    Row ids are dropped, clock columns reduced to set / not set, and run ids replaced
    by the command and provider of their run. A missing file is an empty database.
    Opening read-write lets SQLite roll back a hot journal first, as any reader does.
    """
    import sqlite3
    from collections import Counter
    from pathlib import Path

    content = {table: Counter() for table in CONTENT_TABLES}
    if not Path(path).exists():
        return content
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        runs = {}
        if "sync_runs" in tables:
            runs = {
                i: f"{c}/{p}"
                for i, c, p in conn.execute("SELECT id, command, provider FROM sync_runs")
            }
        for table in CONTENT_TABLES:
            if table not in tables:
                continue
            cursor = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            for row in cursor:
                content[table][
                    tuple(
                        (
                            name,
                            runs.get(value, value)
                            if name in RUN_COLUMNS
                            else (value is not None)
                            if name in CLOCK_COLUMNS
                            else value,
                        )
                        for name, value in zip(names, row, strict=True)
                        if name != "id"
                    )
                ] += 1
    finally:
        conn.close()
    return content


def content_difference(actual: dict, expected: dict, limit: int = 3) -> str:
    """A short account of how two `content_of` results differ, for assertion messages."""
    lines = []
    for table in CONTENT_TABLES:
        extra = actual[table] - expected[table]
        lacking = expected[table] - actual[table]
        if extra or lacking:
            lines.append(
                f"{table}: {sum(extra.values())} unexpected rows, "
                f"{sum(lacking.values())} expected rows absent"
            )
            lines += [f"  + {dict(row)}" for row in list(extra)[:limit]]
            lines += [f"  - {dict(row)}" for row in list(lacking)[:limit]]
    return "\n".join(lines) or "identical"


@pytest.fixture
def make_read_only():
    """`make_read_only(path)` makes a file or folder unwritable even for root; undone afterwards.

    Tests run as root, which ignores permission bits, so root gets the immutable
    attribute (`chattr +i`, which binds root too); anyone else gets chmod.
    """
    import os
    import shutil
    import stat
    import subprocess

    undo = []

    def make(path):
        if os.geteuid() != 0:
            mode = stat.S_IMODE(path.stat().st_mode)
            path.chmod(mode & ~0o222)
            undo.append(lambda: path.chmod(mode))
            return
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a path read-only for root")
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(
                f"running as root and chattr +i failed ({done.stderr.strip()}): cannot "
                "make a path read-only for root"
            )
        undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))

    yield make
    for step in reversed(undo):
        step()


@pytest.fixture
def store(tmp_path):
    """A fresh lo-sync database, for tests of the sync layer."""
    from tests.factories import open_store

    opened = open_store(tmp_path / "lo-sync.db")
    yield opened
    opened.close()
