"""archive: status and disappearance rules, restore, the mass-archive guard,
complete fetches only."""

from __future__ import annotations

import pytest

from lo_sync import sync
from lo_sync.errors import InputError, SafetyAbort
from tests.helpers.factories import coursera_content, oc_course, provider_config, rows

OC = provider_config("openclassrooms")
COURSERA = provider_config("coursera")


def catalog(store, pcfg, records):
    plan = sync.plan_catalog(store, pcfg, [records])
    sync.apply_catalog(store, pcfg, plan, "2026-11-23T03:00:00Z")


def archive(store, pcfg, **options):
    plan = sync.plan_archive(store, pcfg, **options)
    if plan.refusal:
        raise plan.refusal
    sync.apply_archive(store, pcfg, plan, "2026-11-23T03:10:00Z")
    return plan


def archived(store):
    return rows(
        store,
        "SELECT external_id, archive_reason FROM courses WHERE archived = 1 ORDER BY external_id",
    )


def test_openclassrooms_courses_outside_the_offered_statuses_are_archived(store):
    statuses = ["active", "coming-soon", "pre-registration", "archived", "closed", "draft"]
    catalog(
        store,
        OC,
        [oc_course(i, status=s) for i, s in enumerate(statuses, start=1)]
        + [oc_course(i) for i in range(10, 40)],
    )

    plan = archive(store, OC)

    assert plan.counts == {"archived": 3, "restored": 0}
    assert archived(store) == [
        ("4", "status archived"),
        ("5", "status closed"),
        ("6", "status draft"),
    ]


def test_a_course_the_provider_stopped_returning_is_archived_and_restored_when_back(store):
    courses = [coursera_content(i) for i in range(1, 21)]
    catalog(store, COURSERA, courses)
    catalog(store, COURSERA, courses[1:])

    archive(store, COURSERA)
    assert archived(store) == [("c-1", "missing from provider")]

    catalog(store, COURSERA, courses)
    plan = archive(store, COURSERA)
    assert plan.counts == {"archived": 0, "restored": 1}
    assert archived(store) == []
    assert rows(
        store,
        "SELECT action FROM course_changes WHERE external_id = 'c-1' "
        "AND action IN ('archived', 'restored') ORDER BY id",
    ) == [("archived",), ("restored",)]


def test_a_status_back_to_active_restores_the_course(store):
    base = [oc_course(i) for i in range(2, 30)]
    catalog(store, OC, [oc_course(1, status="closed")] + base)
    archive(store, OC)
    catalog(store, OC, [oc_course(1, status="active")] + base)

    plan = archive(store, OC)

    assert plan.counts["restored"] == 1 and archived(store) == []


def test_archiving_more_than_ten_percent_is_refused_and_changes_nothing(store):
    courses = [oc_course(i) for i in range(1, 21)]
    catalog(store, OC, courses)
    catalog(store, OC, courses[:17])  # 3 of 20 gone: 15%

    with pytest.raises(SafetyAbort, match=r"would archive 3 of 20 .*--max-archive 3 or --force"):
        archive(store, OC)
    assert archived(store) == []


@pytest.mark.parametrize("options", [{"max_archive": "3"}, {"max_archive": "15%"}, {"force": True}])
def test_the_archive_limit_can_be_raised_or_lifted(store, options):
    courses = [oc_course(i) for i in range(1, 21)]
    catalog(store, OC, courses)
    catalog(store, OC, courses[:17])

    archive(store, OC, **options)

    assert len(archived(store)) == 3


def test_a_lower_explicit_limit_refuses_sooner(store):
    courses = [oc_course(i) for i in range(1, 101)]
    catalog(store, OC, courses)
    catalog(store, OC, courses[:98])
    with pytest.raises(SafetyAbort):
        archive(store, OC, max_archive="1")


def test_archive_refuses_when_no_catalog_sync_ever_ran(store):
    with pytest.raises(SafetyAbort, match="no catalog sync has run yet"):
        sync.plan_archive(store, OC)


def test_archive_refuses_after_a_failed_catalog_sync(store):
    catalog(store, OC, [oc_course(1, status="closed")] + [oc_course(i) for i in range(2, 30)])
    store.runs.record_failed(
        "sync-catalog",
        "openclassrooms",
        "2026-11-23T03:00:00Z",
        "failed",
        "openclassrooms: HTTP 503",
    )

    with pytest.raises(SafetyAbort, match="did not complete"):
        sync.plan_archive(store, OC)
    assert archived(store) == []


@pytest.mark.parametrize("text", ["ten", "-1", "5.5", "%"])
def test_a_malformed_max_archive_is_a_usage_error(text):
    with pytest.raises(InputError):
        sync.parse_max_archive(text)


def test_courses_never_offered_do_not_count_against_the_limit(store):
    # First night: a quarter of the catalog arrives already closed.
    catalog(
        store,
        OC,
        [oc_course(i, status="closed") for i in range(1, 6)] + [oc_course(i) for i in range(6, 21)],
    )

    plan = archive(store, OC)

    assert plan.counts["archived"] == 5


def test_a_course_that_was_offered_then_closed_counts_against_the_limit(store):
    courses = [oc_course(i) for i in range(1, 21)]
    catalog(store, OC, courses)
    catalog(store, OC, [oc_course(i, status="closed") for i in range(1, 4)] + courses[3:])

    with pytest.raises(SafetyAbort, match="would archive 3 of 20"):
        archive(store, OC)
