"""Reports whose rows fall to learners as organizations' do: most learners with one to
three rows, a long tail with dozens, and the totals still exact."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import requests

from lo_sync.simulator import Simulator, SimulatorConfig
from lo_sync.simulator.coursera import enrollment_row, enrollment_total
from lo_sync.simulator.distribution import HEAVIEST, row_layout
from lo_sync.simulator.learners import (
    UNDONE_ROW,
    learner_count,
    learner_email,
    learners,
    report_layout,
    write_hr_export,
)
from lo_sync.simulator.openclassrooms import progress_row
from tests.simulator.test_simulator import coursera_get, coursera_token

REALISTIC = SimulatorConfig(
    coursera_contents=400,
    openclassrooms_courses=160,
    coursera_enrollments=3_000,
    openclassrooms_progress=1_200,
    distribution="realistic",
    seed=11,
)


def learner_of(row: dict) -> int:
    return int(row["email"].lower().removeprefix("learner").split("@")[0])


def test_a_million_rows_fall_to_many_light_learners_and_a_few_heavy_ones():
    layout = row_layout("realistic", 1_000_000, 6, 42, "cplan", most=10_000)
    counts = Counter(layout.rows_of(n) for n in range(layout.learner_count()))
    learners_ = layout.learner_count()

    def share(rows: range) -> float:
        return sum(counts[k] for k in rows) / learners_

    assert sum(k * c for k, c in counts.items()) == 1_000_000  # exactly the rows asked for
    assert 200_000 < learners_ < 260_000
    assert share(range(1, 2)) == pytest.approx(0.46, abs=0.01)
    assert share(range(2, 3)) == pytest.approx(0.24, abs=0.01)
    assert share(range(3, 4)) == pytest.approx(0.12, abs=0.01)
    assert share(range(4, 20)) == pytest.approx(0.15, abs=0.01)
    assert share(range(20, HEAVIEST + 1)) == pytest.approx(0.03, abs=0.005)
    assert max(counts) == HEAVIEST  # the tail reaches the heaviest learner


def test_the_even_distribution_is_the_one_the_reports_always_had():
    layout = report_layout("coursera", REALISTIC.replace(distribution="even"))
    assert layout.learner_count() == 500
    assert [layout.locate(j) for j in (0, 5, 6, 2_999)] == [(0, 0), (0, 5), (1, 0), (499, 5)]
    assert layout.without_slot(5).rows == 2_500


@pytest.mark.parametrize("provider", ["coursera", "openclassrooms"])
def test_a_learners_rows_stay_together_and_never_repeat_a_course(provider):
    if provider == "coursera":
        rows = [enrollment_row(j, 1, REALISTIC) for j in range(REALISTIC.coursera_enrollments)]
        key = ("contentId", "programId")
    else:
        rows = [progress_row(j, 1, REALISTIC) for j in range(REALISTIC.openclassrooms_progress)]
        key = ("courseId",)
    owners = [learner_of(row) for row in rows]

    assert owners == sorted(owners)  # learner order: each learner's rows together
    assert set(owners) == set(range(learner_count(provider, REALISTIC)))
    seen = [(learner_of(row), *(row[k] for k in key)) for row in rows]
    assert len(set(seen)) == len(seen)
    per_learner = Counter(owners)
    assert per_learner.most_common(1)[0][1] >= 20  # a heavy learner, even in a small report
    assert sum(1 for c in per_learner.values() if c == 1) > len(per_learner) / 3


def test_no_learner_follows_more_than_half_a_small_catalog():
    small = REALISTIC.replace(coursera_contents=20)
    layout = report_layout("coursera", small)
    assert max(layout.rows_of(n) for n in range(layout.learner_count())) <= 10
    rows = [enrollment_row(j, 1, small) for j in range(small.coursera_enrollments)]
    assert len({(learner_of(r), r["contentId"], r["programId"]) for r in rows}) == len(rows)


def test_the_undone_completion_is_still_learner_zeros_first_row():
    before, after = (enrollment_row(UNDONE_ROW, day, REALISTIC) for day in (1, 2))
    assert learner_of(before) == 0
    assert (before["isCompleted"], after["isCompleted"]) == (True, False)
    before, after = (progress_row(UNDONE_ROW, day, REALISTIC) for day in (1, 2))
    assert learner_of(before) == 0
    assert (before["status"], after["status"]) == ("completed", "in-progress")


def test_the_people_file_and_learner_helpers_cover_every_stats_learner(tmp_path: Path):
    rows = [enrollment_row(j, 1, REALISTIC) for j in range(REALISTIC.coursera_enrollments)]
    rows += [progress_row(j, 1, REALISTIC) for j in range(REALISTIC.openclassrooms_progress)]
    assert {r["email"].lower() for r in rows} == {learner_email(n) for n in learners(REALISTIC)}

    kept = write_hr_export(tmp_path / "people.csv", REALISTIC)
    listed = (tmp_path / "people.csv").read_text().splitlines()[1:]
    assert kept == len(listed) == int(len(learners(REALISTIC)) * 0.9)


def test_without_specializations_the_report_drops_exactly_their_rows():
    with Simulator(REALISTIC) as sim, requests.Session() as http:
        token = coursera_token(sim, http)

        def whole(flag: str) -> list[dict]:
            first = coursera_get(sim, http, "enrollmentReports", token, limit=1, includeS12n=flag)
            total = first.json()["paging"]["total"]
            return [
                row
                for start in range(0, total, 500)
                for row in coursera_get(
                    sim, http, "enrollmentReports", token, start=start, limit=500, includeS12n=flag
                ).json()["elements"]
            ]

        with_them, without = whole("true"), whole("false")

    assert len(with_them) == REALISTIC.coursera_enrollments
    assert len(without) == enrollment_total(REALISTIC, include_specializations=False)
    kinds = Counter(row["contentType"] for row in with_them)
    assert len(with_them) - len(without) == kinds["Specialization"] > 0
    assert [r for r in with_them if r["contentType"] != "Specialization"] == without


def test_the_distribution_is_validated():
    with pytest.raises(ValueError, match="distribution must be one of even, realistic"):
        REALISTIC.replace(distribution="zipf")
    with pytest.raises(ValueError, match="variance serves its reports to even learners only"):
        REALISTIC.replace(variance=True)


def test_simulate_serves_the_distribution_it_is_asked_for(monkeypatch):
    from click.testing import CliRunner

    import lo_sync.simulator as simulator
    from lo_sync.cli import cli

    served = []
    monkeypatch.setattr(simulator, "serve_forever", lambda config, *a, **k: served.append(config))
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", "--distribution", "realistic"]).exit_code == 0
    assert served[-1].distribution == "realistic"
    refused = runner.invoke(cli, ["simulate", "--distribution", "realistic", "--variance"])
    assert refused.exit_code == 2
    assert "variance serves its reports to even learners only" in refused.output
