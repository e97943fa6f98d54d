"""Coursera: the provider contract, and its saved payloads mapped to the exact rows.

Units per the provider contract: durations in minutes, timestamps ISO-8601 UTC to
the second, percentages on 0-100.
"""

from __future__ import annotations

import pytest

from lo_sync.providers import NOT_READ, PROVIDERS, Notes, RecordError
from tests.helpers.factories import MISSING, altered
from tests.providers.contract import BASE_URL, ORG_ID, OffsetListing, ProviderContract, fetch

coursera = PROVIDERS["coursera"]


def course_row(record):
    return coursera.course_row(record, Notes())


def stat_row(record):
    return coursera.stat_row(record, Notes())


class TestCourseraContract(ProviderContract):
    provider = coursera
    courses_payload = "coursera_contents.json"
    stats_payload = "coursera_enrollment_reports.json"
    listing = OffsetListing
    course_required = frozenset({"contentId", "name"})
    stat_required = frozenset({"contentId", "email"})


# --- fetching -----------------------------------------------------------------------------------


def test_coursera_fetch_never_asks_more_than_the_contract_allows():
    _, listing = fetch(coursera, OffsetListing([]), "stats", page_size=5000)

    assert [request.url for request in listing.sent] == [
        f"{BASE_URL}/businesses.v1/{ORG_ID}/enrollmentReports?includeS12n=true&start=0&limit=1000"
    ]


def test_coursera_catalog_is_the_organization_contents():
    _, listing = fetch(coursera, OffsetListing([]), "courses", page_size=None)

    assert [request.url for request in listing.sent] == [
        f"{BASE_URL}/businesses.v1/{ORG_ID}/contents?start=0&limit=1000"
    ]


# --- Coursera catalog ---------------------------------------------------------------------------


def test_coursera_contents_page_maps_to_exact_course_rows(load_payload):
    page = load_payload("coursera_contents.json")

    rows = [course_row(record) for record in page["elements"]]

    assert rows == [
        {
            "external_id": "Gtv4Xb1-EeS-ViIACwYKVQ",
            "title": "Machine Learning Foundations: A Case Study Approach",
            "description": (
                "<p>Learn the <b>basics</b> of machine learning through case studies.</p>"
            ),
            # The first program's contentUrl wins over the public /learn/ page.
            "url": "https://www.coursera.org/programs/data-skills-2024/learn/ml-foundations",
            "image_url": "https://cdn.example.com/promo/Gtv4Xb1-EeS-ViIACwYKVQ.jpg",
            "language": "en",
            "duration_minutes": 1080,  # estimatedLearningTime 64800 s
            "status": None,
            "content_type": "Course",
            "skills": '["Machine Learning", "Régression linéaire"]',
            "level": "BEGINNER",
            "provider_updated_at": None,
            "parent_external_id": None,
        },
        {
            "external_id": "jhu-data-science-s12n",
            "title": "Data Science",
            "description": "Launch your career in data science.",
            "url": "https://www.coursera.org/specializations/jhu-data-science",
            "image_url": None,
            "language": "en",
            "duration_minutes": None,  # specializationMetadata carries no learning time
            "status": None,
            "content_type": "Specialization",
            "skills": "[]",
            "level": "MIXED",
            "provider_updated_at": None,
            "parent_external_id": None,
        },
        {
            "external_id": "b4E2sVWjEeiWqA6F6Gp6Xw",
            "title": "Introduction to Negotiation",
            "description": None,
            "url": "https://www.coursera.org/learn/negotiation",  # in no program yet
            "image_url": None,
            "language": "fr",
            "duration_minutes": 90,  # 5420 s = 90.3 min
            "status": None,
            "content_type": "Course",
            "skills": "[]",
            "level": "INTERMEDIATE",
            "provider_updated_at": None,
            "parent_external_id": None,
        },
        {
            "external_id": "w8xTm2lbEeu0yQ5x0MbXxA",
            "title": "Business Writing",
            "description": None,
            "url": None,  # neither a program nor a slug to build a link from
            "image_url": None,
            "language": None,
            "duration_minutes": None,
            "status": None,
            "content_type": "Course",
            "skills": "[]",
            "level": None,
            "provider_updated_at": None,
            "parent_external_id": None,
        },
    ]


def test_coursera_launch_url_skips_programs_without_content_url(load_payload):
    course = load_payload("coursera_contents.json")["elements"][0]
    course["programs"] = [
        {"programId": "no-url-yet"},
        {"programId": "second", "contentUrl": "https://www.coursera.org/programs/second/learn/x"},
    ]

    assert course_row(course)["url"] == "https://www.coursera.org/programs/second/learn/x"


