"""The dashboard's two charts as inline SVG, written by hand: no library, no network.

Each chart draws in its own coordinates (`viewBox`) and scales to the width it is given,
so the same markup reads on a desktop and on a phone. Every text is escaped here.
"""

from __future__ import annotations

from html import escape

WIDTH = 520
MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def completions_chart(months: list[tuple[str, int]]) -> str:
    """Completions per month, as columns with a light scale behind them."""
    if not months:
        return '<p class="none">No completion recorded yet.</p>'
    height, left, bottom, top = 240, 36, 28, 14
    plot_w, plot_h = WIDTH - left - 8, height - bottom - top
    peak = max(n for _, n in months) or 1
    step = _nice_step(peak)
    scale_top = -(-peak // step) * step
    slot = plot_w / len(months)
    parts = []
    for tick in range(0, scale_top + 1, step):
        y = top + plot_h - plot_h * tick / scale_top
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{tick:,}</text>'
        )
    every = max(1, -(-len(months) // 6))  # at most six month labels: they fit on a phone
    for i, (month, count) in enumerate(months):
        bar_h = plot_h * count / scale_top
        x = left + i * slot + slot * 0.15
        label = _month_label(month)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_h:.1f}" class="bar"><title>{label}: {count:,} completions</title></rect>'
        )
        if (len(months) - 1 - i) % every == 0:  # the latest month always has its label
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" class="axis" '
                f'text-anchor="middle">{label}</text>'
            )
    total = sum(n for _, n in months)
    summary = (
        f"Completions per month, {_month_label(months[0][0])} to "
        f"{_month_label(months[-1][0])}: {total:,} in all"
    )
    return _svg("chart-completions", height, summary, parts)


def top_courses_chart(courses: list[dict]) -> str:
    """The most-followed courses, one labelled horizontal bar each."""
    if not courses:
        return '<p class="none">No learner has started a course yet.</p>'
    row, bar = 40, 14
    height = row * len(courses) + 4
    peak = max(c["learners_started"] for c in courses) or 1
    parts = []
    for i, course in enumerate(courses):
        y = i * row
        started, completed = course["learners_started"], course["learners_completed"] or 0
        title = course["title"] or course["course"]
        label = escape(title if len(title) <= 60 else title[:59] + "…")
        full = (WIDTH - 60) * started / peak
        done = (WIDTH - 60) * min(completed, started) / peak
        parts.append(
            f'<text x="0" y="{y + 15}" class="label">{label}</text>'
            f'<rect x="0" y="{y + 21}" width="{full:.1f}" height="{bar}" class="bar light">'
            f"<title>{escape(title)}: {started:,} started, {completed:,} completed</title></rect>"
            f'<rect x="0" y="{y + 21}" width="{done:.1f}" height="{bar}" class="bar"/>'
            f'<text x="{full + 6:.1f}" y="{y + 33}" class="value">{started:,}</text>'
        )
    summary = f"The {len(courses)} most-followed courses by learners started"
    return _svg("chart-courses", height, summary, parts)


def _svg(ident: str, height: int, summary: str, parts: list[str]) -> str:
    return (
        f'<svg id="{ident}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(summary)}">'
        f"<title>{escape(summary)}</title>{''.join(parts)}</svg>"
    )


def _month_label(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[2:4]}"


def _nice_step(peak: int) -> int:
    """A round step that puts three to five lines under `peak`."""
    step = 1
    while peak / step > 5:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if peak / step <= 5:
                break
    return step
