"""Coursera: the provider contract, and its saved payloads mapped to the exact rows.

Units per the provider contract: durations in minutes, timestamps ISO-8601 UTC to
the second, percentages on 0-100.
"""

from __future__ import annotations

import re

import pytest

from lo_sync.providers import PROVIDERS, Notes, RecordError
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
    ("changes", "metadata_changes", "reason"),
    [
        pytest.param({"contentId": MISSING}, {}, "missing contentId", id="missing contentId"),
        pytest.param({"contentId": ""}, {}, "missing contentId", id="empty contentId"),
        pytest.param({"contentId": True}, {}, "contentId is bool", id="boolean contentId"),
        pytest.param({"name": MISSING}, {}, "missing name", id="missing name"),
        pytest.param({"name": None}, {}, "missing name", id="null name"),
        pytest.param({"name": 42}, {}, "name is int, not text", id="name not text"),
        pytest.param({"name": "   "}, {}, "name is empty", id="blank name"),
        pytest.param(
            {"name": "t" * 1001},
            {},
            "name is 1001 characters long (limit 1000)",
            id="name too long",
        ),
        pytest.param({"description": ["a"]}, {}, "description is list", id="description list"),
        pytest.param(
            {},
            {"estimatedLearningTime": "64800"},
            "estimatedLearningTime is not a number",
            id="learning time as text",
        ),
        pytest.param(
            {},
            {"estimatedLearningTime": -60},
            "estimatedLearningTime is not a number",
            id="negative learning time",
        ),
        pytest.param({}, {"skills": "Machine Learning"}, "skills is not a list", id="skills text"),
        pytest.param(
            {}, {"promoPhoto": {"url": "x"}}, "promoPhoto is dict", id="promoPhoto not text"
        ),
    ],
)
def test_coursera_course_record_breaking_the_contract_is_refused(
    load_payload, changes, metadata_changes, reason
):
    course = altered(_coursera_course_with_metadata(load_payload, **metadata_changes), **changes)

    with pytest.raises(RecordError, match=re.escape(reason)):
        course_row(course)


def test_coursera_course_record_that_is_not_an_object_is_refused():
    with pytest.raises(RecordError, match="record is not an object"):
        course_row(["contentId", "x"])


# --- Coursera learner statistics ----------------------------------------------------------------


def test_coursera_enrollment_reports_page_maps_to_exact_stat_rows(load_payload):
    page = load_payload("coursera_enrollment_reports.json")

    rows = [stat_row(record) for record in page["elements"]]

    assert rows == [
        {
            # Completed and graded.
            "course_external_id": "Gtv4Xb1-EeS-ViIACwYKVQ",
            "learner_email": "jane.doe@example.com",  # sent as Jane.Doe@Example.COM
            "learner_external_id": "EMP-00412",
            "learner_name": "Jane Doe",
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
            "learner_email": "omar.haddad@example.com",
            "learner_external_id": "EMP-00977",
            "learner_name": "Omar Haddad",
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
            "learner_email": "jane.doe@example.com",
            "learner_external_id": "EMP-00412",
            "learner_name": "Jane Doe",
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
    report = altered(
        load_payload("coursera_enrollment_reports.json")["elements"][1],
        email=MISSING,
        externalId="Ahmed.K@Example.org",
    )

    row = stat_row(report)

    assert (row["learner_email"], row["learner_external_id"]) == (
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
            {"email": MISSING, "externalId": "EMP-00977"},
            "missing email",
            id="no email, external id not an e-mail",
        ),
        pytest.param(
            {"email": MISSING, "externalId": MISSING},
            "missing email",
            id="no email, no external id",
        ),
        pytest.param(
            {"email": "   ", "externalId": "EMP-00977"}, "missing email", id="blank email"
        ),
        pytest.param({"email": 12}, "email is int, not text", id="email not text"),
        pytest.param(
            {"email": "jane.doe\u200b@example.com"},
            "email is not an e-mail address: it holds U+200B",
            id="zero-width space in email",
        ),
        pytest.param(
            {"email": "jane.doe@example"},
            "email is not an e-mail address (name@domain)",
            id="email without a domain",
        ),
        pytest.param(
            {"email": MISSING, "externalId": "Ahmed.K@Example.org\x00"},
            "externalId is not an e-mail address: it holds U+0000",
            id="external id fallback with a control character",
        ),
        pytest.param({"contentId": MISSING}, "missing contentId", id="missing contentId"),
        pytest.param(
            {"overallProgress": 100.5}, "overallProgress is outside 0-100", id="progress>100"
        ),
        pytest.param({"overallProgress": -1}, "overallProgress is outside 0-100", id="progress<0"),
        pytest.param(
            {"overallProgress": "42"}, "overallProgress is not a number", id="progress text"
        ),
        pytest.param(
            {"overallProgress": MISSING}, "overallProgress is not a number", id="no progress"
        ),
        pytest.param({"grade": 1.5}, "grade is not on 0-1", id="grade>1"),
        pytest.param({"grade": -0.1}, "grade is not on 0-1", id="grade<0"),
        pytest.param({"grade": 92}, "grade is not on 0-1", id="grade given as percent"),
        pytest.param({"grade": "0.9"}, "grade is not on 0-1", id="grade text"),
        pytest.param(
            {"isCompleted": "true"}, "isCompleted is not a boolean", id="isCompleted text"
        ),
        pytest.param({"isCompleted": 1}, "isCompleted is not a boolean", id="isCompleted int"),
        pytest.param({"isCompleted": MISSING}, "isCompleted is not a boolean", id="no isCompleted"),
        pytest.param(
            {"completedAt": "2024-03-01T10:00:00Z"},
            "completedAt is not epoch milliseconds",
            id="completedAt ISO text",
        ),
        pytest.param(
            {"enrolledAt": True}, "enrolledAt is not epoch milliseconds", id="enrolledAt bool"
        ),
        pytest.param(
            {"lastActivityAt": 10**20}, "lastActivityAt is out of range", id="lastActivityAt huge"
        ),
        pytest.param(
            {"approxTotalCourseHrs": -2},
            "approxTotalCourseHrs is not a number of hours",
            id="negative hours",
        ),
        pytest.param(
            {"approxTotalCourseHrs": "12.75"},
            "approxTotalCourseHrs is not a number of hours",
            id="hours text",
        ),
    ],
)
def test_coursera_stat_record_breaking_the_contract_is_refused(load_payload, changes, reason):
    report = altered(load_payload("coursera_enrollment_reports.json")["elements"][0], **changes)

    with pytest.raises(RecordError, match=re.escape(reason)):
        stat_row(report)
