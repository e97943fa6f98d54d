"""The dashboard page: one self-contained HTML file, headline numbers first, then charts,
then every course in a plain table that a little inline script makes sortable.

Nothing is loaded from anywhere: styles and script are inline, charts are inline SVG,
and the Content-Security-Policy forbids any other load, so the file reads the same
from a disk, a share or an e-mail attachment. Every provider text is escaped.

The course table is the bulk of the file (20,000 courses are 20,000 rows), so a row
is kept short: optional end tags are left out, and a cell carries its raw value
(`data-v`) only where the text shown differs from it.
"""

from __future__ import annotations

from html import escape

from lo_sync.dashboard.assets import HEAD_SCRIPT, SCRIPT, STYLE
from lo_sync.dashboard.charts import MONTH_NAMES, completions_chart, top_courses_chart
from lo_sync.dashboard.figures import Figures

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
TITLE_LENGTH = 200  # a provider title is cut here in the table (the catalog keeps it whole)
MESSAGE_LENGTH = 240
# (key, heading, numeric): the course table's columns, in order
COLUMNS = (
    ("title", "Course", False),
    ("provider", "Provider", False),
    ("learners_enrolled", "Enrolled", True),
    ("learners_started", "Started", True),
    ("learners_completed", "Completed", True),
    ("completion_rate_percent", "Rate %", True),
    ("average_progress_percent", "Progress %", True),
    ("average_score_percent", "Score %", True),
    ("time_spent_minutes", "Time (h)", True),
)
HINTS = {
    "title": "the course's title, and its id at the provider",
    "learners_started": "completed, or above 0 % progress",
    "completion_rate_percent": "completed, of those who started",
    "average_progress_percent": "average progress over every enrollment",
    "average_score_percent": "average score over the learners who have one",
    "time_spent_minutes": "total time spent, in hours",
}
SORTED_BY = "learners_started"  # the order the store returns courses in
_SORTED = ' aria-sort="descending"'
PROVIDER_NAMES = {"coursera": "Coursera", "openclassrooms": "OpenClassrooms"}


def render(figures: Figures) -> str:
    as_of = _when(figures.as_of)
    who = (
        "Only the company's people count (learners imported)."
        if figures.company_only
        else "Every learner the providers report counts (no learners imported yet)."
    )
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>Learning dashboard, {escape(figures.as_of[:10])}</title>"
            f"<script>{HEAD_SCRIPT}</script><style>{STYLE}</style></head>\n<body><main>"
            '<header><h1>Learning dashboard</h1><p class="asof" id="as-of-line">Figures as of '
            f'<time id="as-of" datetime="{escape(figures.as_of)}">{as_of}</time> '
            f"({escape(figures.as_of_source)}). {who} "
            f"Written {_when(figures.written_at)}.</p></header>\n",
            _headline(figures),
            '<section class="charts" id="charts">',
            "<figure><figcaption>Completions per month</figcaption>",
            completions_chart(figures.months),
            _before(figures.completions_before),
            "</figure><figure><figcaption>Most-followed courses "
            '<span class="key"><i class="swatch light"></i>started '
            '<i class="swatch"></i>completed</span></figcaption>',
            top_courses_chart(figures.top_courses),
            "</figure></section>\n",
            _course_table(figures.courses),
            _health(figures),
            f"</main><script>{SCRIPT}</script></body></html>\n",
        ]
    )


def _headline(figures: Figures) -> str:
    cards = []
    for p in figures.providers:
        name = PROVIDER_NAMES.get(p["provider"], p["provider"])
        figures_dl = "".join(
            f'<div><dt>{label}</dt><dd data-key="{key}" data-v="{p[key]}">{shown}</dd></div>'
            for key, label, shown in (
                ("courses_offered", "Courses offered", f"{p['courses_offered']:,}"),
                ("courses_archived", "Archived", f"{p['courses_archived']:,}"),
                ("learners_active", "Learners with activity", f"{p['learners_active']:,}"),
                ("time_spent_minutes", "Time spent", _hours(p["time_spent_minutes"]) + " h"),
                ("completed_7_days", "Completions, last 7 days", f"{p['completed_7_days']:,}"),
                ("completed_30_days", "Completions, last 30 days", f"{p['completed_30_days']:,}"),
            )
        )
        last = p["last_completion"]
        figures_dl += (
            f'<div class="wide"><dt>Last completion</dt><dd data-key="last_completion" '
            f'data-v="{escape(last or "")}">{_day(last) if last else "none yet"}</dd></div>'
        )
        cards.append(
            f'<article class="card" data-provider="{escape(p["provider"])}">'
            f"<h2>{escape(name)}</h2><dl>{figures_dl}</dl></article>"
        )
    if not cards:
        cards.append('<p class="none">No provider has been synced yet.</p>')
    return f'<section class="cards" id="providers">{"".join(cards)}</section>\n'


