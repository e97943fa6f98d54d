"""sync-stats: one row per learner and content, matching, regressions kept, history,
the volume check."""

from __future__ import annotations

import pytest

from lo_sync import sync, wording
from lo_sync.learners import import_learners
from tests.helpers.factories import (
    coursera_enrollment,
    oc_course,
    oc_progress,
    provider_config,
    rows,
)

OC = provider_config("openclassrooms")
COURSERA = provider_config("coursera")


def stats(store, pcfg, records, **options):
    plan = sync.plan_stats(store, pcfg, [records], **options)
    if plan.refusal:
        raise plan.refusal
    run_id = sync.apply_stats(
        store, pcfg, plan, "2026-11-23T03:20:00Z", options.get("accept_regressions", False)
    )
    return plan, run_id


def progress(store, columns="course_external_id, learner_email, progress_percent, completed"):
    return rows(store, f"SELECT {columns} FROM progress ORDER BY 1, 2")


def test_coursera_row_carries_every_statistic_in_our_units(store):
    stats(
        store,
        COURSERA,
        [
            coursera_enrollment(
                1,
                "Ada@Example.com",
                progress=100,
                completed=True,
                grade=0.875,
                completedAt=1_763_900_000_000,
                lastActivityAt=1_763_900_123_456,
                approxTotalCourseHrs=2.25,
                externalId="emp-1",
            )
        ],
    )

    assert progress(
        store,
        "course_external_id, learner_email, learner_external_id, "
        "progress_percent, completed, completed_at, score_percent, "
        "time_spent_minutes, time_spent_theoretical, last_activity_at",
    ) == [
        (
            "c-1",
            "ada@example.com",
            "emp-1",
            100.0,
            1,
            "2025-11-23T12:13:20Z",
            87.5,
            135.0,
            0,
            "2025-11-23T12:15:23Z",
        )
    ]


def test_the_same_learner_and_content_under_two_programs_keeps_one_row(store):
    in_progress = coursera_enrollment(1, "a@x.io", progress=90, programId="p1")
    done = coursera_enrollment(1, "A@X.io", progress=60, completed=True, programId="p2")
    ahead = coursera_enrollment(
        2, "a@x.io", progress=70, programId="p1", lastActivityAt=1_700_000_000_000
    )
    later = coursera_enrollment(
        2, "a@x.io", progress=70, programId="p2", lastActivityAt=1_800_000_000_000
    )

    plan, _ = stats(store, COURSERA, [in_progress, done, ahead, later])

    assert plan.counts["created"] == 2
    # completed first (even with less progress), then highest progress, then latest activity
    assert progress(store, "course_external_id, progress_percent, completed, program_id") == [
        ("c-1", 60.0, 1, "p2"),
        ("c-2", 70.0, 0, "p2"),
    ]


def test_openclassrooms_time_spent_is_theoretical_and_computed_when_absent(store):
    catalog = sync.plan_catalog(store, OC, [[oc_course(5)]])  # duration 125 minutes
    sync.apply_catalog(store, OC, catalog, "2026-11-23T03:00:00Z")

    stats(
        store,
        OC,
        [
            oc_progress(5, "sent@x.io", progress=40, timeSpent=50),
            oc_progress(5, "absent@x.io", progress=40, timeSpent=None),
            oc_progress(
                5,
                "done@x.io",
                progress=100,
                status="in-progress",
                completedAt="2026-11-20T10:00:00Z",
            ),
        ],
    )

    assert progress(
        store, "learner_email, time_spent_minutes, time_spent_theoretical, completed"
    ) == [("absent@x.io", 50.0, 1, 0), ("done@x.io", 48.0, 1, 1), ("sent@x.io", 50.0, 1, 0)]


