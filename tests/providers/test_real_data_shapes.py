"""Each tolerance rule of provider-apis.md ("What real data looks like"), with the
real shape that motivates it: read by meaning, stored as NULL and noted, or noted
as new, and the record still stored."""

from __future__ import annotations

import pytest

from lo_sync.providers import NEW_VALUE, NOT_READ, PROVIDERS, Notes, RecordError
from tests.helpers.factories import (
    MISSING,
    altered,
    coursera_content,
    coursera_enrollment,
    oc_course,
    oc_progress,
)

coursera = PROVIDERS["coursera"]
openclassrooms = PROVIDERS["openclassrooms"]


def mapped(mapper, record):
    notes = Notes()
    return mapper(record, notes), notes


# --- Coursera reports ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["overallProgress", "lastActivityAt", "approxTotalCourseHrs"])
@pytest.mark.parametrize("absent", [None, MISSING], ids=["null", "absent"])
def test_coursera_optional_nullable_report_fields_are_null_without_a_note(field, absent):
    """Two schema transcriptions type them optional and nullable (not-started learners)."""
    row, notes = mapped(
        coursera.stat_row, altered(coursera_enrollment(1, "a@x.co"), **{field: absent})
    )

    column = {"overallProgress": "progress_percent", "lastActivityAt": "last_activity_at",
              "approxTotalCourseHrs": "time_spent_minutes"}[field]  # fmt: skip
    assert row[column] is None and notes == []


def test_coursera_grade_as_a_string_is_read():
    """One schema transcription types grade as a string ("0.977")."""
    row, notes = mapped(coursera.stat_row, coursera_enrollment(1, "a@x.co", grade="0.977"))
    assert (row["score_percent"], notes) == (97.7, [])


def test_coursera_row_without_email_takes_it_from_external_id():
    """Coursera's doc sample: email empty, the e-mail in externalId (its documented fallback)."""
    row, _ = mapped(coursera.stat_row, coursera_enrollment(1, None, externalId="Ada@Example.com"))
    assert (row["learner_key"], row["learner_email"]) == ("ada@example.com", "ada@example.com")


def test_coursera_external_id_as_a_number_keys_a_learner_without_email():
    """Another doc sample: externalId 413861904646, a number; no e-mail: keyed by it."""
    row, notes = mapped(coursera.stat_row, coursera_enrollment(1, None, externalId=413861904646))
    assert (row["learner_key"], row["learner_email"], row["learner_external_id"]) == (
        "413861904646", None, "413861904646",
    )  # fmt: skip
    assert notes == []


def test_coursera_row_with_neither_email_nor_external_id_is_set_aside():
    with pytest.raises(RecordError) as caught:
        coursera.stat_row(coursera_enrollment(1, None, externalId=None), Notes())
    assert caught.value.reason == "learner: no e-mail and no externalId"


def test_coursera_course_tilde_id_is_the_same_course_in_reports_catalog_and_course_id():
    """A production client sees one course spelled both Course~<id> and <id>."""
    content = coursera_content(7, contentId="Course~abc")
    assert (
        coursera.stat_row(coursera_enrollment(1, "a@x.co", contentId="Course~abc"), Notes())[
            "course_external_id"
        ]
        == "abc"
    )
    assert coursera.course_row(content, Notes())["external_id"] == "abc"
    assert coursera.course_id(content) == "abc"


def test_coursera_program_collection_id_is_kept_under_its_own_kind():
    """Report rows keyed by <programId>~<collectionId> (a production client)."""
    row, notes = mapped(coursera.stat_row, coursera_enrollment(1, "a@x.co", contentId="p1~col9"))
    assert (row["course_external_id"], row["content_type"], notes) == (
        "p1~col9",
        "ProgramCollection",
        [],
    )


def test_coursera_learning_path_rows_are_learning_paths():
    row, notes = mapped(
        coursera.stat_row,
        coursera_enrollment(1, "a@x.co", contentId="lp-1", contentType="LearningPath"),
    )
    assert (row["course_external_id"], row["content_type"], notes) == ("lp-1", "LearningPath", [])
    assert "LearningPath" in coursera.non_catalog_types


