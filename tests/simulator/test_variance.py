"""`SimulatorConfig(variance=True)` sends the same truth in the spellings real answers use.

Each shape variance.py lists must show with variance on, a few times in a
default-size organization, and never with it off; and every strict record must
come back from its variance twin through a small normaliser written here, on
its own (it imports nothing of lo_sync's readers), apart from the documented
differences: the extra rows and records, and the learners sent without any
e-mail.
"""

from __future__ import annotations

import calendar
import re
import time

import pytest
import requests

from lo_sync.simulator import CREDENTIALS, Simulator, SimulatorConfig
from lo_sync.simulator.openclassrooms import course_record

STRICT = SimulatorConfig()  # a default-size organization
VARIANCE = STRICT.replace(variance=True)
COURSERA_ORG = CREDENTIALS["coursera"]["org_id"]
OC_ORG = CREDENTIALS["openclassrooms"]["organization_id"]
ID = r"[A-Za-z0-9_-]{22}"
EXTRA_TYPES = {"Video", "LearningPath", "Collection", None}
MISSING = object()


# -- reading a simulator whole --------------------------------------------------------


def _token(session, sim, provider):
    creds = CREDENTIALS[provider]
    answer = session.post(
        sim.provider_urls()[provider]["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _coursera(session, sim, resource, limit, **params):
    base = f"{sim.provider_urls()['coursera']['base_url']}/businesses.v1/{COURSERA_ORG}"
    headers = {"Authorization": f"Bearer {_token(session, sim, 'coursera')}"}
    elements, pages, start = [], [], 0
    while True:
        answer = session.get(
            f"{base}/{resource}",
            params={"start": start, "limit": limit, **params},
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page["paging"])
        elements.extend(page["elements"])
        if "next" not in page["paging"]:
            return elements, pages
        assert int(page["paging"]["next"]) == start + limit
        start = int(page["paging"]["next"])


def _openclassrooms(session, sim, resource):
    base = f"{sim.provider_urls()['openclassrooms']['base_url']}/organizations/{OC_ORG}"
    headers = {"Authorization": f"Bearer {_token(session, sim, 'openclassrooms')}"}
    items, sizes, start = [], [], 0
    while True:
        answer = session.get(
            f"{base}/{resource}",
            headers={**headers, "Range": f"items={start}-{start + 999}"},
            timeout=10,
        )
        assert answer.status_code in (200, 206), answer.text
        items.extend(answer.json())
        sizes.append(len(answer.json()))
        if answer.status_code == 200:
            return items, sizes
        served, total = answer.headers["Content-Range"].removeprefix("items ").split("/")
        start = int(served.split("-")[1]) + 1
        if start >= int(total):
            return items, sizes


def harvest(config):
    with Simulator(config) as sim, requests.Session() as session:
        contents, content_pages = _coursera(session, sim, "contents", 40)
        reports, report_pages = _coursera(
            session, sim, "enrollmentReports", 150, includeS12n="true"
        )
        programs, program_pages = _coursera(session, sim, "programs", 4)
        courses, slices = _openclassrooms(session, sim, "courses")
        progress, _ = _openclassrooms(session, sim, "learners/progress")
    return {
        "contents": contents,
        "reports": reports,
        "pages": content_pages + report_pages + program_pages,
        "courses": courses,
        "progress": progress,
        "slices": slices,
    }


@pytest.fixture(scope="module")
def data():
    """Both nights of the same organization, strict and with variance."""
    return {
        (variance, day): harvest(STRICT.replace(variance=variance, day=day))
        for variance in (False, True)
        for day in (1, 2)
    }


def catalog_rows(rows):
    """Report rows of catalog contents: what the strict report holds too."""
    return [r for r in rows if r.get("contentType") not in EXTRA_TYPES]


# -- the shapes ---------------------------------------------------------------------------


def blank_email(row):
    return row.get("email", MISSING) in (MISSING, None, "")


def null_or_absent(row, field):
    return row.get(field, MISSING) in (MISSING, None)


def iso_text(value):
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value)


SHAPES = {
    # Coursera report rows
    "progress null or absent": ("reports", lambda r: null_or_absent(r, "overallProgress")),
    "progress null": ("reports", lambda r: r.get("overallProgress", 0) is None),
    "progress absent": ("reports", lambda r: "overallProgress" not in r),
    "lastActivityAt null or absent": ("reports", lambda r: null_or_absent(r, "lastActivityAt")),
    "hours null or absent": (
        "reports",
        lambda r: (
            null_or_absent(r, "approxTotalCourseHrs")
            and null_or_absent(r, "approxTotalLearningHours")
        ),
    ),
    "grade as text": ("reports", lambda r: isinstance(r.get("grade"), str)),
    "e-mail only in externalId": (
        "reports",
        lambda r: blank_email(r) and "@" in str(r["externalId"]),
    ),
    "email absent": ("reports", lambda r: "email" not in r),
    "email null": ("reports", lambda r: "email" in r and r["email"] is None),
    "email empty": ("reports", lambda r: r.get("email") == ""),
    "externalId a number with the e-mail": (
        "reports",
        lambda r: isinstance(r["externalId"], int) and "@" in r["email"],
    ),
    "no e-mail at all": ("reports", lambda r: blank_email(r) and "@" not in str(r["externalId"])),
    "Course~ contentId": (
        "reports",
        lambda r: re.fullmatch(f"Course~{ID}", r["contentId"]) and r["contentType"] == "Course",
    ),
    "learning-path row": (
        "reports",
        lambda r: (
            r.get("contentType") == "LearningPath" and re.fullmatch(f"lp~{ID}", r["contentId"])
        ),
    ),
    "composite programId~collectionId row": (
        "reports",
        lambda r: (
            re.fullmatch(f"{ID}~{ID}", r["contentId"])
            and r["contentId"].split("~")[0] == r["programId"]
        ),
    ),
    "composite row typed Collection": ("reports", lambda r: r.get("contentType") == "Collection"),
    "row without contentType": ("reports", lambda r: "contentType" not in r),
    "Video row with approxTotalLearningHours": (
        "reports",
        lambda r: (
            r.get("contentType") == "Video"
            and "approxTotalLearningHours" in r
            and "approxTotalCourseHrs" not in r
        ),
    ),
    "legacy lastActivity": ("reports", lambda r: "lastActivity" in r),
    "ISO-8601 timestamps": ("reports", lambda r: iso_text(r["enrolledAt"])),
    # Coursera catalog
    "Video clip with clipMetadata": (
        "contents",
        lambda r: (
            r["contentType"] == "Video"
            and r["extraMetadata"]["typeName"] == "clipMetadata"
            and set(r["extraMetadata"]["definition"])
            == {
                "parentCourseId",
                "parentLessonName",
                "parentLessonObjectUrl",
                "estimatedLearningTime",
                "skillTags",
                "promoPhoto",
            }
        ),
    ),
    "specialization with courseIds and tagline": (
        "contents",
        lambda r: (
            r.get("extraMetadata", {}).get("typeName") == "specializationMetadata"
            and {"courseIds", "tagline"} <= set(r["extraMetadata"]["definition"])
        ),
    ),
    "lastUpdatedAt in epoch seconds": (
        "contents",
        lambda r: isinstance(r.get("lastUpdatedAt"), int) and 10**9 < r["lastUpdatedAt"] < 10**10,
    ),
    # Coursera paging
    "paging.next a number": ("pages", lambda p: isinstance(p.get("next"), int)),
    "paging {} on the last page": ("pages", lambda p: p == {}),
    # OpenClassrooms
    "ISO-8601 duration": (
        "courses",
        lambda r: (
            isinstance(r["duration"], str) and re.fullmatch(r"PT(\d+H)?(\d+M)?", r["duration"])
        ),
    ),
    "illustration for image": ("courses", lambda r: "illustration" in r and "image" not in r),
    "OpenClassroomsUrl for url": ("courses", lambda r: "OpenClassroomsUrl" in r and "url" not in r),
    "ids as text": (
        "progress",
        lambda r: isinstance(r["userId"], str) and isinstance(r["courseId"], str),
    ),
    "progress as text": ("progress", lambda r: isinstance(r["progress"], str)),
    "timeSpent as text": ("progress", lambda r: isinstance(r.get("timeSpent"), str)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_shows_a_few_times_with_variance_and_never_without(data, shape):
    collection, seen = SHAPES[shape]
    for day in (1, 2):
        assert sum(1 for r in data[True, day][collection] if seen(r)) >= 3, (shape, day)
        assert not any(seen(r) for r in data[False, day][collection]), (shape, day)


def test_more_progress_rows_leave_time_spent_out_with_variance(data):
    def without(progress):
        return sum("timeSpent" not in r for r in progress)

    strict, varied = without(data[False, 1]["progress"]), without(data[True, 1]["progress"])
    assert varied >= strict + 20, (strict, varied)  # the strict 10 %, and 10 % more


def test_openclassrooms_slices_hold_20_items_with_variance_unless_the_config_says(data):
    assert set(data[True, 1]["slices"][:-1]) == {20}
    assert set(data[False, 1]["slices"][:-1]) == {100}
    assert VARIANCE.replace(oc_page_cap=50).oc_slice() == 50
    assert STRICT.oc_slice() == 100 and VARIANCE.oc_slice() == 20


# -- the same truth -------------------------------------------------------------------------


def epoch_ms(value):
    if isinstance(value, str):
        return calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(
            value[20:23]
        )
    return value


def normal_row(row):
    """A Coursera report row in the contract's strict spelling, e-mail in lower case."""
    r = dict(row)
    if blank_email(r):
        fallback = r["externalId"]
        r["email"] = fallback if isinstance(fallback, str) and "@" in fallback else None
    r["email"] = r["email"] and r["email"].lower()
    if isinstance(r["externalId"], int):
        r["externalId"] = f"EMP-{r['externalId']:06d}"
    r["contentId"] = r["contentId"].removeprefix("Course~")
    if isinstance(r.get("grade"), str):
        r["grade"] = float(r["grade"])
    for field in ("enrolledAt", "lastActivityAt", "lastActivity", "completedAt"):
        if r.get(field) is not None:
            r[field] = epoch_ms(r[field])
    if "lastActivity" in r:
        assert r.pop("lastActivity") == r["lastActivityAt"]
    if r.get("overallProgress") is None:
        r["overallProgress"] = 0.0
    if r.get("lastActivityAt") is None:
        r["lastActivityAt"] = r["enrolledAt"]  # never started: last seen when enrolled
    if r.get("approxTotalCourseHrs") is None:
        r["approxTotalCourseHrs"] = 0.0
    return r


def normal_content(record):
    r = dict(record)
    del r["lastUpdatedAt"]
    meta = r.get("extraMetadata")
    if meta and meta["typeName"] == "specializationMetadata":
        definition = dict(meta["definition"])
        definition["courseCount"] = len(definition.pop("courseIds"))
        del definition["tagline"]
        r["extraMetadata"] = {**meta, "definition": definition}
    return r


def minutes(duration):
    if isinstance(duration, int):
        return duration
    hours, mins = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?", duration).groups()
    return int(hours or 0) * 60 + int(mins or 0)


def normal_course(record):
    names = {"illustration": "image", "OpenClassroomsUrl": "url"}
    r = {names.get(k, k): v for k, v in record.items()}
    r["duration"] = minutes(r["duration"])
    return r


def normal_progress(row, durations):
    r = {
        k: int(v) if k in ("userId", "courseId", "progress", "timeSpent") else v
        for k, v in row.items()
    }
    if "timeSpent" not in r:  # the contract: theoretical time x progress
        r["timeSpent"] = round(durations[r["courseId"]] * r["progress"] / 100)
    return r


@pytest.mark.parametrize("day", [1, 2])
def test_variance_is_the_same_coursera_truth(data, day):
    strict, varied = data[False, day], data[True, day]
    rows = catalog_rows(varied["reports"])
    assert len(rows) == len(strict["reports"])
    without_email = 0
    for twin, row in zip(strict["reports"], rows, strict=True):
        expected, got = normal_row(twin), normal_row(row)
        if got["email"] is None:  # documented: a learner sent without any e-mail
            without_email += 1
            expected["email"] = None
        assert got == expected
    assert 3 <= without_email < len(rows) * 0.05

    catalog = [c for c in varied["contents"] if c["contentType"] != "Video"]
    assert [normal_content(c) for c in catalog] == strict["contents"]


@pytest.mark.parametrize("day", [1, 2])
def test_variance_is_the_same_openclassrooms_truth(data, day):
    strict, varied = data[False, day], data[True, day]
    assert [normal_course(c) for c in varied["courses"]] == strict["courses"]
    # Every course a row may name, listed or not, with its theoretical minutes.
    everything = range(STRICT.openclassrooms_courses + 10)
    durations = {r["id"]: r["duration"] for r in (course_record(i, 1, STRICT) for i in everything)}
    assert [normal_progress(r, durations) for r in varied["progress"]] == [
        normal_progress(r, durations) for r in strict["progress"]
    ]


# -- consistency ------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [1, 2])
def test_clips_specializations_and_video_rows_name_catalog_contents(data, day):
    contents = data[True, day]["contents"]
    by_id = {c["contentId"]: c for c in contents}
    assert len(by_id) == len(contents)
    courses = {i for i, c in by_id.items() if c["contentType"] == "Course"}
    clips = [c for c in contents if c["contentType"] == "Video"]
    assert len(clips) == STRICT.coursera_contents // 20
    assert all(c["extraMetadata"]["definition"]["parentCourseId"] in courses for c in clips)
    for c in contents:
        meta = c.get("extraMetadata", {})
        if meta.get("typeName") == "specializationMetadata":
            assert set(meta["definition"]["courseIds"]) <= courses
    video_rows = [r for r in data[True, day]["reports"] if r.get("contentType") == "Video"]
    assert video_rows and all(by_id[r["contentId"]]["contentType"] == "Video" for r in video_rows)
    assert not any(
        r["contentId"] in by_id
        for r in data[True, day]["reports"]
        if "~" in r["contentId"] and not r["contentId"].startswith("Course~")
    )


def learner_key(row):
    return row["fullName"], normal_row(row)["externalId"]


def test_a_learner_is_spelled_the_same_in_all_their_rows(data):
    spellings = {}
    for row in data[True, 1]["reports"]:
        spelling = (blank_email(row), row.get("email", MISSING), type(row["externalId"]))
        spelling = (spelling[0], spelling[1] if spelling[0] else "(an e-mail)", spelling[2])
        spellings.setdefault(learner_key(row), set()).add(spelling)
    assert all(len(kinds) == 1 for kinds in spellings.values())


def test_on_day_two_some_learners_without_any_e_mail_have_one(data):
    def anonymous(day):
        return {
            row["externalId"]
            for row in data[True, day]["reports"]
            if blank_email(row) and "@" not in str(row["externalId"])
        }

    day1, day2 = anonymous(1), anonymous(2)
    assert day2 < day1 and len(day1 - day2) >= 2
    found = {
        r["externalId"]: r["email"]
        for r in data[True, 2]["reports"]
        if r["externalId"] in day1 - day2
    }
    number = {ext: int(ext.removeprefix("EMP-")) for ext in found}
    assert all(email.lower() == f"learner{number[ext]}@example.com" for ext, email in found.items())


def test_a_record_is_spelled_the_same_on_both_nights_unless_its_truth_moved(data):
    for collection, keep in (("reports", catalog_rows), ("progress", list)):
        strict1, strict2 = data[False, 1][collection], data[False, 2][collection]
        varied1, varied2 = keep(data[True, 1][collection]), keep(data[True, 2][collection])
        same = 0
        for s1, s2, v1, v2 in zip(strict1, strict2, varied1, varied2, strict=True):
            # An unchanged row is spelled alike, unless its learner's e-mail came back.
            if s1 == s2 and blank_email(v1) == blank_email(v2):
                assert v1 == v2
                same += 1
        assert same > len(strict1) * 0.9
    extras = [
        [r for r in data[True, day]["reports"] if r.get("contentType") in EXTRA_TYPES]
        for day in (1, 2)
    ]
    assert len(extras[0]) == STRICT.coursera_enrollments // 6 // 6
    assert [r["contentId"] for r in extras[0]] == [r["contentId"] for r in extras[1]]
