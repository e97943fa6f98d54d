"""`lo-sync report --html FILE` against a database two real nights filled: the page shows
what `stats` says, per course; the headline figures are what the tables hold; provider
text stays text; and the page loads nothing from anywhere."""

from __future__ import annotations

import csv
import sqlite3
from datetime import UTC, datetime, timedelta

from lo_sync.dashboard.html import CSP
from tests.dashboard.helpers import (
    HOSTILE,
    PROVIDER_NAMES,
    query,
    stats_json,
    write_report,
)
from tests.helpers.e2e import run_cli


def _course_rows(page) -> dict[tuple[str, str], dict]:
    table = page.table("courses")
    return {(r["provider"].text, r["title"].small): r for r in table.records()}


def _shown(value, digits=1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def assert_page_matches_stats(page, stats: list[dict]) -> None:
    rows = _course_rows(page)
    assert len(rows) == len(stats) > 0
    for s in stats:
        row = rows[(PROVIDER_NAMES[s["provider"]], s["course"])]
        shown_title = row["title"].text.strip()
        assert shown_title == (s["title"] if s["title"] is not None else "(not in the catalog)")
        assert row["learners_started"].text == f"{s['learners_started']:,}"
        assert row["learners_completed"].text == f"{s['learners_completed']:,}"
        assert row["average_progress_percent"].text == _shown(s["average_progress_percent"])
        assert float(row["time_spent_minutes"].attrs["data-v"]) == s["time_spent_minutes"]
        assert row["time_spent_minutes"].text == f"{s['time_spent_minutes'] / 60:,.1f}"
        rate = (
            round(100 * s["learners_completed"] / s["learners_started"], 1)
            if s["learners_started"]
            else None
        )
        assert row["completion_rate_percent"].text == _shown(rate)


def test_every_course_shows_the_figures_stats_json_gives(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    stats = stats_json(night)
    assert_page_matches_stats(page, stats)
    # The columns stats does not have, against the table they come from.
    enrolled = dict(
        ((PROVIDER_NAMES[p], c), n)
        for p, c, n in query(
            night, "SELECT provider, course_external_id, count(*) FROM progress GROUP BY 1, 2"
        )
    )
    scores = dict(
        ((PROVIDER_NAMES[p], c), s)
        for p, c, s in query(
            night,
            "SELECT provider, course_external_id, round(avg(score_percent), 1) FROM progress "
            "GROUP BY 1, 2",
        )
    )
    rows = _course_rows(page)
    assert {k: int(r["learners_enrolled"].text.replace(",", "")) for k, r in rows.items()} == (
        enrolled
    )
    assert {k: r["average_score_percent"].text for k, r in rows.items()} == {
        k: _shown(v) for k, v in scores.items()
    }
    assert any(v is not None for v in scores.values()) and any(v is None for v in scores.values())
    # Most followed first, as the chart ranks them.
    started = [int(r["learners_started"].text) for r in page.table("courses").records()]
    assert started == sorted(started, reverse=True)


def test_archived_courses_are_marked_in_the_course_table_as_in_stats(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    archived = {(PROVIDER_NAMES[s["provider"]], s["course"]) for s in stats_json(night)
                if s["archived"]}  # fmt: skip
    assert archived, "the second night archived courses that have statistics"
    marked = {key for key, row in _course_rows(page).items() if row["title"].tag == "archived"}
    assert marked == archived


def test_with_the_companys_people_imported_only_they_count_as_in_stats(night, copy_of, tmp_path):
    config = copy_of(night)
    everyone = stats_json(config)
    emails = [e for (e,) in query(config, "SELECT DISTINCT learner_email FROM progress "
                                  "WHERE learner_email IS NOT NULL ORDER BY 1")]  # fmt: skip
    people = tmp_path / "people.csv"
    with people.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "external_id", "name"])
        writer.writerows([email, "", f"Person {i}"] for i, email in enumerate(emails[::2]))
    assert run_cli(config, "learners", "import", str(people)).code == 0

    page = write_report(config, tmp_path / "report.html")

    company = stats_json(config)
    assert_page_matches_stats(page, company)
    assert sum(s["learners_started"] for s in company) < sum(
        s["learners_started"] for s in everyone
    )
    kept = set(emails[::2])
    unmatched = {k for (k, e) in query(config, "SELECT learner_key, learner_email FROM progress")
                 if e not in kept}  # fmt: skip
    assert page.attrs_of("unmatched")["data-v"] == str(len(unmatched))
    shown = page.text_of("health")
    assert all(key in shown for key in sorted(unmatched)[:5])
    assert not any(email in shown for email in kept)


def test_the_headline_numbers_per_provider_are_the_databases(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    (as_of,) = query(
        night, "SELECT finished_at FROM sync_runs WHERE command = 'sync-stats' ORDER BY id DESC"
    )[0]
    assert page.attrs_of("as-of")["datetime"] == as_of
    stats = stats_json(night)
    for provider in ("coursera", "openclassrooms"):
        card = page.cards[provider]
        offered, archived = query(
            night,
            "SELECT count(*) FILTER (WHERE archived = 0), count(*) FILTER (WHERE archived = 1) "
            "FROM courses WHERE provider = ?",
            (provider,),
        )[0]
        (active,) = query(
            night,
            "SELECT count(DISTINCT learner_key) FROM progress WHERE provider = ? "
            "AND (completed = 1 OR progress_percent > 0)",
            (provider,),
        )[0]
        (minutes,) = query(
            night,
            "SELECT round(sum(coalesce(time_spent_minutes, 0)), 1) FROM progress "
            "WHERE provider = ?",
            (provider,),
        )[0]
        per_course = sum(s["time_spent_minutes"] for s in stats if s["provider"] == provider)
        assert abs(per_course - minutes) < 1  # stats' rows, each rounded, add up to it
        assert card["courses_offered"] == (str(offered), f"{offered:,}")
        assert card["courses_archived"] == (str(archived), f"{archived:,}")
        assert archived > 0 and offered > 0
        assert card["learners_active"] == (str(active), f"{active:,}")
        assert float(card["time_spent_minutes"][0]) == minutes
        assert card["time_spent_minutes"][1] == f"{minutes / 60:,.1f} h"


def _completions_between(config, provider, start, end) -> int:
    return query(
        config,
        "SELECT count(*) FROM progress WHERE provider = ? AND completed = 1 "
        "AND completed_at > ? AND completed_at <= ?",
        (provider, start, end),
    )[0][0]


def test_an_old_database_reads_as_of_its_last_run_not_as_of_today(night, copy_of, tmp_path):
    config = copy_of(night)
    (latest,) = query(config, "SELECT max(completed_at) FROM progress")[0]
    # As if the last run was the night after the simulator's latest completion.
    last_run = datetime.strptime(latest, "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=20)
    stamp = last_run.strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(config.parent / "lo-sync.db") as conn:
        conn.execute("UPDATE sync_runs SET started_at = ?, finished_at = ?", (stamp, stamp))
    conn.close()

    page = write_report(config, tmp_path / "report.html")

    assert page.attrs_of("as-of")["datetime"] == stamp
    assert "the end of the last sync-stats run" in page.text_of("as-of-line")
    for provider in ("coursera", "openclassrooms"):
        card = page.cards[provider]
        for days in (7, 30):
            start = (last_run - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            expected = _completions_between(config, provider, start, stamp)
            assert card[f"completed_{days}_days"][0] == str(expected)
        assert int(card["completed_7_days"][0]) <= int(card["completed_30_days"][0])
    assert int(page.cards["coursera"]["completed_30_days"][0]) > 0
    assert datetime.now(UTC).year > last_run.year  # the clock would have shown 0 everywhere


def test_a_provider_title_is_shown_as_text_never_run(night, tmp_path):
    path = tmp_path / "report.html"
    page = write_report(night, path)
    text = path.read_text(encoding="utf-8")

    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert len(page.scripts) == 2  # ours, inline: the one that marks the page, the table's
    assert all(attrs == {} and "alert" not in code for attrs, code in page.scripts)
    assert not [tag for tag, _ in page.tags if tag == "img"]
    titles = [r["title"].text.strip() for r in page.table("courses").records()]
    assert HOSTILE in titles
    assert HOSTILE in "".join(page.svg_text["chart-courses"])


def test_the_page_loads_nothing_and_says_so_in_its_policy(night, tmp_path):
    path = tmp_path / "report.html"
    page = write_report(night, path)

    (policy,) = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert policy == {"http-equiv": "Content-Security-Policy", "content": CSP}
    assert "default-src 'none'" in CSP and "http" not in CSP
    loading = {"src", "href", "srcset", "action", "data", "poster", "xlink:href"}
    assert [(t, a) for t, a in page.tags if loading & set(a)] == []
    assert [t for t, _ in page.tags if t in ("link", "iframe", "object", "embed", "img")] == []
    text = path.read_text(encoding="utf-8")
    style = text[text.index("<style>") : text.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_the_charts_are_inline_svg_with_a_bar_per_month_and_per_top_course(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    first, last = query(
        night, "SELECT min(completed_at), max(completed_at) FROM progress WHERE completed = 1"
    )[0]
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1
    assert span > 24  # the simulator's completions cover more than the chart shows
    assert page.svgs["chart-completions"]["rect"] == 24
    year, month = divmod(int(last[:4]) * 12 + int(last[5:7]) - 1 - 23, 12)
    month += 1  # the first of the 24 months shown
    (earlier,) = query(
        night,
        "SELECT count(*) FROM progress WHERE completed = 1 AND completed_at < ?",
        (f"{year:04d}-{month:02d}",),
    )[0]
    assert f"and {earlier:,} completions in earlier months" in page.text_of("charts")
    top = [r for r in page.table("courses").records() if r["learners_started"].text != "0"]
    # Two bars a course: started behind, completed over it.
    assert page.svgs["chart-courses"]["rect"] == 2 * min(10, len(top))


def test_the_last_run_of_each_command_is_listed_with_its_outcome(night, tmp_path):
    page = write_report(night, tmp_path / "report.html")

    runs = page.table("runs")
    shown = {(r[0].text, r[1].text): r[3].text for r in runs.rows}
    expected = query(
        night,
        "SELECT command, provider, status FROM sync_runs WHERE id IN "
        "(SELECT max(id) FROM sync_runs GROUP BY command, provider)",
    )
    assert shown == {(c, p): s for c, p, s in expected}
    assert len(shown) == 6