def test_coursera_video_rows_carry_approx_total_learning_hours():
    record = altered(
        coursera_enrollment(1, "a@x.co", contentType="Video"), approxTotalCourseHrs=MISSING
    )
    row, _ = mapped(coursera.stat_row, {**record, "approxTotalLearningHours": 0.5})
    assert (row["time_spent_minutes"], row["content_type"]) == (30.0, "Video")


def test_coursera_legacy_last_activity_is_read_and_last_activity_at_wins():
    both = coursera_enrollment(
        1, "a@x.co", lastActivityAt=1709287200000, lastActivity=1600000000000
    )
    legacy = altered(both, lastActivityAt=MISSING)
    assert coursera.stat_row(both, Notes())["last_activity_at"] == "2024-03-01T10:00:00Z"
    assert coursera.stat_row(legacy, Notes())["last_activity_at"] == "2020-09-13T12:26:40Z"


def test_coursera_iso_timestamps_in_a_report_are_read():
    """One client's fixtures spell the report's timestamps as ISO-8601 strings."""
    row, notes = mapped(
        coursera.stat_row, coursera_enrollment(1, "a@x.co", completedAt="2024-03-01T10:00:00Z")
    )
    assert (row["completed_at"], notes) == ("2024-03-01T10:00:00Z", [])


@pytest.mark.parametrize(
    ("changes", "completed"),
    [
        ({"isCompleted": "true"}, 1),
        ({"isCompleted": MISSING, "completedAt": 1709287200000}, 1),
        ({"isCompleted": MISSING, "overallProgress": 100}, 1),
        ({"isCompleted": MISSING}, 0),
    ],
)
def test_coursera_is_completed_as_text_or_missing_is_read_or_derived(changes, completed):
    record = altered(coursera_enrollment(1, "a@x.co", progress=40), **changes)
    assert coursera.stat_row(record, Notes())["completed"] == completed


def test_coursera_progress_0_75_stays_0_75():
    assert (
        coursera.stat_row(coursera_enrollment(1, "a@x.co", progress=0.75), Notes())[
            "progress_percent"
        ]
        == 0.75
    )


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"contentType": "Podcast"}, "contentType", "Podcast"),
        ({"membershipState": "GUEST"}, "membershipState", "GUEST"),
    ],
)
def test_coursera_unknown_report_enum_values_are_noted_and_the_row_stored(changes, field, value):
    row, notes = mapped(coursera.stat_row, coursera_enrollment(1, "a@x.co", **changes))
    assert row["learner_key"] == "a@x.co"
    assert (NEW_VALUE, field, value, value) in notes


# --- Coursera contents --------------------------------------------------------------------------


def test_coursera_video_clip_reads_clip_metadata():
    """clipMetadata (doc transcription): seconds, skillTags, parent, promoPhoto, lesson URL."""
    clip = {
        "contentId": "clip-1", "contentType": "Video", "name": "What is a gradient?",
        "extraMetadata": {"typeName": "clipMetadata", "definition": {
            "parentCourseId": "Course~ml-101", "parentLessonName": "Gradients",
            "parentLessonObjectUrl": "https://www.coursera.org/learn/ml/lecture/x1",
            "estimatedLearningTime": 330, "skillTags": ["Calculus", {"name": "Optimisation"}],
            "promoPhoto": "https://img.example/clip.jpg",
        }},
    }  # fmt: skip
    row, notes = mapped(coursera.course_row, clip)
    assert notes == []
    assert (row["content_type"], row["duration_minutes"], row["skills"]) == (
        "Video",
        6,
        '["Calculus", "Optimisation"]',
    )
    assert (row["parent_external_id"], row["image_url"]) == (
        "ml-101",
        "https://img.example/clip.jpg",
    )
    assert row["url"] == "https://www.coursera.org/learn/ml/lecture/x1"
    programs = {
        **clip,
        "programs": [{"programId": "p", "contentUrl": "https://www.coursera.org/programs/p/x"}],
    }
    assert coursera.course_row(programs, Notes())["url"] == "https://www.coursera.org/programs/p/x"


