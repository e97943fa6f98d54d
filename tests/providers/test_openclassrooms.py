"""OpenClassrooms: the provider contract, and its saved payloads mapped to the exact rows.

Units per the provider contract: durations in minutes, timestamps ISO-8601 UTC to
the second, percentages on 0-100.
"""

from __future__ import annotations

import re

import pytest

from lo_sync.providers import PROVIDERS, Notes, RecordError
from tests.helpers.factories import MISSING, altered
from tests.providers.contract import BASE_URL, ORG_ID, ProviderContract, RangeListing, fetch

openclassrooms = PROVIDERS["openclassrooms"]


def course_row(record):
    return openclassrooms.course_row(record, Notes())


def stat_row(record):
    return openclassrooms.stat_row(record, Notes())


class TestOpenClassroomsContract(ProviderContract):
    provider = openclassrooms
    courses_payload = "openclassrooms_courses.json"
    stats_payload = "openclassrooms_progress.json"
    listing = RangeListing


# --- fetching -----------------------------------------------------------------------------------


def test_openclassrooms_fetch_pages_the_organization_courses():
    pages, listing = fetch(openclassrooms, RangeListing([{"id": 1}]), "courses", page_size=None)

    assert pages == [[{"id": 1}]]
    assert listing.paths == [f"{BASE_URL}/organizations/{ORG_ID}/courses"]
    assert [request.headers["Range"] for request in listing.sent] == ["items=0-999"]


def test_openclassrooms_statistics_are_the_organization_learners_progress():
    _, listing = fetch(openclassrooms, RangeListing([]), "stats", page_size=None)

    assert listing.paths == [f"{BASE_URL}/organizations/{ORG_ID}/learners/progress"]


def test_openclassrooms_asks_for_the_configured_page_size_even_above_max_page_size():
    # The server caps each slice itself, and the fetch follows what it sent.
    _, listing = fetch(openclassrooms, RangeListing([{"id": 1}]), "courses", page_size=5000)

    assert [request.headers["Range"] for request in listing.sent] == ["items=0-4999"]


# --- OpenClassrooms catalog ---------------------------------------------------------------------


def test_openclassrooms_courses_map_to_exact_course_rows(load_payload):
    courses = load_payload("openclassrooms_courses.json")

    rows = [course_row(record) for record in courses]

    assert rows == [
        {
            "external_id": "4425126",
            "title": "Apprenez à programmer en Python",
            "description": "<p>Découvrez les bases de <em>Python</em>.</p>",
            "url": "https://openclassrooms.com/fr/courses/4425126-apprenez-a-programmer-en-python",
            "image_url": "https://static.oc-static.com/courses/4425126.jpg",
            "language": "fr",
            "duration_minutes": 720,  # OpenClassrooms sends minutes already
            "status": "active",
            "content_type": "Course",
            "skills": "[]",
            "level": "easy",
            "provider_updated_at": "2024-02-27T17:45:12Z",
        },
        {
            "external_id": "7137751",
            "title": "Manage a Project with Agile Methods",
            "description": "Scrum, Kanban and the agile mindset.",
            "url": "https://openclassrooms.com/en/courses/7137751-manage-a-project-with-agile-methods",
            "image_url": None,  # image: null
            "language": "en",
            "duration_minutes": 360,
            "status": "coming-soon",
            "content_type": "Course",
            "skills": "[]",
            "level": "medium",
            "provider_updated_at": "2024-03-01T10:00:00Z",  # sent as 12:00:00+02:00
        },
        {
            "external_id": "1946386",
            "title": "Concevez votre site web avec PHP et MySQL",
            "description": None,
            "url": "https://openclassrooms.com/fr/courses/1946386-concevez-votre-site-web-avec-php-et-mysql",
            "image_url": None,  # image key absent
            "language": "fr",
            "duration_minutes": 1200,
            "status": "archived",
            "content_type": "Course",
            "skills": "[]",
            "level": "hard",
            "provider_updated_at": "2023-11-14T08:30:00Z",  # fraction of a second dropped
        },
        {
            "external_id": "6900101",
            "title": "Initiez-vous au marketing digital",
            "description": None,
            "url": None,
            "image_url": None,
            "language": "fr",
            "duration_minutes": None,
            "status": "closed",
            "content_type": "Course",
            "skills": "[]",
            "level": "easy",
            "provider_updated_at": None,
        },
    ]


def test_openclassrooms_only_active_coming_soon_and_pre_registration_keep_a_course(load_payload):
    statuses = [course_row(r)["status"] for r in load_payload("openclassrooms_courses.json")]

    offered = [status in openclassrooms.active_statuses for status in statuses]

    assert offered == [True, True, False, False]
    assert "pre-registration" in openclassrooms.active_statuses


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"id": MISSING}, "missing id", id="missing id"),
        pytest.param({"id": True}, "id is not an id", id="boolean id"),
        pytest.param({"id": " "}, "id is not an id", id="blank id"),
        pytest.param({"title": MISSING}, "missing title", id="missing title"),
        pytest.param({"title": None}, "missing title", id="null title"),
        pytest.param({"title": 4425126}, "title is int, not text", id="title not text"),
        pytest.param(
            {"title": "é" * 1001}, "title is 1001 characters long (limit 1000)", id="title too long"
        ),
        pytest.param({"status": MISSING}, "missing status", id="missing status"),
        pytest.param({"duration": -5}, "duration is not minutes", id="negative duration"),
        pytest.param({"duration": "720"}, "duration is not minutes", id="duration text"),
        pytest.param(
            {"updatedAt": "last tuesday"},
            "updatedAt is not an ISO-8601 timestamp",
            id="updatedAt not a date",
        ),
        pytest.param(
            {"updatedAt": 1709055912}, "updatedAt is not an ISO-8601 string", id="updatedAt epoch"
        ),
    ],
)
def test_openclassrooms_course_record_breaking_the_contract_is_refused(
    load_payload, changes, reason
):
    course = altered(load_payload("openclassrooms_courses.json")[0], **changes)

    with pytest.raises(RecordError, match=re.escape(reason)):
        course_row(course)


