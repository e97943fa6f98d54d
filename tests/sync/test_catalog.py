"""sync-catalog: created / updated / unchanged, presence, change log, local data kept."""

from __future__ import annotations

import pytest

from lo_sync import sync, wording
from lo_sync.errors import DataError
from tests.helpers.factories import coursera_content, oc_course, provider_config, rows

OC = provider_config("openclassrooms")
COURSERA = provider_config("coursera")


def run_catalog(store, pcfg, pages):
    plan = sync.plan_catalog(store, pcfg, pages)
    run_id = sync.apply_catalog(store, pcfg, plan, "2026-11-23T03:00:00Z")
    return plan, run_id


def test_first_sync_creates_every_course_in_the_group_catalog_and_library(store):
    plan, run_id = run_catalog(store, OC, [[oc_course(1), oc_course(2)], [oc_course(3)]])

    assert plan.counts == {
        "fetched": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "missing": 0,
        "returned": 0,
        "rejected": 0,
    }
    assert rows(
        store,
        "SELECT external_id, title, duration_minutes, status, archived "
        "FROM courses ORDER BY external_id",
    ) == [
        ("1", "Cours 1 — Python", 121, "active", 0),
        ("2", "Cours 2 — Python", 122, "active", 0),
        ("3", "Cours 3 — Python", 123, "active", 0),
    ]
    assert rows(
        store,
        "SELECT group_name, external_id, in_catalog, in_library FROM group_courses "
        "ORDER BY external_id",
    ) == [("Sales Academy", "1", 1, 1), ("Sales Academy", "2", 1, 1), ("Sales Academy", "3", 1, 1)]
    assert rows(store, "SELECT command, provider, status, created FROM sync_runs") == [
        ("sync-catalog", "openclassrooms", "ok", 3)
    ]
    assert rows(
        store, "SELECT action, count(*) FROM course_changes WHERE run_id = ? GROUP BY 1", (run_id,)
    ) == [("created", 3)]


def test_a_second_identical_sync_changes_nothing_but_its_run_record(store):
    pages = [[coursera_content(1), coursera_content(2)]]
    run_catalog(store, COURSERA, pages)
    before = rows(store, "SELECT * FROM courses ORDER BY external_id")
    changes_before = rows(store, "SELECT count(*) FROM course_changes")

    plan, _ = run_catalog(store, COURSERA, pages)

    assert plan.counts["unchanged"] == 2 and plan.counts["created"] == plan.counts["updated"] == 0
    assert plan.changes == []
    assert rows(store, "SELECT * FROM courses ORDER BY external_id") == before
    assert rows(store, "SELECT count(*) FROM course_changes") == changes_before
    assert rows(store, "SELECT count(*) FROM sync_runs") == [(2,)]


def test_title_and_description_follow_the_provider_and_the_change_is_logged(store):
    run_catalog(store, OC, [[oc_course(1), oc_course(2)]])

    plan, run_id = run_catalog(store, OC, [[oc_course(1, title="Nouveau titre"), oc_course(2)]])

    assert plan.counts["updated"] == 1 and plan.counts["unchanged"] == 1
    assert plan.changes == [("update", "1", "title: Cours 1 — Python → Nouveau titre")]
    assert rows(store, "SELECT title FROM courses WHERE external_id = '1'") == [("Nouveau titre",)]
    assert rows(
        store,
        "SELECT action, field, old_value, new_value FROM course_changes WHERE run_id = ?",
        (run_id,),
    ) == [("updated", "title", "Cours 1 — Python", "Nouveau titre")]


def test_local_tags_and_library_choices_survive_every_sync(store):
    run_catalog(store, OC, [[oc_course(1)]])
    store.conn.execute("INSERT INTO course_tags VALUES ('openclassrooms', '1', 'onboarding')")
    store.conn.execute("UPDATE group_courses SET in_library = 0 WHERE external_id = '1'")

    run_catalog(store, OC, [[oc_course(1, title="Renamed")]])

    assert rows(store, "SELECT tag FROM course_tags") == [("onboarding",)]
    assert rows(store, "SELECT in_catalog, in_library FROM group_courses") == [(1, 0)]


def test_a_course_no_longer_returned_is_marked_missing_and_cleared_when_back(store):
    run_catalog(store, OC, [[oc_course(1), oc_course(2)]])

    plan, _ = run_catalog(store, OC, [[oc_course(1)]])
    assert plan.counts["missing"] == 1
    assert rows(store, "SELECT external_id FROM courses WHERE missing_since IS NOT NULL") == [
        ("2",)
    ]

    plan, _ = run_catalog(store, OC, [[oc_course(1), oc_course(2)]])
    assert plan.counts["returned"] == 1
    assert rows(store, "SELECT count(*) FROM courses WHERE missing_since IS NOT NULL") == [(0,)]