def test_coursera_specialization_reads_specialization_metadata():
    """specializationMetadata {courseIds, promoPhoto, tagline}: tagline when no description."""
    s12n = {
        "contentId": "s-1", "contentType": "Specialization", "name": "Data Science", "slug": "ds",
        "extraMetadata": {"typeName": "specializationMetadata", "definition": {
            "courseIds": ["a", "b"], "promoPhoto": "https://img.example/s.jpg",
            "tagline": "Learn data",
        }},
    }  # fmt: skip
    row, notes = mapped(coursera.course_row, s12n)
    assert (row["description"], row["image_url"], notes) == (
        "Learn data",
        "https://img.example/s.jpg",
        [],
    )
    assert row["url"] == "https://www.coursera.org/specializations/ds"


def test_coursera_contents_last_updated_at_is_epoch_seconds():
    row, _ = mapped(coursera.course_row, coursera_content(1, lastUpdatedAt=1709287200))
    assert row["provider_updated_at"] == "2024-03-01T10:00:00Z"


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"contentType": "Podcast"}, "contentType", "Podcast"),
        ({"difficultyLevel": "EXPERT"}, "difficultyLevel", "EXPERT"),
    ],
)
def test_coursera_unknown_catalog_enum_values_are_noted_and_the_course_stored(
    changes, field, value
):
    row, notes = mapped(coursera.course_row, coursera_content(1, **changes))
    assert row["external_id"] == "c-1"
    assert (NEW_VALUE, field, value, value) in notes


# --- OpenClassrooms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "stored"), [("PT20H", 1200), ("PT1H30M", 90), ("P1DT2H", 1560)]
)
def test_openclassrooms_iso_8601_durations_are_read(duration, stored):
    """The public content API spells durations as ISO-8601 (PT20H)."""
    row, notes = mapped(openclassrooms.course_row, oc_course(1, duration=duration))
    assert (row["duration_minutes"], notes) == (stored, [])


def test_openclassrooms_p12m_is_a_calendar_length_and_not_read():
    row, notes = mapped(openclassrooms.course_row, oc_course(1, duration="P12M"))
    assert row["duration_minutes"] is None
    assert [n[:2] for n in notes] == [(NOT_READ, "duration")]


def test_openclassrooms_illustration_and_openclassrooms_url_are_the_image_and_page():
    """The public content API's names for the image and the course page."""
    record = altered(oc_course(1), image=MISSING, url=MISSING)
    row, _ = mapped(openclassrooms.course_row, {**record, "illustration": "https://i/1.png",
                                                "OpenClassroomsUrl": "https://oc/1"})  # fmt: skip
    assert (row["image_url"], row["url"]) == ("https://i/1.png", "https://oc/1")


def test_openclassrooms_ids_progress_and_time_spent_as_strings_are_read():
    record = oc_progress(
        1, "a@x.co", courseId="4425126", progress="35", timeSpent="126", userId="7"
    )
    row, notes = mapped(openclassrooms.stat_row, record)
    assert (row["course_external_id"], row["progress_percent"], row["time_spent_minutes"]) == (
        "4425126",
        35.0,
        126,
    )
    assert (row["learner_external_id"], notes) == ("7", [])


def test_openclassrooms_learner_without_email_is_keyed_by_user_id():
    row, notes = mapped(
        openclassrooms.stat_row, altered(oc_progress(1, "x@y.co", userId=310042), email=MISSING)
    )
    assert (row["learner_key"], row["learner_email"], notes) == ("310042", None, [])


def test_openclassrooms_a_number_in_iso_only_updated_at_is_not_read():
    row, notes = mapped(openclassrooms.course_row, oc_course(1, updatedAt=1709055912))
    assert row["provider_updated_at"] is None
    assert [n[:2] for n in notes] == [(NOT_READ, "updatedAt")]


def test_openclassrooms_huge_float_id_is_refused():
    """4.5e20 is not the integer that was sent: no id, no course."""
    with pytest.raises(RecordError, match="^id: is float, not an id"):
        openclassrooms.course_row(oc_course(1, id=4.5e20), Notes())


def test_openclassrooms_unknown_status_beta_is_noted_and_the_course_stored():
    row, notes = mapped(openclassrooms.course_row, oc_course(1, status="beta"))
    assert row["status"] == "beta" and "beta" not in openclassrooms.active_statuses
    assert notes == [(NEW_VALUE, "status", "beta", "beta")]
