"""Session progress from the rows sync-stats stores: a cohort member found by the
external id when the provider sent no e-mail, and only the company's people once
they are imported."""

from __future__ import annotations

from lo_sync import sync
from lo_sync.learners import import_learners
from lo_sync.session_progress import session_rows
from lo_sync.store.sessions import StoredSession
from tests.helpers.factories import oc_course, oc_progress, provider_config

OC = provider_config("openclassrooms")


def night(store, records):
    plan = sync.plan_catalog(store, OC, [[oc_course(1), oc_course(2)]])
    sync.apply_catalog(store, OC, plan, "2026-11-23T03:00:00Z")
    plan = sync.plan_stats(store, OC, [records])
    sync.apply_stats(store, OC, plan, "2026-11-23T03:20:00Z", False)


def add(store, name, cohort=()):
    courses = (("openclassrooms", "1"), ("openclassrooms", "2"))
    with store.transaction():
        store.sessions.replace(StoredSession(name, "G", None, None, courses, cohort), "x")


def test_a_cohort_member_is_found_by_external_id_when_the_provider_sent_no_email(store):
    night(
        store,
        [
            oc_progress(1, None, 100, userId="E1", timeSpent=60),
            oc_progress(2, "ada@x.io", 50, userId="E1", timeSpent=30),
        ],
    )
    import_learners(store, [{"email": "ada@x.io", "external_id": "E1", "name": "Ada"}], False)
    add(store, "S", cohort=("ada@x.io",))

    (row,) = session_rows(store, "S")

    assert (row["learner"], row["name"], row["completed"], row["courses"]) == (
        "ada@x.io", "Ada", 1, 2,
    )  # fmt: skip
    assert (row["progress_percent"], row["time_spent_minutes"]) == (75.0, 90.0)
    assert row["next_course"] == "2"


def test_without_a_cohort_only_the_companys_people_count_once_imported(store):
    night(
        store, [oc_progress(1, "ada@x.io", 40, userId=1), oc_progress(1, "gone@x.io", 40, userId=2)]
    )
    add(store, "S")
    assert [r["learner"] for r in session_rows(store, "S")] == ["ada@x.io", "gone@x.io"]

    import_learners(store, [{"email": "ada@x.io", "external_id": None, "name": None}], False)

    assert [r["learner"] for r in session_rows(store, "S")] == ["ada@x.io"]