def test_the_same_course_on_two_pages_fails_the_fetch_and_writes_nothing(store):
    with pytest.raises(DataError, match="two pages"):
        sync.plan_catalog(store, OC, [[oc_course(1), oc_course(2)], [oc_course(2)]])
    assert rows(store, "SELECT count(*) FROM courses") == [(0,)]


def test_bad_records_are_set_aside_with_their_reason_and_raw_record(store):
    good = [oc_course(i) for i in range(1, 40)]
    bad = {"id": 99, "title": None, "status": "active"}

    plan, run_id = run_catalog(store, OC, [good + [bad]])

    assert plan.counts["rejected"] == 1 and plan.counts["created"] == 39
    reason, raw = rows(
        store, "SELECT reason, raw FROM rejected_records WHERE run_id = ?", (run_id,)
    )[0]
    assert reason == "title: missing" and '"id": 99' in raw


def test_too_many_bad_records_fail_the_whole_fetch(store):
    records = [oc_course(i) for i in range(1, 10)] + [{"id": "x"}, {"title": 3}]

    with pytest.raises(DataError, match="2 of 11 course records"):
        sync.plan_catalog(store, OC, [records])


def test_coursera_launch_link_is_the_program_content_url(store):
    run_catalog(store, COURSERA, [[coursera_content(7)]])
    assert rows(store, "SELECT url, duration_minutes, skills, content_type FROM courses") == [
        ("https://coursera.org/programs/p1/7", 120, '["Python"]', "Course")
    ]


def test_a_failure_while_applying_leaves_the_database_as_it_was(store, monkeypatch):
    run_catalog(store, OC, [[oc_course(1), oc_course(2)]])
    before = rows(store, "SELECT * FROM courses ORDER BY external_id")
    runs_before = rows(store, "SELECT * FROM sync_runs")
    plan = sync.plan_catalog(store, OC, [[oc_course(1, title="New"), oc_course(3)]])

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    # the last write of the transaction fails: every earlier one must roll back with it
    monkeypatch.setattr(type(store.runs), "insert_rejected", disk_full)
    with pytest.raises(OSError):
        sync.apply_catalog(store, OC, plan, "2026-11-23T03:00:00Z")

    assert rows(store, "SELECT * FROM courses ORDER BY external_id") == before
    assert rows(store, "SELECT * FROM sync_runs") == runs_before
    assert rows(store, "SELECT count(*) FROM group_courses") == [(2,)]


def test_a_course_whose_record_was_set_aside_is_still_listed_not_missing(store):
    courses = [oc_course(i) for i in range(1, 40)]
    run_catalog(store, OC, [courses])

    broken = {**oc_course(7), "title": None}
    plan, _ = run_catalog(store, OC, [courses[:6] + [broken] + courses[7:]])

    assert plan.counts["rejected"] == 1 and plan.counts["missing"] == 0
    assert rows(store, "SELECT title, missing_since FROM courses WHERE external_id = '7'") == [
        ("Cours 7 — Python", None)
    ]


def test_a_title_with_a_lone_surrogate_is_set_aside_not_a_crash(store):
    courses = [oc_course(i) for i in range(1, 40)] + [oc_course(99, title="bad \ud800 title")]

    plan, run_id = run_catalog(store, OC, [courses])

    assert plan.counts["rejected"] == 1 and plan.counts["created"] == 39
    assert rows(store, "SELECT reason FROM rejected_records") == [
        ("title: holds text that is not valid Unicode",)
    ]


def test_a_long_text_changed_past_its_start_shows_the_first_difference_in_context(store):
    intro = "Learn the foundations of machine learning with hands-on labs. "
    run_catalog(store, OC, [[oc_course(1, description=intro + "Taught in French.")]])

    plan, _ = run_catalog(store, OC, [[oc_course(1, description=intro + "Taught in English.")]])

    ((_, _, detail),) = plan.changes
    old, new = detail.removeprefix("description: ").split(" → ")
    assert "Taught in French." in old and "Taught in English." in new
    assert old.startswith("…") and new.startswith("…") and len(old) <= 60 and len(new) <= 60


def test_change_text_cuts_both_sides_at_the_same_place_and_keeps_short_values_whole():
    assert wording.change_text("a", None) == "a → ∅"
    old, new = wording.change_text(
        "x" * 100 + "OLD" + "y" * 100, "x" * 100 + "NEW" + "y" * 100
    ).split(" → ")
    assert old == "…" + "x" * 20 + "OLD" + "y" * 35 + "…"
    assert new == "…" + "x" * 20 + "NEW" + "y" * 35 + "…"
    start = wording.change_text("Intro. " + "z" * 80, "Intro! " + "z" * 80)
    assert start == "Intro. " + "z" * 52 + "… → Intro! " + "z" * 52 + "…"
