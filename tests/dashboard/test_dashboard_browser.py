"""The dashboard in a real browser (headless Chromium): the script sorts and filters the
table, the charts are drawn, a provider's hostile title stays text, and a phone's 390 px
show the page without sideways scrolling. Each test keeps its screenshots in its tmp
folder and copies them to a folder it prints.

Without Chromium these tests fail, saying how to install it; LO_SYNC_SKIP_BROWSER=1
skips them instead, by choice.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.dashboard.helpers import HOSTILE, stats_json, write_report
from tests.dashboard.page import Page

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "lo-sync-dashboard-screenshots"


@pytest.fixture
def chromium(tmp_path):
    """`chromium(url, *flags)`: what headless Chromium printed (the DOM with --dump-dom)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("LO_SYNC_SKIP_BROWSER") == "1":
            pytest.skip("chromium is not installed and LO_SYNC_SKIP_BROWSER=1")
        pytest.fail(
            "chromium is not installed: install it with `apt-get install -y chromium` "
            "(Debian/Ubuntu), or set LO_SYNC_SKIP_BROWSER=1 to skip the browser tests",
            pytrace=False,
        )
    profile = tmp_path / "chromium-profile"  # its own: tests may run side by side

    def run(url: str, *flags: str) -> str:
        done = subprocess.run(
            [binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000", *flags, url],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    return run


def keep(shot: Path, name: str) -> Path:
    """A copy of a screenshot where a person can open it after the run."""
    SHOTS.mkdir(exist_ok=True)
    copy = SHOTS / name
    shutil.copy(shot, copy)
    print(f"screenshot: {copy}")
    return copy


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def report(night, tmp_path):
    path = tmp_path / "report.html"
    write_report(night, path)
    return path


def test_the_script_sorts_the_table_the_address_asks_for_and_the_charts_are_drawn(
    night, report, chromium, tmp_path
):
    dom = Page(chromium(f"{report.as_uri()}#sort=learners_completed&dir=asc", "--dump-dom"))

    assert dom.root_attrs.get("data-script") == "ran"
    table = dom.table("courses")
    completed = [int(r["learners_completed"].text) for r in table.records()]
    assert completed == sorted(completed) and completed[0] < completed[-1]
    sorted_by = [h.get("aria-sort") for h in table.heads]
    assert sorted_by[table.keys.index("learners_completed")] == "ascending"
    assert sorted_by.count(None) == len(sorted_by) - 1
    assert len(table.rows) == len(stats_json(night))
    # Among equal counts the page's own order (most started first) is kept.
    for a, b in zip(table.records(), table.records()[1:], strict=False):
        if a["learners_completed"].text == b["learners_completed"].text:
            assert int(a["learners_started"].text) >= int(b["learners_started"].text)
    assert "hidden" not in dom.attrs_of("controls")
    assert dom.svgs["chart-completions"]["rect"] > 0 and dom.svgs["chart-courses"]["rect"] > 0
    titles = [r["title"].text for r in table.records()]
    assert HOSTILE in titles  # shown as the text it is; no script of its own ran
    assert [t for t, _ in dom.tags if t == "img"] == []
    assert len([t for t, _ in dom.tags if t == "script"]) == 2  # ours

    shot = tmp_path / "desktop.png"
    chromium(report.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    assert png_size(shot) == (1280, 2000) and shot.stat().st_size > 50_000
    keep(shot, "desktop.png")


def test_the_filter_in_the_address_hides_the_other_courses(night, report, chromium):
    word = "python"
    dom = Page(chromium(f"{report.as_uri()}#q={word}", "--dump-dom"))

    table = dom.table("courses")
    shown = [r for r, attrs in zip(table.records(), table.row_attrs, strict=True)
             if "hidden" not in attrs]  # fmt: skip
    expected = [s for s in stats_json(night)
                if word in f"{s['title']} {s['course']} {s['provider']}".lower()]  # fmt: skip
    assert 0 < len(shown) == len(expected) < len(table.rows)
    assert all(word in (r["title"].text + r["title"].small).lower() for r in shown)
    assert dom.text_of("shown") == f"showing {len(shown)} of {len(table.rows)} courses"


def test_on_a_phone_nothing_overflows_sideways(report, chromium, tmp_path):
    # Headless Chromium lays a window out at least 500 px wide, so the page is shown at a
    # phone's 390 px in a frame, and tells the page around it what it measured.
    probe = report.with_name("probe.html")
    probe.write_text(
        report.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>parent.postMessage({scrollWidth: document.documentElement.scrollWidth, "
            "innerWidth: innerWidth}, '*')</script></body>",
        ),
        encoding="utf-8",
    )
    phone = report.with_name("phone.html")
    phone.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><iframe src="probe.html" '
        'style="border:0;width:390px;height:2400px;display:block"></iframe><script>'
        "addEventListener('message', function (e) {"
        "document.body.setAttribute('data-phone', JSON.stringify(e.data)); });"
        "</script></body></html>",
        encoding="utf-8",
    )

    dom = chromium(phone.as_uri(), "--dump-dom", "--window-size=390,2400")

    body = next(a for t, a in Page(dom).tags if t == "body")
    measured = json.loads(body["data-phone"])
    assert measured["innerWidth"] == 390
    assert measured["scrollWidth"] <= measured["innerWidth"], measured
    shot = tmp_path / "phone.png"
    chromium(phone.as_uri(), f"--screenshot={shot}", "--window-size=390,2400")
    assert png_size(shot) == (390, 2400)
    keep(shot, "phone.png")


def test_a_long_table_shows_its_first_rows_and_a_button_for_the_rest(chromium, tmp_path):
    # Built in-process: the simulator's catalog is too small to pass the limit.
    from lo_sync.dashboard import Figures, render
    from lo_sync.dashboard.assets import LIMIT

    courses = [
        {"provider": "coursera", "course": f"C{i:04d}", "title": f"Course {i}", "archived": 0,
         "learners_enrolled": 3, "learners_started": 2, "learners_completed": i % 3,
         "completion_rate_percent": 50.0, "average_progress_percent": 40.0,
         "average_score_percent": None, "time_spent_minutes": 90.0}
        for i in range(LIMIT + 50)
    ]  # fmt: skip
    figures = Figures(
        as_of="2026-12-02T03:00:00Z", as_of_source="the end of the last sync-stats run",
        written_at="2026-12-02T08:00:00Z", company_only=False, providers=[], courses=courses,
        months=[], completions_before=0, unmatched=0, unmatched_examples=[], runs=[],
    )  # fmt: skip
    page = tmp_path / "long.html"
    page.write_text(render(figures), encoding="utf-8")

    dom = Page(chromium(f"{page.as_uri()}#sort=learners_completed&dir=desc", "--dump-dom"))

    table = dom.table("courses")
    visible = [r for r, a in zip(table.records(), table.row_attrs, strict=True)
               if "hidden" not in a]  # fmt: skip
    assert len(visible) == LIMIT and len(table.rows) == LIMIT + 50
    # The rows shown are the first of the sorted order: every course with 2 completed.
    assert {r["learners_completed"].text for r in visible[: (LIMIT + 50) // 3]} == {"2"}
    assert dom.text_of("shown") == f"showing {LIMIT} of {LIMIT + 50} courses"
    assert "hidden" not in dom.attrs_of("more") and dom.text_of("more") == f"Show all {LIMIT + 50}"
    assert "limited" not in dom.root_attrs.get("class", "")