def test_a_completion_reported_as_undone_is_kept_and_recorded_as_a_regression(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=100, completed=True)])

    plan, run_id = stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)])

    assert plan.counts["regressions"] == 1
    assert progress(store, "progress_percent, completed, completed_at, regression") == [
        (100.0, 1, "2025-11-01T12:26:40Z", 1)
    ]
    history = rows(
        store,
        "SELECT field, old_value, new_value, regression FROM progress_history "
        "WHERE run_id = ? ORDER BY field",
        (run_id,),
    )
    assert ("completed", "1", "0", 1) in history and (
        "progress_percent",
        "100.0",
        "30.0",
        1,
    ) in history


def test_a_kept_regression_is_counted_once_not_every_night(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=100, completed=True)])
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)])

    plan, _ = stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)])

    assert plan.counts["regressions"] == 0 and plan.counts["updated"] == 0


def test_a_regressed_row_flags_only_the_fields_kept_out_and_applies_the_rest(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=100, completed=True)])

    _, run_id = stats(
        store,
        COURSERA,
        [
            coursera_enrollment(
                1, "a@x.io", progress=30, grade=0.8, approxTotalCourseHrs=3,
                lastActivityAt=1_763_000_000_000,
            )
        ],
    )  # fmt: skip

    assert progress(
        store, "progress_percent, completed, score_percent, time_spent_minutes, last_activity_at"
    ) == [(100.0, 1, 80.0, 180.0, "2025-11-13T02:13:20Z")]
    history = dict(
        rows(
            store,
            "SELECT field, regression FROM progress_history WHERE run_id = ?",
            (run_id,),
        )
    )
    assert history == {
        "completed": 1,
        "completed_at": 1,
        "progress_percent": 1,
        "score_percent": 0,
        "time_spent_minutes": 0,
        "last_activity_at": 0,
        "regression": 0,
    }


def test_an_accepted_regression_flags_only_the_lowered_fields(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=60)])

    _, run_id = stats(
        store,
        COURSERA,
        [coursera_enrollment(1, "a@x.io", progress=40, grade=0.5)],
        accept_regressions=True,
    )

    assert rows(
        store,
        "SELECT field, regression FROM progress_history WHERE run_id = ? ORDER BY field",
        (run_id,),
    ) == [("progress_percent", 2), ("score_percent", 0)]


def test_accept_regressions_takes_the_providers_values(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=100, completed=True)])

    plan, _ = stats(
        store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)], accept_regressions=True
    )

    assert plan.counts["regressions"] == 1
    assert progress(store, "progress_percent, completed, completed_at, regression") == [
        (30.0, 0, None, 0)
    ]


def test_every_change_is_recorded_with_old_and_new_values_and_its_run(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=20)])

    _, run_id = stats(
        store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=65, approxTotalCourseHrs=3)]
    )

    assert rows(
        store,
        "SELECT run_id, field, old_value, new_value, regression "
        "FROM progress_history ORDER BY field",
    ) == [
        (run_id, "progress_percent", "20.0", "65.0", 0),
        (run_id, "time_spent_minutes", "90.0", "180.0", 0),
    ]


