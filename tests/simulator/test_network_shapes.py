"""The simulator as a network and as real reports are: latency, a rate limit that counts
requests in flight or per second, and report rows in other orders."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from lo_sync.simulator import Fault, Simulator, SimulatorConfig
from tests.simulator.test_simulator import coursera_get, coursera_token, oc_get, oc_token

SMALL = SimulatorConfig(
    coursera_contents=60,
    openclassrooms_courses=30,
    coursera_enrollments=240,
    openclassrooms_progress=120,
    seed=7,
)


def report_page(sim, token, start=0, limit=10):
    with requests.Session() as http:
        return coursera_get(
            sim, http, "enrollmentReports", token, start=start, limit=limit, includeS12n="true"
        )


def at_once(n, call):
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def test_latency_holds_each_answer_and_concurrent_answers_wait_together():
    with Simulator(SMALL.replace(latency_ms=200)) as sim, requests.Session() as http:
        token = coursera_token(sim, http)
        started = time.monotonic()
        assert report_page(sim, token).status_code == 200
        one = time.monotonic() - started

        started = time.monotonic()
        answers = at_once(6, lambda: report_page(sim, token))
        six = time.monotonic() - started

    assert one >= 0.2
    assert [a.status_code for a in answers] == [200] * 6
    assert six < 0.2 * 3  # six waits of 200 ms, side by side


def test_throttle_answers_429_to_the_requests_beyond_those_in_flight():
    fault = Fault("throttle", in_flight=2, retry_after=3)
    with Simulator(SMALL.replace(latency_ms=300, faults=(fault,))) as sim:
        with requests.Session() as http:
            token = coursera_token(sim, http)
        answers = at_once(5, lambda: report_page(sim, token))
        health = requests.get(f"{sim.url}/_sim/health", timeout=5).json()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429, 429, 429]
    assert {a.headers.get("Retry-After") for a in answers if a.status_code == 429} == {"3"}
    assert health["max_in_flight"] >= 3  # the refused ones were counted while answered
    assert health["throttled"] == 3
    assert sim.load_stats()["throttled"] == 3


def test_throttle_per_second_refuses_what_the_bucket_has_no_token_for():
    fault = Fault("throttle", per_second=3)
    with Simulator(SMALL.replace(faults=(fault,))) as sim, requests.Session() as http:
        token = coursera_token(sim, http)
        burst = [report_page(sim, token).status_code for _ in range(5)]
        time.sleep(0.7)  # two tokens back
        later = [report_page(sim, token).status_code for _ in range(3)]

    assert burst == [200, 200, 200, 429, 429]
    assert later == [200, 200, 429]


def test_a_throttle_names_what_it_limits():
    with pytest.raises(ValueError, match="needs in_flight or per_second"):
        Fault("throttle")
    assert Fault.parse("throttle:in_flight=4,per_second=2.5") == Fault(
        "throttle", in_flight=4, per_second=2.5
    )


def whole_report(sim, provider):
    with requests.Session() as http:
        if provider == "coursera":
            token = coursera_token(sim, http)
            pages = [report_page(sim, token, start, 40).json() for start in range(0, 240, 40)]
            return [
                (row["email"].lower(), row["contentId"], row["programId"])
                for page in pages
                for row in page["elements"]
            ]
        token = oc_token(sim, http)
        rows = []
        for start in range(0, 120, 20):
            rows += oc_get(
                sim, http, "learners/progress", token, f"items={start}-{start + 19}"
            ).json()
        return [(str(row.get("email")).lower(), row["courseId"], row.get("userId")) for row in rows]


@pytest.mark.parametrize("provider", ["coursera", "openclassrooms"])
def test_every_report_order_holds_the_same_rows(provider):
    reports = {}
    for order in ("learner", "content", "shuffled"):
        with Simulator(SMALL.replace(report_order=order)) as sim:
            reports[order] = whole_report(sim, provider)
            assert whole_report(sim, provider) == reports[order]  # pages are stable

    by_learner, by_content, shuffled = reports["learner"], reports["content"], reports["shuffled"]
    assert sorted(by_content) == sorted(by_learner) == sorted(shuffled)
    assert len(set(by_learner)) == len(by_learner)
    assert shuffled != by_learner and by_content != by_learner
    contents = [row[1] for row in by_content]
    # Grouped: each content's rows are together.
    runs = [c for i, c in enumerate(contents) if i == 0 or contents[i - 1] != c]
    assert len(runs) == len(set(contents))


def test_a_shuffled_report_is_another_order_the_next_night():
    with Simulator(SMALL.replace(report_order="shuffled")) as sim:
        night_one = whole_report(sim, "openclassrooms")
        sim.set_day(2)
        night_two = whole_report(sim, "openclassrooms")

    assert sorted(night_one) == sorted(night_two)
    assert night_one != night_two


def test_orders_and_latency_are_validated():
    with pytest.raises(ValueError, match="report_order must be one of"):
        SMALL.replace(report_order="alphabetical")
    with pytest.raises(ValueError, match="latency_ms must be between 0 and 60,000 ms"):
        SMALL.replace(latency_ms=-1)
    with pytest.raises(ValueError, match="variance serves its reports in learner order"):
        SMALL.replace(variance=True, report_order="shuffled")
