"""The provider simulator honours the contract in docs/provider-contracts.md.

These tests talk HTTP to a real Simulator on a free port, the way lo-sync does,
and check the strict edges (what the real APIs refuse), the paging styles, the
data's determinism and day-2 story, and every fault kind.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from lo_sync.simulator import CREDENTIALS, FAULT_KINDS, Fault, Simulator, SimulatorConfig
from lo_sync.simulator.coursera import enrollment_row
from lo_sync.simulator.coursera_catalog import content_record
from lo_sync.simulator.learners import (
    UNDONE_LEARNER,
    UNDONE_ROW,
    learner_count,
    learner_email,
    learner_external_id,
    learner_name,
    learners,
)
from lo_sync.simulator.messages import Response
from lo_sync.simulator.nights import catalog_indices, new_indices, removed_indices
from lo_sync.simulator.openclassrooms import course_record, progress_row
from lo_sync.simulator.page_cache import PageCache

CONFIG = SimulatorConfig(
    coursera_contents=300,
    openclassrooms_courses=120,
    coursera_enrollments=600,
    openclassrooms_progress=400,
    oc_page_cap=50,
    seed=7,
)
COURSERA_ORG = CREDENTIALS["coursera"]["org_id"]
OC_ORG = CREDENTIALS["openclassrooms"]["organization_id"]


@pytest.fixture(scope="module")
def server():
    with Simulator(CONFIG) as simulator:
        yield simulator


@pytest.fixture
def sim(server):
    """The shared simulator, back on day 1 with no faults after each test."""
    server.set_day(1)
    server.set_faults(())
    server.reset_counters()
    yield server
    server.set_day(1)
    server.set_faults(())


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


# -- helpers ---------------------------------------------------------------------


def coursera_token(sim, http) -> str:
    creds = CREDENTIALS["coursera"]
    answer = http.post(
        sim.provider_urls()["coursera"]["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def oc_token(sim, http) -> str:
    creds = CREDENTIALS["openclassrooms"]
    answer = http.post(
        sim.provider_urls()["openclassrooms"]["token_url"],
        json={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def coursera_get(sim, http, resource, token, org=COURSERA_ORG, **params):
    url = f"{sim.provider_urls()['coursera']['base_url']}/businesses.v1/{org}/{resource}"
    return http.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def oc_get(sim, http, resource, token, range_=None, org=OC_ORG):
    headers = {"Authorization": f"Bearer {token}"}
    if range_ is not None:
        headers["Range"] = range_
    url = f"{sim.provider_urls()['openclassrooms']['base_url']}/organizations/{org}/{resource}"
    return http.get(url, headers=headers, timeout=10)


def coursera_walk(sim, http, resource, limit=100, **params):
    token = coursera_token(sim, http)
    elements, start, pages = [], 0, []
    while True:
        answer = coursera_get(sim, http, resource, token, start=start, limit=limit, **params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page)
        elements.extend(page["elements"])
        if "next" not in page["paging"]:
            return elements, pages
        assert isinstance(page["paging"]["next"], str)
        assert int(page["paging"]["next"]) > start
        start = int(page["paging"]["next"])


def oc_walk(sim, http, resource):
    token = oc_token(sim, http)
    items, start = [], 0
    while True:
        answer = oc_get(sim, http, resource, token, f"items={start}-{start + 999}")
        if answer.status_code == 200:
            return answer.json()
        assert answer.status_code == 206, answer.text
        items.extend(answer.json())
        served, total = answer.headers["Content-Range"].removeprefix("items ").split("/")
        last = int(served.split("-")[1])
        if last + 1 >= int(total):
            return items
        start = last + 1


def assert_coursera_error(answer, status):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"errorCode", "message", "details"}
    assert body["details"] is None


def assert_oc_error(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.json() == {"code": status, "message": answer.json()["message"]}


# -- tokens ---------------------------------------------------------------------------


def test_coursera_token_by_basic_auth_and_by_form_fields(sim, http):
    creds = CREDENTIALS["coursera"]
    token_url = sim.provider_urls()["coursera"]["token_url"]
    by_basic = http.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    by_form = http.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    )
    for answer in (by_basic, by_form):
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 1799
    assert by_basic.json()["access_token"] != by_form.json()["access_token"]


def test_coursera_token_refusals(sim, http):
    creds = CREDENTIALS["coursera"]
    token_url = sim.provider_urls()["coursera"]["token_url"]
    good = (creds["client_id"], creds["client_secret"])
    wrong = http.post(token_url, data={"grant_type": "client_credentials"}, auth=("x", "y"))
    assert_coursera_error(wrong, 401)
    nobody = http.post(token_url, data={"grant_type": "client_credentials"})
    assert_coursera_error(nobody, 401)
    assert_coursera_error(http.post(token_url, data={}, auth=good), 400)
    assert_coursera_error(http.post(token_url, data={"grant_type": "password"}, auth=good), 400)
    # The contract says form body: JSON is not read.
    as_json = http.post(token_url, json={"grant_type": "client_credentials"}, auth=good)
    assert_coursera_error(as_json, 400)
    assert_coursera_error(http.get(token_url), 405)


def test_openclassrooms_token_json_or_form_but_only_basic(sim, http):
    creds = CREDENTIALS["openclassrooms"]
    token_url = sim.provider_urls()["openclassrooms"]["token_url"]
    good = (creds["client_id"], creds["client_secret"])
    for body in (
        {"json": {"grant_type": "client_credentials"}},
        {"data": {"grant_type": "client_credentials"}},
    ):
        answer = http.post(token_url, auth=good, **body)
        assert answer.status_code == 200
        assert answer.json()["expires_in"] == 3600
    in_body = {"grant_type": "client_credentials", "client_id": good[0], "client_secret": good[1]}
    assert_oc_error(http.post(token_url, data=in_body), 401)
    assert_oc_error(
        http.post(token_url, json={"grant_type": "client_credentials"}, auth=("a", "b")), 401
    )
    assert_oc_error(http.post(token_url, json={}, auth=good), 400)


def test_calls_need_a_valid_token_of_the_same_provider(sim, http):
    assert_coursera_error(coursera_get(sim, http, "contents", ""), 401)
    assert_coursera_error(coursera_get(sim, http, "contents", "made-up"), 401)
    no_header = http.get(
        f"{sim.provider_urls()['coursera']['base_url']}/businesses.v1/{COURSERA_ORG}/contents"
    )
    assert_coursera_error(no_header, 401)
    assert_coursera_error(coursera_get(sim, http, "contents", oc_token(sim, http)), 401)
    assert_oc_error(oc_get(sim, http, "courses", coursera_token(sim, http)), 401)
    assert_oc_error(oc_get(sim, http, "courses", None), 401)


def test_other_organization_is_forbidden_and_a_slug_is_unknown(sim, http):
    token = coursera_token(sim, http)
    assert_coursera_error(
        coursera_get(sim, http, "contents", token, org="AAAAAAAAAAAAAAAAAAAAAA"), 403
    )
    assert_coursera_error(coursera_get(sim, http, "contents", token, org="acme-corp"), 404)
    token = oc_token(sim, http)
    assert_oc_error(oc_get(sim, http, "courses", token, org="9999"), 403)
    assert_oc_error(oc_get(sim, http, "courses", token, org="acme"), 404)


def test_unknown_paths_and_methods(sim, http):
    token = coursera_token(sim, http)
    assert_coursera_error(coursera_get(sim, http, "memberships", token), 404)
    assert_coursera_error(
        http.get(f"{sim.url}/coursera/api/businesses.v1/{COURSERA_ORG}/contents"), 404
    )
    assert_oc_error(oc_get(sim, http, "learners", oc_token(sim, http)), 404)
    assert http.get(f"{sim.url}/nowhere").status_code == 404
    contents = (
        f"{sim.provider_urls()['coursera']['base_url']}/businesses.v1/{COURSERA_ORG}/contents"
    )
    assert_coursera_error(http.post(contents, headers={"Authorization": f"Bearer {token}"}), 405)


# -- Coursera paging -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 1001},
        {"limit": 0},
        {"limit": "ten"},
        {"start": -1},
        {"start": "abc"},
        {"start": ""},
        {"start": "1.5"},
        {"start": ["0", "100"]},
    ],
)
def test_coursera_rejects_bad_paging_parameters(sim, http, params):
    token = coursera_token(sim, http)
    assert_coursera_error(coursera_get(sim, http, "contents", token, **params), 400)


def test_coursera_rejects_non_boolean_flags_and_accepts_unknown_parameters(sim, http):
    token = coursera_token(sim, http)
    assert_coursera_error(
        coursera_get(sim, http, "enrollmentReports", token, includeS12n="yes"), 400
    )
    assert_coursera_error(coursera_get(sim, http, "programs", token, excludeContent="1"), 400)
    assert coursera_get(sim, http, "contents", token, fields="name", q="x").status_code == 200


def test_coursera_paging_walks_to_the_end(sim, http):
    elements, pages = coursera_walk(sim, http, "contents", limit=70)
    assert len(elements) == CONFIG.coursera_contents
    assert len({e["contentId"] for e in elements}) == CONFIG.coursera_contents
    assert [p["paging"].get("next") for p in pages] == ["70", "140", "210", "280", None]
    assert all(
        p["paging"]["total"] == CONFIG.coursera_contents and p["linked"] == {} for p in pages
    )
    token = coursera_token(sim, http)
    past_end = coursera_get(sim, http, "contents", token, start=5000).json()
    assert past_end["elements"] == [] and "next" not in past_end["paging"]
    default = coursera_get(sim, http, "contents", token).json()
    assert len(default["elements"]) == 100 and default["paging"]["next"] == "100"


def test_coursera_max_limit_and_programs(sim, http):
    elements, pages = coursera_walk(sim, http, "enrollmentReports", limit=1000, includeS12n="true")
    assert len(pages) == 1 and len(elements) == CONFIG.coursera_enrollments
    programs, _ = coursera_walk(sim, http, "programs", excludeContent="true")
    assert {p["id"] for p in programs} >= {e["programId"] for e in elements}
    assert all({"id", "name", "slug"} <= set(p) for p in programs)


def test_enrollment_reports_leave_specializations_out_unless_asked(sim, http):
    with_s12n, _ = coursera_walk(sim, http, "enrollmentReports", limit=1000, includeS12n="true")
    without, _ = coursera_walk(sim, http, "enrollmentReports", limit=1000)
    assert any(row["contentType"] == "Specialization" for row in with_s12n)
    assert not any(row["contentType"] == "Specialization" for row in without)
    assert without == [row for row in with_s12n if row["contentType"] != "Specialization"]


# -- OpenClassrooms paging -----------------------------------------------------------------


def test_openclassrooms_range_is_capped_and_answered_206(sim, http):
    token = oc_token(sim, http)
    answer = oc_get(sim, http, "courses", token, "items=0-99")
    assert answer.status_code == 206
    assert answer.headers["Content-Range"] == "items 0-49/120"  # capped at oc_page_cap
    assert len(answer.json()) == 50 and isinstance(answer.json(), list)
    small = oc_get(sim, http, "courses", token, "items=10-19")
    assert small.status_code == 206 and small.headers["Content-Range"] == "items 10-19/120"
    assert small.json() == answer.json()[10:20]
    tail = oc_get(sim, http, "courses", token, "items=100-")
    assert tail.headers["Content-Range"] == "items 100-119/120" and len(tail.json()) == 20
    no_range = oc_get(sim, http, "courses", token)
    assert no_range.status_code == 206 and no_range.headers["Content-Range"] == "items 0-49/120"


def test_openclassrooms_walk_reads_every_item_once(sim, http):
    courses = oc_walk(sim, http, "courses")
    assert len(courses) == CONFIG.openclassrooms_courses
    assert len({c["id"] for c in courses}) == len(courses)
    assert len(oc_walk(sim, http, "learners/progress")) == CONFIG.openclassrooms_progress


def test_openclassrooms_past_the_end_is_416(sim, http):
    answer = oc_get(sim, http, "courses", oc_token(sim, http), "items=120-169")
    assert_oc_error(answer, 416)
    assert answer.headers["Content-Range"] == "items */120"


@pytest.mark.parametrize(
    "range_",
    ["items=5", "items=9-3", "bytes=0-9", "items=0-9,20-29", "items=-5", "items = 0-9", "0-9", ""],
)
def test_openclassrooms_malformed_range_is_400(sim, http, range_):
    assert_oc_error(oc_get(sim, http, "courses", oc_token(sim, http), range_), 400)


def test_openclassrooms_whole_small_collection_is_200_and_empty_is_200():
    small = SimulatorConfig(openclassrooms_courses=8, openclassrooms_progress=0, oc_page_cap=20)
    with Simulator(small) as simulator, requests.Session() as http:
        token = oc_token(simulator, http)
        whole = oc_get(simulator, http, "courses", token, "items=0-49")
        assert whole.status_code == 200 and len(whole.json()) == 8
        assert "Content-Range" not in whole.headers
        assert oc_get(simulator, http, "courses", token).status_code == 200
        part = oc_get(simulator, http, "courses", token, "items=0-3")
        assert part.status_code == 206 and part.headers["Content-Range"] == "items 0-3/8"
        empty = oc_get(simulator, http, "learners/progress", token, "items=0-49")
        assert empty.status_code == 200 and empty.json() == []


def test_keep_alive_http_1_1(sim, http):
    token = coursera_token(sim, http)
    answer = coursera_get(sim, http, "contents", token, limit=5)
    assert answer.raw.version == 11
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.headers.get("Connection", "").lower() != "close"


# -- data ------------------------------------------------------------------------------------


def test_same_seed_same_records_other_seed_other_records(sim, http):
    first, _ = coursera_walk(sim, http, "contents", limit=1000)
    again, _ = coursera_walk(sim, http, "contents", limit=1000)
    assert first == again
    assert first[:3] == [content_record(i, 1, CONFIG) for i in range(3)]
    other = CONFIG.replace(seed=8)
    assert content_record(5, 1, other) != content_record(5, 1, CONFIG)
    assert progress_row(9, 1, CONFIG) == progress_row(9, 1, CONFIG)


def test_catalog_data_is_realistically_untidy(sim, http):
    contents, _ = coursera_walk(sim, http, "contents", limit=1000)
    courses = oc_walk(sim, http, "courses")
    titles = [c["name"] for c in contents] + [c["title"] for c in courses]
    assert any(not t.isascii() for t in titles)
    assert any(any("\u3040" <= ch <= "\u9fff" for ch in t) for t in titles)  # CJK
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in titles)  # emoji
    assert any("<p>" in c["description"] for c in contents)
    assert {c["contentType"] for c in contents} >= {"Course", "Specialization"}
    assert any("programs" not in c for c in contents) and any(
        "extraMetadata" not in c for c in contents
    )
    metadata = [
        c["extraMetadata"]
        for c in contents
        if c.get("extraMetadata", {}).get("typeName") == "courseMetadata"
    ]
    assert all(isinstance(m["definition"]["estimatedLearningTime"], int) for m in metadata)
    assert any(
        "programs" in c and c["programs"][0]["contentUrl"].startswith("https://") for c in contents
    )
    statuses = [c["status"] for c in courses]
    assert statuses.count("active") > len(statuses) / 2
    assert {"active", "archived"} <= set(statuses)
    assert any("image" not in c or c["image"] is None for c in courses)
    big = CONFIG.replace(openclassrooms_courses=3000)
    every_status = {course_record(i, 1, big)["status"] for i in range(3000)}
    assert every_status == {"active", "coming-soon", "pre-registration", "archived", "closed"}


def test_stats_data_matches_catalog_and_is_untidy(sim, http):
    contents, _ = coursera_walk(sim, http, "contents", limit=1000)
    rows, _ = coursera_walk(sim, http, "enrollmentReports", limit=1000, includeS12n="true")
    catalog_ids = {c["contentId"] for c in contents}
    known = [r for r in rows if r["contentId"] in catalog_ids]
    assert 0.95 * len(rows) <= len(known) < len(rows)  # mostly in the catalog, not all
    emails = {r["email"] for r in rows}
    assert any(e != e.lower() for e in emails)
    assert {e.lower() for e in emails} <= {
        learner_email(n) for n in range(learner_count("coursera", CONFIG))
    }
    keys = [(r["email"].lower(), r["contentId"], r["programId"]) for r in rows]
    assert len(set(keys)) == len(keys)
    pairs = [(r["email"].lower(), r["contentId"]) for r in rows]
    assert len(set(pairs)) < len(pairs)  # someone takes one course under two programs
    assert any(r["externalId"] == r["email"].lower() for r in rows)
    assert any("grade" not in r for r in rows) and any(
        r.get("grade") is None and "grade" in r for r in rows
    )
    for r in rows:
        assert 0 <= r["overallProgress"] <= 100 and isinstance(r["enrolledAt"], int)
        assert r["enrolledAt"] > 10**12  # milliseconds
        assert r["isCompleted"] == ("completedAt" in r)
        assert isinstance(r["approxTotalCourseHrs"], float)
        assert r.get("grade") is None or 0 <= r["grade"] <= 1
    progress = oc_walk(sim, http, "learners/progress")
    course_ids = {c["id"] for c in oc_walk(sim, http, "courses")}
    assert sum(p["courseId"] in course_ids for p in progress) >= 0.95 * len(progress)
    assert any("timeSpent" not in p for p in progress)
    for p in progress:
        assert isinstance(p["progress"], int) and 0 <= p["progress"] <= 100
        assert p["status"] == ("completed" if p["progress"] == 100 else "in-progress")
        assert p["startedAt"].endswith("Z") and (p["completedAt"] is None) == (
            p["status"] != "completed"
        )


# -- day 2 -------------------------------------------------------------------------------------


def test_day_two_changes_catalogs_within_the_safety_limit(sim, http):
    day1_c = {c["contentId"]: c for c in coursera_walk(sim, http, "contents", limit=1000)[0]}
    day1_o = {c["id"]: c for c in oc_walk(sim, http, "courses")}
    sim.set_day(2)
    day2_c = {c["contentId"]: c for c in coursera_walk(sim, http, "contents", limit=1000)[0]}
    day2_o = {c["id"]: c for c in oc_walk(sim, http, "courses")}
    for day1, day2, title in ((day1_c, day2_c, "name"), (day1_o, day2_o, "title")):
        removed, added = day1.keys() - day2.keys(), day2.keys() - day1.keys()
        assert 0 < len(removed) < 0.1 * len(day1)
        assert 1 <= len(added) <= 2
        assert any(day1[k][title] != day2[k][title] for k in day1.keys() & day2.keys())
        assert any(
            day1[k]["description"] != day2[k]["description"] for k in day1.keys() & day2.keys()
        )
    ids = [course_record(i, 1, CONFIG)["id"] for i in range(4)]
    assert [day1_o[i]["status"] for i in ids[1:4]] == ["archived", "active", "active"]
    assert [day2_o[i]["status"] for i in ids[1:4]] == ["active", "archived", "closed"]
    assert day2_o[ids[1]]["updatedAt"] > day1_o[ids[1]]["updatedAt"]


def test_day_two_advances_stats_and_undoes_exactly_one_completion(sim, http):
    day1_c, _ = coursera_walk(sim, http, "enrollmentReports", limit=1000, includeS12n="true")
    day1_o = oc_walk(sim, http, "learners/progress")
    sim.set_day(2)
    day2_c, _ = coursera_walk(sim, http, "enrollmentReports", limit=1000, includeS12n="true")
    day2_o = oc_walk(sim, http, "learners/progress")

    coursera = list(zip(day1_c, day2_c, strict=True))
    openclassrooms = list(zip(day1_o, day2_o, strict=True))

    undone = [(a, b) for a, b in coursera if a["isCompleted"] and not b["isCompleted"]]
    assert [a["email"].lower() for a, _ in undone] == [learner_email(UNDONE_LEARNER)]
    assert undone[0][1]["overallProgress"] < undone[0][0]["overallProgress"]
    undone = [(a, b) for a, b in openclassrooms if a["status"] == "completed" != b["status"]]
    assert [a["email"].lower() for a, _ in undone] == [learner_email(UNDONE_LEARNER)]
    assert undone[0][1]["progress"] < 100 and undone[0][1]["completedAt"] is None

    changed = sum(a != b for a, b in coursera)
    assert 0.01 * len(coursera) < changed < 0.15 * len(coursera)  # changed_fraction 0.05
    assert any(not a["isCompleted"] and b["isCompleted"] for a, b in coursera)
    for a, b in coursera[1:]:
        assert b["overallProgress"] >= a["overallProgress"]
        assert b["lastActivityAt"] >= a["lastActivityAt"]


# -- faults ----------------------------------------------------------------------------------


def test_fault_parsing_and_validation():
    assert Fault.parse("rate_limit:every=3,retry_after=0") == Fault(
        "rate_limit", every=3, retry_after=0
    )
    assert Fault.parse("shrunk") == Fault("shrunk")
    assert Fault.parse("slow:seconds=0.5").seconds == 0.5
    assert Fault.from_dict({"kind": "broken_page", "page": 100}) == Fault("broken_page", page=100)
    assert str(Fault("server_error", every=4, count=2)) == "server_error:every=4,count=2"
    with pytest.raises(ValueError, match="flood"):
        Fault("flood")
    with pytest.raises(ValueError, match="flood"):
        Fault.parse("flood:every=2")
    with pytest.raises(ValueError, match="every"):
        Fault("rate_limit")
    with pytest.raises(ValueError, match="page"):
        Fault.parse("rate_limit:every=2,page=3")
    with pytest.raises(ValueError):
        Fault.parse("rate_limit:evry=2")
    with pytest.raises(ValueError):
        Fault.parse("rate_limit:every=two")
    assert set(FAULT_KINDS) == {
        "rate_limit", "server_error", "token_expiry", "token_down", "slow", "broken_page",
        "truncated_json", "reset", "stuck_next", "range_total_changes", "duplicate_record",
        "bad_records", "shrunk", "trickle", "gzip_bomb", "deep_nesting", "gateway_fault",
        "unknown_fields", "throttle",
    }  # fmt: skip


def test_rate_limit_every_third_request(sim, http):
    sim.set_faults([Fault("rate_limit", every=3, retry_after=2)])
    token = coursera_token(sim, http)
    statuses = [coursera_get(sim, http, "contents", token, limit=1) for _ in range(6)]
    assert [a.status_code for a in statuses] == [200, 200, 429, 200, 200, 429]
    assert_coursera_error(statuses[2], 429)
    assert statuses[2].json()["errorCode"] == "TOO_MANY_REQUESTS"
    assert statuses[2].headers["Retry-After"] == "2"
    sim.set_faults([Fault("rate_limit", every=1, retry_after=-1)])
    answer = oc_get(sim, http, "courses", oc_token(sim, http))
    assert_oc_error(answer, 429)
    assert "Retry-After" not in answer.headers
    sim.set_faults([Fault.parse("rate_limit:every=1")])
    assert oc_get(sim, http, "courses", oc_token(sim, http)).headers["Retry-After"] == "1"


def test_server_error_bursts_cycle_gateway_statuses(sim, http):
    sim.set_faults([Fault("server_error", every=3, count=2)])
    token = coursera_token(sim, http)
    answers = [coursera_get(sim, http, "contents", token, limit=1) for _ in range(7)]
    assert [a.status_code for a in answers] == [200, 200, 500, 502, 200, 503, 504]
    assert answers[2].json()["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert answers[3].headers["Content-Type"].startswith("text/html")  # from the gateway
    sim.set_faults([Fault("server_error", every=1, status=503)])
    assert_oc_error(oc_get(sim, http, "courses", oc_token(sim, http)), 503)


def test_token_expiry_forces_a_new_token_mid_paging(sim, http):
    sim.set_faults([Fault("token_expiry", every=2)])
    token = coursera_token(sim, http)
    statuses = [coursera_get(sim, http, "contents", token, limit=1).status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    assert coursera_get(sim, http, "contents", token, limit=1).status_code == 401
    assert (
        coursera_get(sim, http, "contents", coursera_token(sim, http), limit=1).status_code == 200
    )


def test_token_down(sim, http):
    sim.set_faults([Fault("token_down")])
    creds = CREDENTIALS["coursera"]
    answer = http.post(
        sim.provider_urls()["coursera"]["token_url"],
        data={"grant_type": "client_credentials"},
        auth=(creds["client_id"], creds["client_secret"]),
    )
    assert_coursera_error(answer, 503)
    sim.set_faults([Fault("token_down", status=500)])
    answer = http.post(sim.provider_urls()["openclassrooms"]["token_url"], json={})
    assert_oc_error(answer, 500)


def test_slow(sim, http):
    token = coursera_token(sim, http)
    sim.set_faults([Fault("slow", seconds=0.3)])
    began = time.monotonic()
    assert coursera_get(sim, http, "contents", token, limit=1).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_broken_page_always_fails(sim, http):
    sim.set_faults([Fault("broken_page", page=100)])
    token = coursera_token(sim, http)
    for _ in range(3):
        assert_coursera_error(coursera_get(sim, http, "contents", token, start=100), 500)
    assert coursera_get(sim, http, "contents", token, start=0).status_code == 200
    assert coursera_get(sim, http, "contents", token, start=200).status_code == 200
    token = oc_token(sim, http)
    assert_oc_error(oc_get(sim, http, "courses", token, "items=100-149"), 500)
    assert oc_get(sim, http, "courses", token, "items=50-99").status_code == 206


def test_truncated_json(sim, http):
    sim.set_faults([Fault("truncated_json", page=0)])
    for answer in (
        coursera_get(sim, http, "contents", coursera_token(sim, http)),
        oc_get(sim, http, "courses", oc_token(sim, http), "items=0-9"),
    ):
        assert answer.status_code in (200, 206)
        assert int(answer.headers["Content-Length"]) == len(answer.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.content)


def test_gzip_bomb_is_the_same_json_a_thousand_times_larger_once_decoded(sim, http):
    token = coursera_token(sim, http)
    clean = coursera_get(sim, http, "contents", token, start=100, limit=10)
    sim.set_faults([Fault("gzip_bomb", page=100, count=2)])

    bomb = coursera_get(sim, http, "contents", token, start=100, limit=10)

    assert bomb.headers["Content-Encoding"] == "gzip"
    assert int(bomb.headers["Content-Length"]) < 16 * 1024
    assert len(bomb.content) == len(clean.content) + 2 * 2**20  # requests decodes it
    assert bomb.json() == clean.json()
    assert "Content-Encoding" not in coursera_get(sim, http, "contents", token).headers


def test_deep_nesting_answers_an_array_nested_count_deep(sim, http):
    sim.set_faults([Fault("deep_nesting", page=0, count=5000)])

    answer = oc_get(sim, http, "courses", oc_token(sim, http), "items=0-9")

    assert answer.content == b"[" * 5000 + b"]" * 5000


def test_trickle_sends_the_answer_a_byte_at_a_time_from_the_status_line_on(sim, http):
    import socket

    token = coursera_token(sim, http)
    sim.set_faults([Fault("trickle", page=0, seconds=0.05)])
    url = sim.provider_urls()["coursera"]["base_url"]
    host, port = sim.url.removeprefix("http://").split(":")
    path = url.removeprefix(sim.url) + f"/businesses.v1/{COURSERA_ORG}/contents?limit=1"

    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        began = time.monotonic()
        first = conn.recv(100)
        conn.settimeout(0.5)
        received = first + conn.recv(100)

    assert first == b"H"  # one byte, then a pause: not even the status line at once
    assert received.startswith(b"HT") and len(received) <= 3
    assert time.monotonic() - began >= 0.05


def test_reset_drops_the_connection_count_times(sim, http):
    sim.set_faults([Fault("reset", page=100, count=2)])
    token = coursera_token(sim, http)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            coursera_get(sim, http, "contents", token, start=100)
    assert coursera_get(sim, http, "contents", token, start=100).status_code == 200
    assert (
        "GET",
        f"/coursera/ent/api/businesses.v1/{COURSERA_ORG}/contents?start=100",
        0,
    ) in sim.request_log
    sim.set_faults([Fault("reset", page=0)])
    for _ in range(3):
        with pytest.raises(requests.ConnectionError):
            oc_get(sim, http, "courses", oc_token(sim, http))


def test_stuck_next(sim, http):
    sim.set_faults([Fault("stuck_next", page=100)])
    token = coursera_token(sim, http)
    assert coursera_get(sim, http, "contents", token, start=0).json()["paging"]["next"] == "100"
    assert coursera_get(sim, http, "contents", token, start=100).json()["paging"]["next"] == "100"


def test_range_total_changes(sim, http):
    sim.set_faults([Fault("range_total_changes")])
    token = oc_token(sim, http)
    assert (
        oc_get(sim, http, "courses", token, "items=0-49").headers["Content-Range"]
        == "items 0-49/120"
    )
    assert (
        oc_get(sim, http, "courses", token, "items=50-99").headers["Content-Range"]
        == "items 50-99/127"
    )


def test_duplicate_record(sim, http):
    sim.set_faults([Fault("duplicate_record", page=50)])
    token = coursera_token(sim, http)
    first = coursera_get(sim, http, "contents", token, start=0, limit=50).json()
    second = coursera_get(sim, http, "contents", token, start=50, limit=50).json()
    assert second["elements"][0] == first["elements"][-1]
    assert len(second["elements"]) == 51 and second["paging"]["next"] == "100"
    token = oc_token(sim, http)
    first_items = oc_get(sim, http, "courses", token, "items=0-49").json()
    second_items = oc_get(sim, http, "courses", token, "items=50-99").json()
    assert second_items[0] == first_items[-1]


def test_bad_records_cycle_through_corruptions(sim, http):
    sim.set_faults([Fault("bad_records", every=3)])
    elements = coursera_get(sim, http, "contents", coursera_token(sim, http), limit=12).json()[
        "elements"
    ]
    damaged = elements[2::3]
    assert "contentId" not in damaged[0]
    assert damaged[1]["name"] == 404
    assert damaged[2]["name"] is None
    assert len(damaged[3]["name"]) >= 100_000
    assert all(
        isinstance(e["name"], str) and "contentId" in e
        for i, e in enumerate(elements)
        if i % 3 != 2
    )
    items = oc_get(sim, http, "courses", oc_token(sim, http), "items=0-14").json()
    assert items[14]["status"] not in (
        "active",
        "coming-soon",
        "pre-registration",
        "archived",
        "closed",
    )
    stats = coursera_get(sim, http, "enrollmentReports", coursera_token(sim, http), limit=12).json()
    assert all("contentId" in row for row in stats["elements"])  # catalogs only


def test_shrunk_catalogs(sim, http):
    sim.set_faults([Fault("shrunk")])
    contents, pages = coursera_walk(sim, http, "contents", limit=1000)
    assert len(contents) == CONFIG.coursera_contents // 2 and pages[-1]["paging"]["total"] == 150
    assert len(oc_walk(sim, http, "courses")) == CONFIG.openclassrooms_courses // 2
    assert len(oc_walk(sim, http, "learners/progress")) == CONFIG.openclassrooms_progress


def test_faults_from_the_config():
    config = CONFIG.replace(faults=(Fault("rate_limit", every=1),))
    with Simulator(config) as simulator, requests.Session() as http:
        assert (
            coursera_get(simulator, http, "contents", coursera_token(simulator, http)).status_code
            == 429
        )


# -- control, log, scale ---------------------------------------------------------------------


def test_control_endpoint_steers_a_running_simulator(sim, http):
    assert http.get(f"{sim.url}/_sim/health").status_code == 200
    answer = http.post(
        f"{sim.url}/_sim/control", json={"day": 2, "faults": [{"kind": "rate_limit", "every": 2}]}
    )
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert sim.config.day == 2 and sim.config.faults == (Fault("rate_limit", every=2),)
    token = coursera_token(sim, http)
    assert [coursera_get(sim, http, "contents", token, limit=1).status_code for _ in range(2)] == [
        200,
        429,
    ]
    assert http.post(f"{sim.url}/_sim/control", json={"faults": []}).status_code == 200
    assert sim.config.faults == () and sim.config.day == 2
    for bad in ({"day": 3}, {"faults": [{"kind": "flood"}]}, {"colour": "red"}, [], "day"):
        refused = http.post(f"{sim.url}/_sim/control", json=bad)
        assert refused.status_code == 400 and refused.json()["ok"] is False
    assert sim.config.day == 2  # a refused command changes nothing
    assert http.get(f"{sim.url}/_sim/control").status_code == 405


def test_request_log_and_counters(sim, http):
    token = coursera_token(sim, http)
    coursera_get(sim, http, "contents", token, limit=3)
    log = sim.request_log
    assert log[-2] == ("POST", "/coursera/oauth2/client_credentials/token", 200)
    assert log[-1] == (
        "GET",
        f"/coursera/ent/api/businesses.v1/{COURSERA_ORG}/contents?limit=3",
        200,
    )
    sim.reset_counters()
    assert sim.request_log == []


def test_a_page_of_a_million_row_report():
    config = SimulatorConfig(coursera_enrollments=1_000_000, coursera_contents=5000, seed=3)
    with Simulator(config) as simulator, requests.Session() as http:
        token = coursera_token(simulator, http)
        answer = coursera_get(
            simulator,
            http,
            "enrollmentReports",
            token,
            start=500_000,
            limit=1000,
            includeS12n="true",
        )
        page = answer.json()
        assert len(page["elements"]) == 1000
        assert page["paging"] == {"next": "501000", "total": 1_000_000}
        assert page["elements"][0] == enrollment_row(500_000, 1, config)
        # Generous: a page takes far less (benchmarks/README.md has the figure).
        assert answer.elapsed.total_seconds() < 5


def test_catalog_indices_match_a_plain_list():
    config = CONFIG.replace(coursera_contents=1000)
    listing = catalog_indices("coursera", 2, config)
    removed = set(removed_indices("coursera", config))
    expected = [i for i in range(1000) if i not in removed] + list(new_indices("coursera", config))
    assert list(listing) == expected and len(listing) == len(expected)
    assert listing[123:456] == expected[123:456] and listing[-1] == expected[-1]
    assert all(listing[p] == expected[p] for p in range(0, len(expected), 37))


def test_learner_helpers_describe_the_stats_learners():
    rows = [enrollment_row(j, 1, CONFIG) for j in range(CONFIG.coursera_enrollments)]
    progress = [progress_row(j, 1, CONFIG) for j in range(CONFIG.openclassrooms_progress)]
    emails = {learner_email(n) for n in learners(CONFIG)}
    assert {r["email"].lower() for r in rows + progress} == emails
    for row in rows[::7]:
        n = int(row["email"].lower().removeprefix("learner").split("@")[0])
        assert row["fullName"] == learner_name(n, CONFIG)
        assert row["externalId"] == (learner_external_id(n, CONFIG) or learner_email(n))


def test_request_counting_spans_both_providers(sim, http):
    sim.set_faults([Fault("rate_limit", every=2)])
    first = coursera_get(sim, http, "contents", coursera_token(sim, http))
    second = oc_get(sim, http, "courses", oc_token(sim, http))
    assert (first.status_code, second.status_code) == (200, 429)


def test_the_undone_learner_has_no_other_row_for_that_course():
    for seed in range(30):
        config = CONFIG.replace(seed=seed)
        coursera = [enrollment_row(j, 2, config) for j in range(6)]
        undone = coursera[UNDONE_ROW]
        assert not undone["isCompleted"]
        assert [r["contentId"] for r in coursera].count(undone["contentId"]) == 1


# -- page cache --------------------------------------------------------------------------

CACHED = CONFIG.replace(page_cache=50_000_000)


def raw(answer) -> tuple:
    """What the server sent, its Date header aside."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "date"}
    return answer.status_code, headers, answer.content