def test_coursera_launch_url_falls_back_to_public_page_when_no_program_has_a_usable_link(
    load_payload,
):
    course = load_payload("coursera_contents.json")["elements"][0]
    course["programs"] = [{"programId": "p1", "contentUrl": {"href": "x"}}, {"programId": "p2"}]

    assert course_row(course)["url"] == "https://www.coursera.org/learn/ml-foundations"


def test_coursera_integer_content_id_becomes_text(load_payload):
    course = altered(load_payload("coursera_contents.json")["elements"][3], contentId=987654)

    assert course_row(course)["external_id"] == "987654"


def test_coursera_title_of_exactly_1000_characters_is_kept(load_payload):
    course = altered(load_payload("coursera_contents.json")["elements"][3], name="t" * 1000)

    assert course_row(course)["title"] == "t" * 1000


def _coursera_course_with_metadata(load_payload, **definition_changes) -> dict:
    course = load_payload("coursera_contents.json")["elements"][0]
    course["extraMetadata"]["definition"] = altered(
        course["extraMetadata"]["definition"], **definition_changes
    )
    return course


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"contentId": MISSING}, "contentId: missing", id="missing contentId"),
        pytest.param({"contentId": ""}, "contentId: empty", id="empty contentId"),
        pytest.param(
            {"contentId": True}, "contentId: is a boolean, not an id", id="boolean contentId"
        ),
        pytest.param(
            {"contentId": 1e20}, "contentId: is float, not an id", id="huge float contentId"
        ),
        pytest.param({"name": MISSING}, "name: missing", id="missing name"),
        pytest.param({"name": None}, "name: missing", id="null name"),
        pytest.param({"name": "   "}, "name: empty", id="blank name"),
        pytest.param({"name": ["a"]}, "name: is a list, not text", id="name a list"),
        pytest.param(
            {"name": "t" * 1001}, "name: is longer than 1000 characters", id="name too long"
        ),
    ],
)
def test_coursera_course_record_without_an_id_or_a_title_is_set_aside(
    load_payload, changes, reason
):
    course = altered(load_payload("coursera_contents.json")["elements"][0], **changes)

    with pytest.raises(RecordError) as caught:
        course_row(course)
    assert caught.value.reason == reason


def test_coursera_title_sent_as_a_number_is_its_text(load_payload):
    course = altered(load_payload("coursera_contents.json")["elements"][0], name=1984)

    assert course_row(course)["title"] == "1984"


@pytest.mark.parametrize(
    ("changes", "metadata_changes", "column", "note"),
    [
        pytest.param(
            {"description": ["a"]},
            {},
            "description",
            ("description", "is a list, not text"),
            id="description a list",
        ),
        pytest.param(
            {},
            {"estimatedLearningTime": -60},
            "duration_minutes",
            ("estimatedLearningTime", "is negative"),
            id="negative learning time",
        ),
        pytest.param(
            {},
            {"estimatedLearningTime": "P2M"},
            "duration_minutes",
            (
                "estimatedLearningTime",
                "is a calendar length (years, months or weeks), not a learning time",
            ),
            id="calendar learning time",
        ),
        pytest.param(
            {},
            {"promoPhoto": {"url": "x"}},
            "image_url",
            ("promoPhoto", "is an object, not text"),
            id="promoPhoto an object",
        ),
        pytest.param(
            {"lastUpdatedAt": 1709287200000},
            {},
            "provider_updated_at",
            ("lastUpdatedAt", "is out of range"),
            id="lastUpdatedAt in milliseconds, documented as seconds",
        ),
        pytest.param(
            {"languageCode": {"code": "en"}},
            {},
            "language",
            ("languageCode", "is an object, not text"),
            id="languageCode an object",
        ),
    ],
)
def test_coursera_course_value_that_cannot_be_read_is_stored_as_null_and_noted(
    load_payload, changes, metadata_changes, column, note
):
    course = altered(_coursera_course_with_metadata(load_payload, **metadata_changes), **changes)
    notes = Notes()

    row = coursera.course_row(course, notes)

    assert row[column] is None
    assert [(field, problem) for kind, field, problem, _ in notes if kind == NOT_READ] == [note]


def test_coursera_skills_that_are_not_a_list_are_noted_and_none_stored(load_payload):
    course = _coursera_course_with_metadata(load_payload, skills="Machine Learning")
    notes = Notes()

    assert coursera.course_row(course, notes)["skills"] == "[]"
    assert notes == [(NOT_READ, "skills", "is not a list", "Machine Learning")]


