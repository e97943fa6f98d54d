"""Where each learner of a program session stands: courses completed out of the
session's N, progress over the N (a course never started counts 0), time spent, and
the next course to take with its START link, the first of the session's order the
provider does not report completed. A learner carries on the session from there."""

from __future__ import annotations

from lo_sync.errors import InputError
from lo_sync.store import Store


def session_rows(store: Store, name: str) -> list[dict]:
    """One row per learner of the session: its cohort, or without one everyone the
    providers report started on one of its courses. An unknown name is an InputError."""
    session = store.sessions.get(name)
    if session is None:
        known = sorted(store.sessions.all())
        hint = f" (sessions: {', '.join(known[:10])})" if known else " (none imported yet)"
        raise InputError(f"no program session {name!r}{hint}")
    courses = store.sessions.course_links(name)
    if session.cohort:
        found = store.sessions.cohort_progress(name)
        learners = list(session.cohort)
    else:
        found = store.sessions.activity_progress(name)
        # Enrolled is not started: a row at 0 % not completed is not yet activity.
        learners = sorted(
            {r["learner"] for r in found if r["completed"] or (r["progress_percent"] or 0) > 0}
        )
    by_learner: dict[str, dict[int, dict]] = {}
    for row in found:
        by_learner.setdefault(row["learner"], {})[row["position"]] = row
    names = store.sessions.learner_names()
    return [_row(learner, by_learner.get(learner, {}), courses, names) for learner in learners]


def learner_sessions(store: Store, email: str | None) -> list[dict]:
    """Where the learner with this e-mail stands in each program session that counts
    them (its cohort, or without one their activity on its courses), as `session_rows`
    says it, with the session's name first."""
    if not email:
        return []
    found = []
    for name in sorted(store.sessions.all()):
        for row in session_rows(store, name):
            if row["learner"] == email:
                found.append({"session": name, **{k: v for k, v in row.items() if k != "learner"}})
    return found


def _row(learner: str, rows: dict[int, dict], courses: list[dict], names: dict) -> dict:
    total = len(courses)
    done = [bool(rows.get(c["position"], {}).get("completed")) for c in courses]
    # A completed course counts 100 even where a kept regression left its progress lower.
    progress = [
        100.0 if finished else float(rows.get(c["position"], {}).get("progress_percent") or 0)
        for c, finished in zip(courses, done, strict=True)
    ]
    nxt = next((c for c, finished in zip(courses, done, strict=True) if not finished), None)
    seen = [r for r in rows.values()]
    name = names.get(learner) or next((r["learner_name"] for r in seen if r["learner_name"]), None)
    return {
        "learner": learner,
        "name": name,
        "completed": sum(done),
        "courses": total,
        "progress_percent": round(sum(progress) / total, 1) if total else 0.0,
        "time_spent_minutes": round(float(sum(r["time_spent_minutes"] or 0 for r in seen)), 1),
        "last_activity_at": max(
            (r["last_activity_at"] for r in seen if r["last_activity_at"]), default=None
        ),  # fmt: skip
        "next_provider": nxt["provider"] if nxt else None,
        "next_course": nxt["external_id"] if nxt else None,
        "next_title": nxt["title"] if nxt else None,
        "next_url": nxt["url"] if nxt else None,
    }