def some_pages(sim, http) -> list[tuple]:
    coursera, oc = coursera_token(sim, http), oc_token(sim, http)
    answers = [
        coursera_get(sim, http, "contents", coursera, start=start, limit=50)
        for start in (0, 50, 100, 299)
    ]
    answers += [
        coursera_get(sim, http, "enrollmentReports", coursera, start=6, limit=200, **flag)
        for flag in ({}, {"includeS12n": "true"})
    ]
    answers.append(coursera_get(sim, http, "programs", coursera, excludeContent="true"))
    answers += [oc_get(sim, http, "courses", oc, f"items={a}-{a + 49}") for a in (0, 50, 100)]
    answers += [oc_get(sim, http, "learners/progress", oc, r) for r in ("items=0-", "items=50-60")]
    return [raw(answer) for answer in answers]


def test_a_cached_answer_is_byte_identical_to_a_fresh_one(sim, http):
    page_faults = (
        Fault("bad_records", every=3),
        Fault("duplicate_record", page=50),
        Fault("stuck_next", page=100),
        Fault("range_total_changes"),
        Fault("truncated_json", page=100),
    )
    pages = 0
    with Simulator(CACHED) as cached, requests.Session() as cached_http:
        for faults in ((), page_faults, (Fault("shrunk"),)):
            for day in (1, 2):
                for simulator in (sim, cached):
                    simulator.set_faults(faults)
                    simulator.set_day(day)
                fresh = some_pages(sim, http)
                rendered = some_pages(cached, cached_http)
                kept = some_pages(cached, cached_http)
                assert rendered == fresh and kept == fresh
                pages += sum(status in (200, 206) for status, _, _ in fresh)
        # Every page was rendered once and kept once; errors (416 once shrunk) never are.
        assert cached.page_cache_stats()["hits"] == cached.page_cache_stats()["misses"] == pages


