"""OpenClassrooms: the provider contract, and its saved payloads mapped to the exact rows.

Units per the provider contract: durations in minutes, timestamps ISO-8601 UTC to
the second, percentages on 0-100.
"""

from __future__ import annotations

import pytest

from lo_sync.providers import NOT_READ, PROVIDERS, Notes, RecordError
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
    course_required = frozenset({"id", "title", "status"})
    stat_required = frozenset({"courseId", "email"})


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
            "parent_external_id": None,
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
            "parent_external_id": None,
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
            "parent_external_id": None,
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
            "parent_external_id": None,
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
        pytest.param({"id": MISSING}, "id: missing", id="missing id"),
        pytest.param({"id": True}, "id: is a boolean, not an id", id="boolean id"),
        pytest.param({"id": " "}, "id: empty", id="blank id"),
        pytest.param({"id": 4.5e20}, "id: is float, not an id", id="huge float id"),
        pytest.param({"title": MISSING}, "title: missing", id="missing title"),
        pytest.param({"title": None}, "title: missing", id="null title"),
        pytest.param({"title": {"fr": "x"}}, "title: is an object, not text", id="title object"),
        pytest.param(
            {"title": "é" * 1001}, "title: is longer than 1000 characters", id="title too long"
        ),
        pytest.param({"status": MISSING}, "status: missing", id="missing status"),
    ],
)
def test_openclassrooms_course_without_id_title_or_status_is_set_aside(
    load_payload, changes, reason
):
    """Without its status lo-sync cannot tell whether a course is still offered."""
    course = altered(load_payload("openclassrooms_courses.json")[0], **changes)

    with pytest.raises(RecordError) as caught:
        course_row(course)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("changes", "column", "note"),
    [
        pytest.param(
            {"duration": -5},
            "duration_minutes",
            ("duration", "is negative"),
            id="negative duration",
        ),
        pytest.param(
            {"duration": "P12M"},
            "duration_minutes",
            ("duration", "is a calendar length (years, months or weeks), not a learning time"),
            id="P12M is a calendar length, not read",
        ),
        pytest.param(
            {"updatedAt": "last tuesday"},
            "provider_updated_at",
            ("updatedAt", "is not an ISO-8601 timestamp"),
            id="updatedAt not a date",
        ),
        pytest.param(
            {"updatedAt": 1709055912},
            "provider_updated_at",
            ("updatedAt", "is a number, and this field is ISO-8601 (seconds or milliseconds?)"),
            id="a number in the ISO-only updatedAt is not read",
        ),
        pytest.param(
            {"updatedAt": "0001-01-01T00:00:00+01:00"},
            "provider_updated_at",
            ("updatedAt", "is out of range"),
            id="year 1 with an offset (overflowed once)",
        ),
    ],
)
def test_openclassrooms_course_value_that_cannot_be_read_is_stored_as_null_and_noted(
    load_payload, changes, column, note
):
    course = altered(load_payload("openclassrooms_courses.json")[0], **changes)
    notes = Notes()

    row = openclassrooms.course_row(course, notes)

    assert row[column] is None
    assert [(field, problem) for kind, field, problem, _ in notes if kind == NOT_READ] == [note]


# --- OpenClassrooms learner statistics ----------------------------------------------------------


def test_openclassrooms_progress_maps_to_exact_stat_rows(load_payload):
    progress = load_payload("openclassrooms_progress.json")

    rows = [stat_row(record) for record in progress]

    assert rows == [
        {
            "course_external_id": "4425126",
            "learner_key": "claire.martin@example.fr",
            "learner_email": "claire.martin@example.fr",  # sent as Claire.Martin@Example.fr
            "learner_external_id": "310042",
            "learner_name": None,
            "content_type": "Course",
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
            "learner_key": "paul.nguyen@example.fr",
            "learner_email": "paul.nguyen@example.fr",
            "learner_external_id": "310043",
            "learner_name": None,
            "content_type": "Course",
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
            "learner_key": "ines.benali@example.fr",
            "learner_email": "ines.benali@example.fr",
            "learner_external_id": "310044",
            "learner_name": None,
            "content_type": "Course",
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
            "learner_key": "hugo.leroy@example.fr",
            "learner_email": "hugo.leroy@example.fr",
            "learner_external_id": "310045",
            "learner_name": None,
            "content_type": "Course",
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
        pytest.param(
            {"email": MISSING, "userId": MISSING},
            "learner: no e-mail and no userId",
            id="no email, no userId",
        ),
        pytest.param(
            {"email": "", "userId": None}, "learner: no e-mail and no userId", id="both empty"
        ),
        pytest.param(
            {"email": '=HYPERLINK("http://x")', "userId": MISSING},
            "learner: no e-mail and no userId",
            id="email not an address, no userId",
        ),
        pytest.param({"courseId": MISSING}, "courseId: missing", id="missing courseId"),
    ],
)
def test_openclassrooms_stat_without_a_learner_or_a_course_is_set_aside(
    load_payload, changes, reason
):
    record = altered(load_payload("openclassrooms_progress.json")[0], **changes)

    with pytest.raises(RecordError) as caught:
        stat_row(record)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("changes", "column", "note"),
    [
        pytest.param(
            {"email": "claire.martin@exa\u202emple.fr"},
            "learner_email",
            ("email", "is not an e-mail address: it holds U+202E"),
            id="bidirectional override in email",
        ),
        pytest.param(
            {"email": "claire martin@example.fr"},
            "learner_email",
            ("email", "is not an e-mail address: it holds U+0020"),
            id="space inside email",
        ),
        pytest.param(
            {"progress": 101},
            "progress_percent",
            ("progress", "is outside 0-100"),
            id="progress>100",
        ),
        pytest.param(
            {"progress": -1}, "progress_percent", ("progress", "is outside 0-100"), id="progress<0"
        ),
        pytest.param(
            {"timeSpent": -1},
            "time_spent_minutes",
            ("timeSpent", "is negative"),
            id="negative timeSpent",
        ),
        pytest.param(
            {"completedAt": "01/03/2024"},
            "completed_at",
            ("completedAt", "is not an ISO-8601 timestamp"),
            id="completedAt not ISO",
        ),
        pytest.param(
            {"startedAt": 1699950600000},
            "enrolled_at",
            ("startedAt", "is a number, and this field is ISO-8601 (seconds or milliseconds?)"),
            id="startedAt epoch ms is not guessed",
        ),
    ],
)
def test_openclassrooms_stat_value_that_cannot_be_read_is_stored_as_null_and_noted(
    load_payload, changes, column, note
):
    record = altered(load_payload("openclassrooms_progress.json")[0], **changes)
    notes = Notes()

    row = openclassrooms.stat_row(record, notes)

    assert row[column] is None
    assert [(field, problem) for kind, field, problem, _ in notes if kind == NOT_READ] == [note]


def test_openclassrooms_null_progress_is_stored_as_null_and_status_still_counts(load_payload):
    notes = Notes()
    row = openclassrooms.stat_row(
        altered(load_payload("openclassrooms_progress.json")[0], progress=None), notes
    )

    assert (row["progress_percent"], row["completed"], notes) == (None, 1, [])