def test_coursera_programs_that_are_not_a_list_fall_back_to_the_public_page(load_payload):
    """A crash once: iterating an integer `programs`."""
    course = altered(load_payload("coursera_contents.json")["elements"][0], programs=5)
    notes = Notes()

    assert coursera.course_row(course, notes)["url"] == (
        "https://www.coursera.org/learn/ml-foundations"
    )
    assert notes == [(NOT_READ, "programs", "is not a list", 5)]


# --- Coursera learner statistics ----------------------------------------------------------------


def test_coursera_enrollment_reports_page_maps_to_exact_stat_rows(load_payload):
    page = load_payload("coursera_enrollment_reports.json")

    rows = [stat_row(record) for record in page["elements"]]

    assert rows == [
        {
            # Completed and graded.
            "course_external_id": "Gtv4Xb1-EeS-ViIACwYKVQ",
            "learner_key": "jane.doe@example.com",
            "learner_email": "jane.doe@example.com",  # sent as Jane.Doe@Example.COM
            "learner_external_id": "EMP-00412",
            "learner_name": "Jane Doe",
            "content_type": "Course",
            "progress_percent": 100.0,
            "completed": 1,
            "completed_at": "2024-03-01T10:00:00Z",  # 1709287200000 ms
            "score_percent": 92.35,  # grade 0.9235
            "time_spent_minutes": 765.0,  # 12.75 h
            "time_spent_theoretical": 0,
            "last_activity_at": "2024-03-01T10:00:00Z",
            "enrolled_at": "2023-11-14T08:30:00Z",  # 1699950600000 ms
            "program_id": "mN7p-qLJEeiqMw7TqWIbUw",
        },
        {
            # In progress, grade present but null: not graded yet.
            "course_external_id": "b4E2sVWjEeiWqA6F6Gp6Xw",
            "learner_key": "omar.haddad@example.com",
            "learner_email": "omar.haddad@example.com",
            "learner_external_id": "EMP-00977",
            "learner_name": "Omar Haddad",
            "content_type": "Course",
            "progress_percent": 42.5,
            "completed": 0,
            "completed_at": None,
            "score_percent": None,
            "time_spent_minutes": 72.0,  # 1.2 h
            "time_spent_theoretical": 0,
            "last_activity_at": "2024-02-27T17:45:12Z",  # 1709055912000 ms
            "enrolled_at": "2024-01-15T09:05:00Z",  # 1705309500000 ms
            "program_id": "zQ2k9bLJEeiqMw7TqWIbUw",
        },
        {
            # A specialization enrollment (includeS12n=true), grade absent, never started.
            "course_external_id": "jhu-data-science-s12n",
            "learner_key": "jane.doe@example.com",
            "learner_email": "jane.doe@example.com",
            "learner_external_id": "EMP-00412",
            "learner_name": "Jane Doe",
            "content_type": "Specialization",
            "progress_percent": 0.0,
            "completed": 0,
            "completed_at": None,
            "score_percent": None,
            "time_spent_minutes": 0.0,
            "time_spent_theoretical": 0,
            "last_activity_at": "2024-03-02T06:59:59Z",  # 1709362799000 ms
            "enrolled_at": "2024-03-02T06:59:59Z",
            "program_id": "mN7p-qLJEeiqMw7TqWIbUw",
        },
    ]


def test_coursera_learner_without_email_falls_back_to_email_shaped_external_id(load_payload):
    """Coursera's doc sample: no `email`, the e-mail in `externalId`."""
    report = altered(
        load_payload("coursera_enrollment_reports.json")["elements"][1],
        email=MISSING,
        externalId="Ahmed.K@Example.org",
    )

    row = stat_row(report)

    assert (row["learner_key"], row["learner_email"], row["learner_external_id"]) == (
        "ahmed.k@example.org",
        "ahmed.k@example.org",
        "Ahmed.K@Example.org",
    )