def test_a_learner_missing_from_the_report_keeps_their_row(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io"), coursera_enrollment(1, "b@x.io")])

    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io")])

    assert [r[1] for r in progress(store)] == ["a@x.io", "b@x.io"]


def test_matching_by_email_any_case_then_external_id_and_ambiguity_reported(store):
    import_learners(
        store,
        [
            {"email": "ada@x.io", "external_id": "E1", "name": "Ada"},
            {"email": "bob@x.io", "external_id": "E2", "name": "Bob"},
            {"email": "cy@x.io", "external_id": "E3", "name": "Cy"},
            {"email": "dee@x.io", "external_id": "E3", "name": "Dee"},
        ],
        dry_run=False,
    )
    records = [
        coursera_enrollment(1, "ADA@x.io"),  # e-mail, any case
        coursera_enrollment(1, "bob.personal@x.io", externalId="E2"),  # external id fallback
        coursera_enrollment(1, "stranger@x.io"),  # unknown
        coursera_enrollment(1, "who@x.io", externalId="E3"),  # two learners hold E3
    ]

    plan, _ = stats(store, COURSERA, records)

    assert plan.counts["unmatched"] == 1
    assert "stranger@x.io" in " ".join(plan.notes)
    assert any("more than one learner" in n and "who@x.io" in n for n in plan.notes)
    assert plan.counts["created"] == 4  # stored whether matched or not


def test_an_email_that_is_not_one_is_not_read_and_the_row_is_keyed_by_the_learner_id(store):
    good = [oc_progress(1, f"learner{n}@x.io", userId=n) for n in range(30)]
    # Zero-width space: it would look like learner0's key and match no one.
    spoof = oc_progress(1, "learner0\u200b@x.io", userId=777)

    plan, run_id = stats(store, OC, [*good, spoof])

    assert plan.counts["rejected"] == 0 and plan.counts["not_read"] == 1
    assert any(
        "stored without the value: email: is not an e-mail address: it holds U+200B" in note
        for note in plan.notes
    )
    assert rows(
        store, "SELECT learner_key, learner_email FROM progress WHERE learner_key = '777'"
    ) == [("777", None)]
    assert rows(store, "SELECT count(*) FROM progress WHERE learner_email LIKE 'learner0%'") == [
        (1,)
    ]


def test_a_row_with_no_learner_at_all_is_set_aside_naming_why(store):
    good = [oc_progress(1, f"learner{n}@x.io", userId=n) for n in range(30)]
    nobody = {**oc_progress(1, "", userId=None)}

    plan, run_id = stats(store, OC, [*good, nobody])

    assert plan.counts["rejected"] == 1
    assert rows(store, "SELECT reason FROM rejected_records WHERE run_id = ?", (run_id,)) == [
        ("learner: no e-mail and no userId",)
    ]


def test_statistics_for_courses_not_yet_in_the_catalog_are_stored_and_listed(store):
    plan, _ = stats(store, OC, [oc_progress(77, "a@x.io")])
    assert any("not in the catalog yet" in n and "77" in n for n in plan.notes)
    assert len(progress(store)) == 1


def test_a_report_shrunk_by_more_than_half_is_refused_unless_forced(store):
    stats(store, COURSERA, [coursera_enrollment(i, "a@x.io") for i in range(10)])

    with pytest.raises(sync.SafetyAbort, match="4 statistics rows against 10"):
        stats(store, COURSERA, [coursera_enrollment(i, "a@x.io", progress=90) for i in range(4)])
    assert {r[2] for r in progress(store)} == {50.0}

    stats(
        store,
        COURSERA,
        [coursera_enrollment(i, "a@x.io", progress=90) for i in range(4)],
        force=True,
    )
    assert sorted(r[2] for r in progress(store)) == [50.0] * 6 + [90.0] * 4


def test_merge_never_lowers_completion_without_consent():
    stored = {
        "completed": 1,
        "completed_at": "T1",
        "progress_percent": 100.0,
        "regression": 0,
        **{
            f: None
            for f in (
                "learner_external_id",
                "learner_name",
                "score_percent",
                "time_spent_minutes",
                "time_spent_theoretical",
                "last_activity_at",
                "enrolled_at",
                "program_id",
            )
        },
        "course_external_id": "c",
        "learner_key": "a@x.io",
        "learner_email": "a@x.io",
        "content_type": "Course",
    }
    fetched = {**stored, "completed": 0, "completed_at": None, "progress_percent": 10.0}
    fetched.pop("regression")

    merged, _, kind, _ = sync.merge_progress(stored, fetched, accept_regressions=False)

    assert (merged["completed"], merged["completed_at"], merged["progress_percent"], kind) == (
        1,
        "T1",
        100.0,
        1,
    )


def test_the_report_counts_only_the_company_s_learners_once_they_are_imported(store):
    from lo_sync.report import statistics_rows

    stats(
        store,
        COURSERA,
        [
            coursera_enrollment(1, "ada@x.io", progress=100, completed=True),
            coursera_enrollment(1, "left.company@x.io", progress=20),
        ],
    )
    everyone = statistics_rows(store, (), None)
    assert (everyone[0]["learners_started"], everyone[0]["learners_completed"]) == (2, 1)

    import_learners(
        store, [{"email": "ada@x.io", "external_id": None, "name": "Ada"}], dry_run=False
    )

    company = statistics_rows(store, (), None)
    assert (company[0]["learners_started"], company[0]["average_progress_percent"]) == (1, 100.0)
    assert [r["learner_email"] for r in statistics_rows(store, ("coursera",), "c-1")] == [
        "ada@x.io"
    ]


def test_learners_started_leaves_out_enrollments_never_opened(store):
    from lo_sync.report import statistics_rows

    stats(
        store,
        COURSERA,
        [
            coursera_enrollment(1, "opened@x.io", progress=5),
            coursera_enrollment(1, "never@x.io", progress=0),
            coursera_enrollment(1, "done@x.io", progress=100, completed=True),
            # completed with a progress the provider left at 0 still counts
            coursera_enrollment(1, "odd@x.io", progress=0, completed=True),
        ],
    )

    (row,) = statistics_rows(store, (), None)
    assert (row["learners_started"], row["learners_completed"]) == (3, 2)


# --- reruns: only what changed is staged and compared ------------------------------------------


def staged(store):
    return rows(store, "SELECT course_external_id, learner_key FROM temp.stage_progress")


def test_a_rerun_stages_and_compares_only_the_rows_that_changed(store):
    night = [coursera_enrollment(i, "a@x.io", progress=10 * i) for i in range(1, 5)]
    stats(store, COURSERA, night)

    night[2] = coursera_enrollment(3, "a@x.io", progress=95)
    plan, _ = stats(store, COURSERA, night)

    assert staged(store) == [("c-3", "a@x.io")]
    assert {k: plan.counts[k] for k in ("fetched", "created", "updated", "unchanged")} == {
        "fetched": 4,
        "created": 0,
        "updated": 1,
        "unchanged": 3,
    }
    assert sorted(r[2] for r in progress(store)) == [10.0, 20.0, 40.0, 95.0]


def test_an_unchanged_best_row_still_outranks_a_changed_row_of_another_program(store):
    done = coursera_enrollment(1, "a@x.io", progress=60, completed=True, programId="p2")
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=80, programId="p1"), done])

    plan, _ = stats(
        store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=90, programId="p1"), done]
    )

    assert progress(store, "progress_percent, completed, program_id") == [(60.0, 1, "p2")]
    assert (plan.counts["fetched"], plan.counts["updated"], plan.counts["unchanged"]) == (1, 0, 1)