def test_set_day_and_set_faults_empty_the_page_cache():
    with Simulator(CACHED) as cached, requests.Session() as http:
        token = coursera_token(cached, http)
        day1 = coursera_get(cached, http, "contents", token, limit=10)
        assert coursera_get(cached, http, "contents", token, limit=10).content == day1.content
        assert cached.page_cache_stats()["answers"] == 1
        cached.set_day(2)
        assert cached.page_cache_stats()["answers"] == 0
        day2 = coursera_get(cached, http, "contents", token, limit=10)
        assert day2.content != day1.content
        cached.set_faults([Fault("bad_records", every=2)])
        assert cached.page_cache_stats()["answers"] == 0
        damaged = coursera_get(cached, http, "contents", token, limit=10)
        assert damaged.content != day2.content
        assert http.post(f"{cached.url}/_sim/control", json={"day": 1}).status_code == 200
        assert cached.page_cache_stats()["answers"] == 0
        assert cached.page_cache_stats()["misses"] == 3
        assert cached.page_cache_stats()["hits"] == 1


def test_resetting_the_counters_or_naming_the_same_day_keeps_the_page_cache():
    # The benchmark resets the counters before every measured run: were the cache
    # emptied there, the simulator would build every page while the clients are timed.
    with Simulator(CACHED) as cached, requests.Session() as http:
        token = coursera_token(cached, http)
        coursera_get(cached, http, "contents", token, limit=10)
        assert http.post(f"{cached.url}/_sim/control", json={"reset": True}).ok
        cached.set_day(1)
        coursera_get(cached, http, "contents", token, limit=10)
        assert cached.page_cache_stats()["answers"] == 1
        assert (cached.page_cache_stats()["hits"], cached.page_cache_stats()["misses"]) == (1, 1)


