"""Reading a dashboard test's database and the CLI's own answers about it."""

from __future__ import annotations

import json
import sqlite3

from tests.dashboard.page import Page
from tests.helpers.e2e import run_cli

# A provider title that would run as script if the page did not escape it.
HOSTILE = '<script>alert(1)</script> & "quotes" <img src=x onerror=alert(2)>'
PROVIDER_NAMES = {"coursera": "Coursera", "openclassrooms": "OpenClassrooms"}


def query(config, sql, params=()):
    with sqlite3.connect(f"file:{config.parent / 'lo-sync.db'}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def stats_json(config) -> list[dict]:
    done = run_cli(config, "stats", "--format", "json")
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def write_report(config, path) -> Page:
    done = run_cli(config, "report", "--html", str(path))
    assert done.code == 0, done.stderr
    assert done.stderr == ""
    return Page(path.read_text(encoding="utf-8"))
