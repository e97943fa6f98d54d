"""The store's sessions domain: migration m006, whole replacement, and which sessions
are still running on a day."""

from __future__ import annotations

import sqlite_utils

from lo_sync.store import Store
from lo_sync.store.schema import migrations
from lo_sync.store.sessions import StoredSession
from tests.helpers.factories import rows

TABLES = {"program_sessions", "session_courses", "session_learners"}


def test_a_new_database_has_the_session_tables(store):
    applied = {r[0] for r in rows(store, "SELECT name FROM _sqlite_migrations")}

    assert "m006_program_sessions" in applied
    assert TABLES <= set(store.db.table_names())
    assert store.sessions.all() == {}


def test_a_database_from_before_sessions_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m006_program_sessions")
    old.execute(
        "INSERT INTO courses (provider, external_id, title, first_seen_at, last_seen_at, "
        "updated_at) VALUES ('coursera', 'c1', 'T', 'x', 'x', 'x')"
    )
    old.conn.commit()
    assert not TABLES & set(old.table_names())
    old.close()

    store = Store.open(path)

    assert TABLES <= set(store.db.table_names())
    assert rows(store, "SELECT external_id FROM courses") == [("c1",)]
    store.close()


def session(name="S", courses=(("coursera", "a"), ("openclassrooms", "1")), **kw):
    values = {"group": "G", "start": None, "end": None, "cohort": (), **kw}
    return StoredSession(name, values["group"], values["start"], values["end"], courses,
                         values["cohort"])  # fmt: skip


def test_replace_makes_the_given_session_the_whole_truth_about_its_name(store):
    with store.transaction():
        store.sessions.replace(session(cohort=("a@x.io", "b@x.io")), "2026-01-01T00:00:00Z")
        store.sessions.replace(session("Other"), "2026-01-01T00:00:00Z")
    with store.transaction():
        store.sessions.replace(
            session(courses=(("openclassrooms", "1"),), cohort=("c@x.io",), end="2026-02-01"),
            "2026-01-02T00:00:00Z",
        )

    assert store.sessions.get("S") == session(
        courses=(("openclassrooms", "1"),), cohort=("c@x.io",), end="2026-02-01"
    )
    assert store.sessions.get("Other") == session("Other")
    assert rows(store, "SELECT created_at, updated_at FROM program_sessions WHERE name = 'S'") == [
        ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
    ]


def test_holding_names_the_open_and_upcoming_sessions_never_the_closed(store):
    courses = (("openclassrooms", "1"), ("openclassrooms", "2"))
    with store.transaction():
        for name, start, end in (
            ("Closed", "2026-01-01", "2026-02-28"),
            ("Ends today", "2026-01-01", "2026-03-01"),
            ("Starts today", "2026-03-01", None),
            ("Upcoming", "2026-03-02", "2026-04-01"),
            ("Undated", None, None),
        ):
            store.sessions.replace(session(name, courses, start=start, end=end), "x")
        store.sessions.replace(session("Elsewhere", (("coursera", "1"),)), "x")

    found = store.sessions.holding("openclassrooms", ["1", "3"], "2026-03-01")

    assert found == [
        ("1", "Ends today", "open"),
        ("1", "Starts today", "open"),
        ("1", "Undated", "open"),
        ("1", "Upcoming", "upcoming"),
    ]
