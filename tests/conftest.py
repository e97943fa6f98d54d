"""Fixtures shared across test modules. Keep each one small and clearly named; plain
helpers live in tests/helpers/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_reaches_the_processes_tests_start():
    """A shell starts a background job with SIGINT ignored, and an ignored signal stays
    ignored across exec: every lo-sync a test starts would then shrug off the Ctrl-C
    that tests send it. A handler here does not survive exec, so children start with
    the default, as they do under a terminal or CI."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture
def load_payload():
    """Read a saved provider API answer from tests/payloads/ as it came off the wire."""

    def load(name: str):
        return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
def assert_no_secrets():
    """`check(sim, *texts, extra=())`: fail naming the first secret or token found in any text
    (str or bytes: output, log files, database bytes)."""

    from tests.helpers.secrets import never_shown

    def check(sim, *texts, extra=()):
        for value in [*never_shown(sim), *extra]:
            for text in texts:
                haystack = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                assert value not in haystack, f"a secret or token leaked: {value[:6]}…"

    return check


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
    from tests.helpers.factories import open_store

    opened = open_store(tmp_path / "lo-sync.db")
    yield opened
    opened.close()


@pytest.fixture
def restore_logging():
    """In-process -vv runs install handlers on shared loggers; put them back afterwards."""
    import logging

    names = ("lo_sync", "urllib3", "tenacity")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in names}
    yield
    for name, (handlers, level) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).setLevel(level)