def test_a_changed_row_of_another_program_that_now_ranks_first_replaces_the_stored_one(store):
    done = coursera_enrollment(1, "a@x.io", progress=60, completed=True, programId="p2")
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=80, programId="p1"), done])

    finished = coursera_enrollment(1, "a@x.io", progress=100, completed=True, programId="p1")
    plan, _ = stats(store, COURSERA, [done, finished])

    assert progress(store, "progress_percent, completed, program_id") == [(100.0, 1, "p1")]
    assert (plan.counts["fetched"], plan.counts["updated"]) == (1, 1)


def test_a_kept_regression_is_compared_every_night_so_it_can_still_be_accepted(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=100, completed=True)])
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)])
    assert rows(store, "SELECT regression, row_hash FROM progress") == [(1, None)]

    plan, _ = stats(
        store, COURSERA, [coursera_enrollment(1, "a@x.io", progress=30)], accept_regressions=True
    )

    assert plan.counts["updated"] == 1
    assert progress(store, "progress_percent, completed, regression") == [(30.0, 0, 0)]
    assert rows(store, "SELECT row_hash IS NOT NULL FROM progress") == [(1,)]


def test_unmatched_learners_are_still_reported_on_a_night_with_no_change(store):
    import_learners(
        store, [{"email": "ada@x.io", "external_id": None, "name": "Ada"}], dry_run=False
    )
    night = [coursera_enrollment(1, "ada@x.io"), coursera_enrollment(1, "stranger@x.io")]
    stats(store, COURSERA, night)

    plan, _ = stats(store, COURSERA, night)

    assert staged(store) == []
    assert plan.counts["unmatched"] == 1
    assert "stranger@x.io" in " ".join(plan.notes)