def _before(count: int) -> str:
    if not count:
        return ""
    return f'<p class="note">and {count:,} completions in earlier months</p>'


def _course_table(courses: list[dict]) -> str:
    heads = "".join(
        f'<th data-key="{key}"{" data-num" if numeric else ""}'
        f'{_SORTED if key == SORTED_BY else ""} title="{HINTS.get(key, heading)}"'
        f' scope="col">{heading}</th>'
        for key, heading, numeric in COLUMNS
    )
    rows = "\n".join(_course_row(c) for c in courses)
    body = rows or f'<tr><td colspan="{len(COLUMNS)}">No statistics synced yet.'
    return (
        '<section id="courses-section"><h2>Courses</h2>'
        f'<p class="note">{len(courses):,} courses with learner statistics. '
        "Started: completed or above 0 % progress; completion rate: completed of started; "
        "average progress over every enrollment; average score over those scored.</p>"
        '<div class="controls" id="controls" hidden><label>Filter <input id="filter" '
        'type="search" placeholder="title, id or provider"></label>'
        '<span id="shown" aria-live="polite"></span>'
        '<button id="more" type="button" hidden></button></div>'
        '<p class="note narrow">Swipe the table sideways for every column.</p>'
        f'<div class="scroll"><table id="courses"><thead><tr>{heads}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div></section>\n"
    )


def _course_row(c: dict) -> str:
    title = c["title"]
    ident = f"<small>{escape(c['course'])}</small>"
    if title is None:
        title_cell = f'<td><i class="missing">(not in the catalog)</i>{ident}'
    else:
        cut = title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"
        archived = ' <span class="tag">archived</span>' if c["archived"] else ""
        title_cell = f"<td>{escape(cut)}{archived}{ident}"
    minutes = c["time_spent_minutes"]
    provider = PROVIDER_NAMES.get(c["provider"], c["provider"])
    return (
        f"<tr>{title_cell}<td>{escape(provider)}"
        f"<td>{_count(c['learners_enrolled'])}<td>{_count(c['learners_started'])}"
        f"<td>{_count(c['learners_completed'])}<td>{_number(c['completion_rate_percent'])}"
        f"<td>{_number(c['average_progress_percent'])}<td>{_number(c['average_score_percent'])}"
        f'<td data-v="{minutes if minutes is not None else ""}">{_hours(minutes)}'
    )


def _health(figures: Figures) -> str:
    if not figures.company_only:
        unmatched = (
            "<p>No learners imported yet, so every learner the providers report is counted. "
            "<code>lo-sync learners import FILE.csv</code> keeps the figures to the "
            "company's people.</p>"
        )
    elif figures.unmatched:
        examples = "".join(f"<li>{escape(e)}</li>" for e in figures.unmatched_examples)
        more = figures.unmatched - len(figures.unmatched_examples)
        unmatched = (
            f'<p><strong id="unmatched" data-v="{figures.unmatched}">{figures.unmatched:,}'
            "</strong> learners the providers report match none of the company's people "
            "and are left out of the figures above, for example:</p>"
            f'<ul class="examples">{examples}</ul>'
            + (f"<p class='note'>and {more:,} more</p>" if more > 0 else "")
        )
    else:
        unmatched = '<p id="unmatched" data-v="0">Every learner the providers report matches '
        unmatched += "one of the company's people.</p>"
    runs = "".join(
        f'<tr class="{escape(r["status"])}"><td>{escape(r["command"])}<td>'
        f"{escape(r['provider'])}<td>{_when(r['finished_at'])}<td>"
        f'<span class="status">{escape(r["status"])}</span><td>{_message(r["message"])}'
        for r in figures.runs
    )
    runs = runs or '<tr><td colspan="5">No run recorded yet.'
    return (
        '<section id="health"><h2>Learners not matched</h2>'
        f"{unmatched}<h2>Last runs</h2>"
        '<div class="scroll"><table id="runs"><thead><tr><th scope="col">Command'
        '<th scope="col">Provider<th scope="col">Finished<th scope="col">Outcome'
        f'<th scope="col">Details</thead><tbody>{runs}</tbody></table></div></section>\n'
    )


def _message(text: str | None) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return escape(text if len(text) <= MESSAGE_LENGTH else text[: MESSAGE_LENGTH - 1] + "…")


def _when(iso: str | None) -> str:
    """'2 Dec 2026, 16:09 UTC' from a stored timestamp."""
    if not iso or len(iso) < 16:
        return escape(iso or "")
    months = MONTH_NAMES
    try:
        return f"{int(iso[8:10])} {months[int(iso[5:7]) - 1]} {iso[:4]}, {iso[11:16]} UTC"
    except (ValueError, IndexError):
        return escape(iso)


def _day(iso: str) -> str:
    """'4 Jun 2024' from a stored timestamp."""
    return _when(iso).partition(",")[0]


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _hours(minutes: float | None) -> str:
    return "–" if minutes is None else f"{minutes / 60:,.1f}"