# --- OpenClassrooms learner statistics ----------------------------------------------------------


def test_openclassrooms_progress_maps_to_exact_stat_rows(load_payload):
    progress = load_payload("openclassrooms_progress.json")

    rows = [stat_row(record) for record in progress]

    assert rows == [
        {
            "course_external_id": "4425126",
            "learner_email": "claire.martin@example.fr",  # sent as Claire.Martin@Example.fr
            "learner_external_id": "310042",
            "learner_name": None,
            "progress_percent": 100.0,
            "completed": 1,
            "completed_at": "2024-03-01T10:00:00Z",
            "score_percent": None,  # OpenClassrooms sends no grade
            "time_spent_minutes": 720.0,  # timeSpent is minutes, kept as sent
            "time_spent_theoretical": 1,  # duration x progress, not measured time
            "last_activity_at": "2024-03-01T10:00:00Z",
            "enrolled_at": "2023-11-14T08:30:00Z",  # startedAt
            "program_id": None,
        },
        {
            "course_external_id": "7137751",
            "learner_email": "paul.nguyen@example.fr",
            "learner_external_id": "310043",
            "learner_name": None,
            "progress_percent": 35.0,
            "completed": 0,
            "completed_at": None,
            "score_percent": None,
            "time_spent_minutes": 126.0,
            "time_spent_theoretical": 1,
            "last_activity_at": "2024-02-27T17:45:12Z",  # sent as 18:45:12+01:00
            "enrolled_at": "2024-01-15T09:05:00Z",
            "program_id": None,
        },
        {
            # timeSpent absent: left NULL here, computed from the course's duration by the store.
            "course_external_id": "4425126",
            "learner_email": "ines.benali@example.fr",
            "learner_external_id": "310044",
            "learner_name": None,
            "progress_percent": 60.0,
            "completed": 0,
            "completed_at": None,
            "score_percent": None,
            "time_spent_minutes": None,
            "time_spent_theoretical": 1,
            "last_activity_at": "2024-02-27T17:45:12Z",
            "enrolled_at": "2024-01-15T09:05:00Z",
            "program_id": None,
        },
        {
            # progress 100 means completed even while status still says in-progress.
            "course_external_id": "1946386",
            "learner_email": "hugo.leroy@example.fr",
            "learner_external_id": "310045",
            "learner_name": None,
            "progress_percent": 100.0,
            "completed": 1,
            "completed_at": "2024-03-02T06:59:59Z",
            "score_percent": None,
            "time_spent_minutes": 1200.0,
            "time_spent_theoretical": 1,
            "last_activity_at": "2024-03-02T06:59:59Z",
            "enrolled_at": "2023-11-14T08:30:00Z",
            "program_id": None,
        },
    ]


def test_openclassrooms_status_completed_counts_whatever_the_progress(load_payload):
    record = altered(load_payload("openclassrooms_progress.json")[0], progress=98)

    assert stat_row(record)["completed"] == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"email": MISSING}, "missing email", id="missing email"),
        pytest.param({"email": ""}, "email is empty", id="empty email"),
        pytest.param(
            {"email": "claire.martin@exa\u202emple.fr"},
            "email is not an e-mail address: it holds U+202E",
            id="bidirectional override in email",
        ),
        pytest.param(
            {"email": "claire martin@example.fr"},
            "email is not an e-mail address: it holds U+0020",
            id="space inside email",
        ),
        pytest.param(
            {"email": '=HYPERLINK("http://x")'},
            "email is not an e-mail address (name@domain)",
            id="email not an address",
        ),
        pytest.param({"courseId": MISSING}, "missing courseId", id="missing courseId"),
        pytest.param({"progress": 101}, "progress is outside 0-100", id="progress>100"),
        pytest.param({"progress": -1}, "progress is outside 0-100", id="progress<0"),
        pytest.param({"progress": None}, "progress is not a number", id="null progress"),
        pytest.param({"progress": "100"}, "progress is not a number", id="progress text"),
        pytest.param({"timeSpent": -1}, "timeSpent is not minutes", id="negative timeSpent"),
        pytest.param({"timeSpent": "720"}, "timeSpent is not minutes", id="timeSpent text"),
        pytest.param(
            {"completedAt": "01/03/2024"},
            "completedAt is not an ISO-8601 timestamp",
            id="completedAt not ISO",
        ),
        pytest.param(
            {"startedAt": 1699950600000},
            "startedAt is not an ISO-8601 string",
            id="startedAt epoch ms",
        ),
    ],
)
def test_openclassrooms_stat_record_breaking_the_contract_is_refused(load_payload, changes, reason):
    record = altered(load_payload("openclassrooms_progress.json")[0], **changes)

    with pytest.raises(RecordError, match=re.escape(reason)):
        stat_row(record)