def test_rows_stored_before_fingerprints_get_theirs_silently_then_are_passed_over(tmp_path):
    from lo_sync.store import Store

    path = tmp_path / "old.db"
    old = Store.open(path)
    night = [coursera_enrollment(i, "a@x.io") for i in range(3)]
    stats(old, COURSERA, night)
    # Back to the schema before fingerprints, as an older lo-sync left it.
    old.conn.execute("ALTER TABLE progress DROP COLUMN row_hash")
    old.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_progress_row_hash'")
    old.close()

    upgraded = Store.open(path)
    try:
        assert rows(upgraded, "SELECT count(*) FROM progress WHERE row_hash IS NULL") == [(3,)]
        plan, _ = stats(upgraded, COURSERA, night)
        assert (plan.counts["updated"], plan.counts["unchanged"]) == (0, 3)
        assert rows(upgraded, "SELECT count(*) FROM progress_history") == [(0,)]
        assert rows(upgraded, "SELECT count(*) FROM progress WHERE row_hash IS NULL") == [(0,)]

        plan, _ = stats(upgraded, COURSERA, night)
        assert staged(upgraded) == []
        assert plan.counts["unchanged"] == 3
    finally:
        upgraded.close()


def test_a_field_lo_sync_does_not_store_changing_updates_nothing_but_the_fingerprint(store):
    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io")])
    before = rows(store, "SELECT row_hash FROM progress")

    renamed = coursera_enrollment(1, "a@x.io", contentName="Course 1, renamed")
    plan, _ = stats(store, COURSERA, [renamed])

    assert (plan.counts["updated"], plan.counts["unchanged"]) == (0, 1)
    assert rows(store, "SELECT row_hash FROM progress") != before
    plan, _ = stats(store, COURSERA, [renamed])
    assert staged(store) == []


def test_courses_not_in_the_catalog_are_counted_over_stored_and_new_rows(store):
    catalog = sync.plan_catalog(store, OC, [[oc_course(5)]])
    sync.apply_catalog(store, OC, catalog, "2026-11-23T03:00:00Z")
    stats(store, OC, [oc_progress(c, f"{c}@x.io") for c in (5, 77, 78)])

    plan, _ = stats(store, OC, [oc_progress(5, "5@x.io"), oc_progress(79, "a@x.io")])

    assert plan.counts["not_in_catalog"] == 3
    assert any("77, 78, 79" in n for n in plan.notes)


def test_courses_missing_right_after_a_catalog_sync_are_not_sent_back_to_run_it(store):
    catalog = sync.plan_catalog(store, OC, [[oc_course(1)]])
    run_id = sync.apply_catalog(store, OC, catalog, "2026-11-23T03:00:00Z")

    plan, _ = stats(store, OC, [oc_progress(1, "a@x.io"), oc_progress(77, "a@x.io")])

    (note,) = [n for n in plan.notes if "77" in n]
    assert note == (
        f"1 course with statistics is not in the openclassrooms catalog (its latest "
        f"sync-catalog, run {run_id}, did not list it): 77"
    )


def test_notes_count_in_the_singular_and_plural():
    assert (wording.plural(1, "course"), wording.plural(1234, "row")) == ("1 course", "1,234 rows")


def test_a_course_id_nobody_knows_is_an_error_not_an_empty_report(store):
    from lo_sync.errors import InputError
    from lo_sync.report import statistics_rows

    stats(store, COURSERA, [coursera_enrollment(1, "a@x.io")])

    assert [r["learner_email"] for r in statistics_rows(store, (), "c-1")] == ["a@x.io"]
    with pytest.raises(InputError, match="no course 'NOSUCHID' at any provider"):
        statistics_rows(store, (), "NOSUCHID")
    with pytest.raises(InputError, match="no course 'c-1' at openclassrooms"):
        statistics_rows(store, ("openclassrooms",), "c-1")