def test_a_cached_page_still_passes_the_guard():
    with Simulator(CACHED) as cached, requests.Session() as http:
        token = coursera_token(cached, http)
        assert coursera_get(cached, http, "contents", token, limit=5).status_code == 200
        assert_coursera_error(coursera_get(cached, http, "contents", "made-up", limit=5), 401)
        other = "AAAAAAAAAAAAAAAAAAAAAA"
        assert_coursera_error(coursera_get(cached, http, "contents", token, org=other), 403)
        cached.set_faults([Fault("rate_limit", every=2)])
        answers = [coursera_get(cached, http, "contents", token, limit=5) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 429, 200, 429]
        assert cached.page_cache_stats()["hits"] == 1


def test_the_page_cache_keeps_to_its_size_limit():
    def render(body: bytes):
        return lambda: Response(200, body, {"Content-Type": "text/plain"})

    cache = PageCache(limit=10)
    for key in "abc":
        cache.answer(key, render(b"1234"))
    # c pushed the total to 12 bytes: a, the least recently used, went.
    assert cache.stats() == {"hits": 0, "misses": 3, "answers": 2, "bytes": 8, "limit": 10}
    assert cache.answer("b", render(b"other")).body == b"1234"
    assert cache.answer("a", render(b"5678")).body == b"5678"  # rendered again
    cache.answer("huge", render(b"x" * 11))  # larger than the limit: never kept
    assert cache.stats() == {"hits": 1, "misses": 5, "answers": 2, "bytes": 8, "limit": 10}
    cache.clear()
    assert cache.stats()["answers"] == cache.stats()["bytes"] == 0
    off = PageCache(limit=0)
    off.answer("a", render(b"1"))
    assert off.stats() == {"hits": 0, "misses": 0, "answers": 0, "bytes": 0, "limit": 0}
    with pytest.raises(ValueError, match="page_cache"):
        SimulatorConfig(page_cache=-1)
