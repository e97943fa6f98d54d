"""Writing the dashboard: owner-only, atomic, never through a link, never into a missing
folder; reading the database only; saying so when there is nothing to show."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from lo_sync.dashboard.charts import _nice_step, top_courses_chart
from lo_sync.dashboard.figures import month_series
from lo_sync.store import Store
from tests.dashboard.helpers import write_report
from tests.helpers.e2e import run_cli, unstamped


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_file_is_owner_only_replaced_whole_and_the_database_untouched(night, copy_of, tmp_path):
    config = copy_of(night)
    database = config.parent / "lo-sync.db"
    before = digest(database)
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("last week's report", encoding="utf-8")
    target.chmod(0o644)
    old_inode = target.stat().st_ino

    done = run_cli(config, "report", "--html", str(target))

    assert done.code == 0, done.stderr
    (line,) = unstamped(done.stdout)
    assert line.startswith(f"report: {target} (") and "courses with statistics" in line
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != old_inode  # a new file renamed over the old one
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]  # no temp left
    assert digest(database) == before
    assert sorted(p.name for p in config.parent.iterdir() if p.name.startswith("lo-sync")) == [
        "lo-sync.db"
    ]


def test_a_link_where_the_file_goes_is_refused_and_what_it_points_at_untouched(night, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(victim)

    done = run_cli(night, "report", "--html", str(link))

    assert done.code == 2
    (line,) = unstamped(done.stderr)
    assert "is a symbolic link; lo-sync does not write through links" in line
    assert victim.read_text(encoding="utf-8") == "keep me" and link.is_symlink()


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(night, tmp_path, where):
    target = tmp_path / "nowhere" / "report.html" if where == "missing folder" else tmp_path

    done = run_cli(night, "report", "--html", str(target))

    assert done.code == 2
    (line,) = unstamped(done.stderr)
    assert line.startswith("lo-sync: ")
    assert ("no folder" if where == "missing folder" else "not a regular file") in line
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "nowhere").exists()


def test_a_missing_database_is_not_created_and_no_page_is_written(night, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        night.read_text(encoding="utf-8").replace("lo-sync.db", "absent.db"), encoding="utf-8"
    )

    done = run_cli(config, "report", "--html", str(tmp_path / "report.html"))

    assert done.code == 2
    (line,) = unstamped(done.stderr)
    assert "no database at" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_an_empty_database_says_there_is_nothing_to_report(night, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(night.read_text(encoding="utf-8"), encoding="utf-8")
    Store.open(tmp_path / "lo-sync.db").close()

    done = run_cli(config, "report", "--html", str(tmp_path / "report.html"))

    assert done.code == 0, done.stderr
    (line,) = unstamped(done.stdout)
    assert line.startswith("nothing to report yet: ")
    assert not (tmp_path / "report.html").exists()


def test_the_html_option_is_required(night):
    done = run_cli(night, "report")

    assert done.code == 2 and "--html" in done.stderr


def test_a_quiet_run_prints_nothing(night, tmp_path):
    done = run_cli(night, "-q", "report", "--html", str(tmp_path / "r.html"))

    assert (done.code, done.stdout, done.stderr) == (0, "", "")
    assert (tmp_path / "r.html").stat().st_size > 0


def test_a_page_is_written_next_to_nothing_but_itself(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    assert page.root_attrs == {"lang": "en"}
    assert os.listdir(tmp_path) == ["report.html"]


# --- the pieces ----------------------------------------------------------------------------


def test_months_without_completions_are_shown_as_zero():
    months, before = month_series({"2026-01": 2, "2026-04": 5}, 24)

    assert months == [("2026-01", 2), ("2026-02", 0), ("2026-03", 0), ("2026-04", 5)]
    assert before == 0


def test_the_series_keeps_the_latest_months_and_counts_the_rest():
    counts = {"2024-11": 1, "2025-12": 4, "2026-01": 2, "2026-02": 3}

    months, before = month_series(counts, 3)

    assert months == [("2025-12", 4), ("2026-01", 2), ("2026-02", 3)]
    assert before == 1


def test_a_value_that_is_no_month_is_left_out():
    assert month_series({"garbage": 9, "2026-13": 1, "2026-02": 1}, 24) == ([("2026-02", 1)], 0)
    assert month_series({}, 24) == ([], 0)


@pytest.mark.parametrize("peak,step", [(1, 1), (5, 1), (6, 2), (12, 5), (51, 20), (999, 200)])
def test_the_scale_has_three_to_five_round_lines(peak, step):
    assert _nice_step(peak) == step


def test_a_chart_label_is_escaped_and_cut():
    svg = top_courses_chart(
        [
            {
                "title": "<b>" + "x" * 100,
                "course": "1",
                "learners_started": 3,
                "learners_completed": 1,
            }
        ]  # fmt: skip
    )

    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "&lt;b&gt;" + "x" * 56 + "…<" in svg  # 60 characters in all