def test_coursera_grade_bounds_map_to_score_bounds(load_payload):
    report = load_payload("coursera_enrollment_reports.json")["elements"][0]

    scores = [stat_row(altered(report, grade=g))["score_percent"] for g in (0, 1)]

    assert scores == [0, 100]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {"email": MISSING, "externalId": MISSING},
            "learner: no e-mail and no externalId",
            id="no email, no external id",
        ),
        pytest.param(
            {"email": "   ", "externalId": None},
            "learner: no e-mail and no externalId",
            id="blank email, null external id",
        ),
        pytest.param(
            {"email": "jane.doe@example", "externalId": MISSING},
            "learner: no e-mail and no externalId",
            id="unreadable email, no external id",
        ),
        pytest.param({"contentId": MISSING}, "contentId: missing", id="missing contentId"),
        pytest.param(
            {"contentId": {"id": "x"}}, "contentId: is an object, not an id", id="object contentId"
        ),
    ],
)
def test_coursera_stat_record_without_a_learner_or_a_content_is_set_aside(
    load_payload, changes, reason
):
    report = altered(load_payload("coursera_enrollment_reports.json")["elements"][0], **changes)

    with pytest.raises(RecordError) as caught:
        stat_row(report)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("changes", "column", "note"),
    [
        pytest.param(
            {"email": 12},
            "learner_email",
            ("email", "is int, not an e-mail address"),
            id="email a number",
        ),
        pytest.param(
            {"email": "jane.doe\u200b@example.com"},
            "learner_email",
            ("email", "is not an e-mail address: it holds U+200B"),
            id="zero-width space in email",
        ),
        pytest.param(
            {"email": "jane.doe@example"},
            "learner_email",
            ("email", "is not an e-mail address (name@domain)"),
            id="email without a domain",
        ),
        pytest.param(
            {"overallProgress": 100.5},
            "progress_percent",
            ("overallProgress", "is outside 0-100"),
            id="progress>100",
        ),
        pytest.param(
            {"overallProgress": -1},
            "progress_percent",
            ("overallProgress", "is outside 0-100"),
            id="progress<0",
        ),
        pytest.param(
            {"overallProgress": "n/a"},
            "progress_percent",
            ("overallProgress", "is not a number"),
            id="progress not a number",
        ),
        pytest.param({"grade": 1.5}, "score_percent", ("grade", "is outside 0-1"), id="grade>1"),
        pytest.param({"grade": -0.1}, "score_percent", ("grade", "is outside 0-1"), id="grade<0"),
        pytest.param(
            {"grade": 92},
            "score_percent",
            ("grade", "is outside 0-1"),
            id="grade as a percent is not guessed",
        ),
        pytest.param(
            {"enrolledAt": True},
            "enrolled_at",
            ("enrolledAt", "is a boolean, not a timestamp"),
            id="enrolledAt a boolean",
        ),
        pytest.param(
            {"enrolledAt": 10**400},
            "enrolled_at",
            ("enrolledAt", "is out of range"),
            id="enrolledAt a huge integer (overflowed a float once)",
        ),
        pytest.param(
            {"lastActivityAt": 10**20},
            "last_activity_at",
            ("lastActivityAt", "is out of range"),
            id="lastActivityAt huge",
        ),
        pytest.param(
            {"approxTotalCourseHrs": -2},
            "time_spent_minutes",
            ("approxTotalCourseHrs", "is negative"),
            id="negative hours",
        ),
        pytest.param(
            {"approxTotalCourseHrs": 10**400},
            "time_spent_minutes",
            ("approxTotalCourseHrs", "is longer than 100,000,000 minutes"),
            id="huge hours (overflowed a float once)",
        ),
        pytest.param(
            {"programId": [1]},
            "program_id",
            ("programId", "is a list, not an id"),
            id="programId a list",
        ),
    ],
)
def test_coursera_stat_value_that_cannot_be_read_is_stored_as_null_and_noted(
    load_payload, changes, column, note
):
    report = altered(load_payload("coursera_enrollment_reports.json")["elements"][0], **changes)
    notes = Notes()

    row = coursera.stat_row(report, notes)

    assert row[column] is None
    assert [(field, problem) for kind, field, problem, _ in notes if kind == NOT_READ] == [note]


def test_coursera_unreadable_email_keys_the_learner_by_external_id(load_payload):
    report = altered(
        load_payload("coursera_enrollment_reports.json")["elements"][0], email="jane.doe@example"
    )

    row = stat_row(report)

    assert (row["learner_key"], row["learner_email"]) == ("EMP-00412", None)


def test_coursera_membership_state_that_is_not_text_is_noted_not_a_crash(load_payload):
    """A crash once: an unhashable membershipState in the enum check."""
    report = altered(
        load_payload("coursera_enrollment_reports.json")["elements"][0], membershipState=["M"]
    )
    notes = Notes()

    coursera.stat_row(report, notes)

    assert notes == [(NOT_READ, "membershipState", "is a list, not text", ["M"])]
