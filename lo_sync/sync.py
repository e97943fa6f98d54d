"""Plan, then apply: the three nightly commands, one provider at a time.

Each plan stages a whole fetch and computes the diff against what is stored;
each apply writes that diff, together with its run record, in one transaction.
A dry run plans only. jobs.py decides which of them runs for each provider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lo_sync.config import ProviderConfig
from lo_sync.errors import DataError, InputError, LoSyncError, SafetyAbort
from lo_sync.fetch import Fetch, KnownRows, mapped_pages
from lo_sync.fetch.findings import SET_ASIDE, Findings, top_reasons
from lo_sync.limits import MostAllowed, first_of
from lo_sync.providers import NOT_READ, PROVIDERS
from lo_sync.store import PROGRESS_FIELDS, CatalogDiff, ProgressDiff, Store, utc_now
from lo_sync.store.progress import Change
from lo_sync.wording import change_text, drift_notes, findings_notes, plural

log = logging.getLogger("lo_sync.sync")

# More bad records than this share of a fetch means the provider is broken,
# not that a few records are: fail the fetch instead of storing the rest.
REJECT_THRESHOLD = 0.05
# Set-aside records kept whole as evidence in rejected_records, per fetch; past it
# they are still counted, by reason, but a broken provider does not fill the disk.
MAX_REJECTED_KEPT = 10_000
DEFAULT_MAX_ARCHIVE = "10%"
SAMPLE = 10
# Sessions named by an archive, one line each: enough to act on, never a flood in
# the cron mail or the run record.
SESSION_WARNINGS = 20

PageCallback = Callable[[int], None]


@dataclass
class Plan:
    """What one command would do (or did) for one provider."""

    command: str
    provider: str
    counts: dict[str, int]
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (action, id, detail)
    notes: list[str] = field(default_factory=list)
    rejected: list[tuple[str, Any]] = field(default_factory=list)  # kept as evidence
    findings: Findings = field(default_factory=Findings)
    drift: list[tuple] = field(default_factory=list)  # new tonight (store.drift entries)
    refusal: SafetyAbort | None = None
    more_changes: int = 0  # changes not listed (stats samples)
    warnings: list[str] = field(default_factory=list)  # printed on every run, dry or not
    payload: Any = None  # what apply writes: the diff (archive: the lists)


class TooManySetAside(DataError):
    """Too large a share of a fetch cannot be stored: the provider is broken, not a few
    records. Carries the findings and records, so the failed run keeps them."""

    def __init__(self, message: str, kind: str, findings: Findings, rejected: list):
        super().__init__(message)
        self.kind = kind  # of the fetch: 'courses' or 'stats'
        self.findings = findings
        self.rejected = rejected


def _stage_fetch(
    pcfg: ProviderConfig,
    kind: str,
    pages: Fetch | Iterable[list[dict]],
    stage: Callable[[list[tuple]], None],
    on_page: PageCallback | None,
    known: KnownRows | None = None,
) -> tuple[list[tuple[str, Any]], Findings]:
    """Stage every page's rows, page by page; returns the records set aside (the first
    MAX_REJECTED_KEPT of them, with their reason) and every finding, counted by reason.

    More than REJECT_THRESHOLD of the fetch set aside fails it, with the top reasons.
    """
    rejected: list[tuple[str, Any]] = []
    findings = Findings()
    seen = 0
    for page in mapped_pages(pcfg, kind, pages, known):
        stage(page.rows)
        if page.rejected and len(rejected) < MAX_REJECTED_KEPT:
            rejected.extend(page.rejected[: MAX_REJECTED_KEPT - len(rejected)])
        findings.merge(page.findings)
        seen += page.count
        if on_page:
            on_page(seen)
    set_aside = findings.total(SET_ASIDE)
    if seen and set_aside / seen > REJECT_THRESHOLD:
        what = "course" if kind == "courses" else "statistics"
        raise TooManySetAside(
            f"{pcfg.name}: {set_aside:,} of {seen:,} {what} records cannot be stored "
            f"(more than {REJECT_THRESHOLD:.0%}): {top_reasons(findings.reasons(SET_ASIDE))}; "
            "nothing applied. They are kept in rejected_records with this failed run",
            kind,
            findings,
            rejected,
        )
    return rejected, findings


# How rejected_records and data_drift name each kind of record.
RECORD_KINDS = {"courses": "course", "stats": "progress"}


def _with_findings(plan: Plan, store: Store, findings: Findings, kind: str) -> None:
    """Give the plan its findings, what is new tonight, and a note for each."""
    plan.findings = findings
    plan.drift = store.drift.unseen(plan.provider, RECORD_KINDS[kind], findings.drift())
    # Counted only when there is something to count: most nights there is not.
    if findings.total(NOT_READ):
        plan.counts["not_read"] = findings.total(NOT_READ)
    if plan.drift:
        plan.counts["new_in_data"] = len(plan.drift)
    plan.notes.extend(findings_notes(findings)[:SAMPLE])
    plan.notes.extend(drift_notes(plan.drift)[:SAMPLE])


# --- sync-catalog ------------------------------------------------------------------------------


def plan_catalog(
    store: Store,
    pcfg: ProviderConfig,
    pages: Fetch | Iterable[list[dict]],
    on_page: PageCallback | None = None,
) -> Plan:
    """Stage a whole catalog fetch and diff it against the stored courses."""
    provider = PROVIDERS[pcfg.name]
    with store.catalog.stage(pcfg.name) as stage:

        def add(rows: list[tuple]) -> None:
            duplicates = stage.add(rows)
            if duplicates:
                raise DataError(
                    f"{pcfg.name}: course {duplicates[0]} came back on two pages; the listing "
                    "shifted while paging, so others may have been skipped. Nothing applied"
                )

        rejected, findings = _stage_fetch(pcfg, "courses", pages, add, on_page)
        listed = (provider.course_id(raw) for _, raw in rejected)
        stage.mark_listed(external_id for external_id in listed if external_id is not None)
        diff = stage.finish()

    counts = {**diff.counts, "rejected": findings.total(SET_ASIDE)}
    plan = Plan("sync-catalog", pcfg.name, counts, rejected=rejected, payload=diff)
    for row in diff.created():
        plan.changes.append(("create", row["external_id"], row["title"]))
    for external_id, fields in diff.updated():
        detail = "; ".join(f"{f}: {change_text(old, new)}" for f, (old, new) in fields.items())
        plan.changes.append(("update", external_id, detail))
    for row in diff.missing():
        plan.changes.append(("missing", row["external_id"], row["title"]))
    for row in diff.returned():
        plan.changes.append(("returned", row["external_id"], row["title"]))
    _with_findings(plan, store, findings, "courses")
    return plan


def apply_catalog(store: Store, pcfg: ProviderConfig, plan: Plan, started_at: str) -> int:
    diff: CatalogDiff = plan.payload
    with store.transaction():
        run_id = store.runs.insert(
            "sync-catalog", pcfg.name, started_at, "ok", plan.counts, _notes(plan)
        )
        diff.apply(run_id, pcfg.group, utc_now())
        _record_findings(store, pcfg.name, "courses", run_id, plan.rejected, plan.findings)
    return run_id


def _record_findings(
    store: Store, provider: str, kind: str, run_id: int, rejected: list, findings: Findings
) -> None:
    """Keep a run's set-aside records and its drift, in the caller's transaction."""
    store.runs.insert_rejected(run_id, provider, RECORD_KINDS[kind], rejected)
    store.drift.record(provider, RECORD_KINDS[kind], run_id, utc_now(), findings.drift())


def record_set_aside(store: Store, provider: str, run_id: int, error: TooManySetAside) -> None:
    """Keep what a fetch that failed for too many set-aside records set aside, beside its
    failed run record: the operator reads the reasons the next morning."""
    _record_findings(store, provider, error.kind, run_id, error.rejected, error.findings)


# --- archive -----------------------------------------------------------------------------------


def parse_max_archive(text: str) -> MostAllowed:
    """'15': at most 15 courses; '10%': at most 10% of the active ones."""
    try:
        return MostAllowed.parse("--max-archive", text)
    except ValueError as problem:
        raise InputError(str(problem)) from None


def plan_archive(
    store: Store, pcfg: ProviderConfig, max_archive: str = DEFAULT_MAX_ARCHIVE, force: bool = False
) -> Plan:
    provider = PROVIDERS[pcfg.name]
    latest = store.runs.latest("sync-catalog", pcfg.name)
    if latest is None:
        raise SafetyAbort(
            f"{pcfg.name}: no catalog sync has run yet; archive acts only on a complete "
            "fetch, so run sync-catalog first"
        )
    if latest["status"] != "ok":
        raise SafetyAbort(
            f"{pcfg.name}: the latest sync-catalog (run {latest['id']}, {latest['started_at']}) "
            "did not complete; archive acts only on a complete fetch. Fix it and rerun sync-catalog"
        )
    to_archive, to_restore, active = store.archive.candidates(pcfg.name, provider.active_statuses)
    counts = {"archived": len(to_archive), "restored": len(to_restore)}
    plan = Plan("archive", pcfg.name, counts, payload=(to_archive, to_restore))
    plan.changes = [("archive", ext, f"{title} ({reason})") for ext, title, reason, _ in to_archive]
    plan.changes += [("restore", ext, title) for ext, title in to_restore]
    # Said before learners find out: a session still running points them at this course.
    titles = {ext: title for ext, title, *_ in to_archive}
    held = [
        f'archive: course {ext} ({titles[ext]}) is in {when} session "{name}"'
        for ext, name, when in store.sessions.holding(pcfg.name, titles, utc_now()[:10])
    ]
    plan.warnings, more = first_of(held, SESSION_WARNINGS)
    if more:
        plan.warnings.append(
            f"archive: and {more} more times a course archived here "
            "is in an open or upcoming session (not listed)"
        )
    bound = parse_max_archive(max_archive)
    limit = bound.of(active)
    # The guard protects what learners were offered; a course that never had an
    # offered status (most of them on the first night) does not count against it.
    guarded = sum(1 for *_, ever_offered in to_archive if ever_offered)
    if not force and guarded > limit:
        plan.refusal = SafetyAbort(
            f"{pcfg.name}: would archive {guarded} of {active} active courses, above the "
            f"limit ({bound.said(active, ' active courses')}); nothing archived. Check the "
            f"catalog, then rerun with --max-archive {guarded} or --force"
        )
    return plan


def apply_archive(store: Store, pcfg: ProviderConfig, plan: Plan, started_at: str) -> int:
    with store.transaction():
        message = "\n".join(plan.warnings) or None
        run_id = store.runs.insert("archive", pcfg.name, started_at, "ok", plan.counts, message)
        store.archive.apply(pcfg.name, run_id, utc_now(), *plan.payload)
    return run_id


# --- sync-stats --------------------------------------------------------------------------------


def merge_progress(stored: dict, fetched: dict, accept_regressions: bool):
    """What to store when a provider reports new values for a progress row.

    Returns (merged row, {field: (old, new)} to record, regression kind, the fields
    the provider lowered) where the kind is 0 (none), 1 (provider reported less; the
    row keeps what it had) or 2 (provider reported less and the operator accepted
    it). A completion never silently disappears: without --accept-regressions,
    completed, completed_at and progress never go down. The rest of the row (score,
    time spent, last activity...) follows the provider either way, so only the
    lowered fields carry the regression kind in the history.
    """
    # A progress the provider no longer reports (null) is less than one it reported.
    lowered = {
        f
        for f in ("completed", "progress_percent")
        if stored[f] is not None and (fetched[f] is None or fetched[f] < stored[f])
    }
    if "completed" in lowered and fetched["completed_at"] != stored["completed_at"]:
        lowered.add("completed_at")
    merged = {**fetched, "regression": 0}
    kind = 0
    if lowered and accept_regressions:
        kind = 2
    elif lowered:
        kind = 1
        merged["regression"] = 1
        if "completed" in lowered:
            merged["completed"] = 1
            merged["completed_at"] = stored["completed_at"]
        merged["progress_percent"] = max(
            stored["progress_percent"], fetched["progress_percent"] or 0.0
        )
    changes = {
        f: (stored[f], merged[f])
        for f in (*PROGRESS_FIELDS, "regression")
        if stored[f] != merged[f]
    }
    if kind == 1 and not stored["regression"]:
        # Record what the provider claimed, once, so the drop is on file.
        for f in lowered:
            changes[f] = (stored[f], fetched[f])
    elif kind == 1:
        kind = 0  # already on file from an earlier run; nothing new to count
        lowered = set()
    return merged, changes, kind, frozenset(lowered)


def _progress_changes(diff: ProgressDiff, accept: bool) -> Iterator[Change]:
    """The rows of the diff that change once merged, as `ProgressDiff.apply` takes them."""
    for stored, fetched in diff.differing():
        merged, changes, kind, lowered = merge_progress(stored, fetched, accept)
        if changes:
            yield merged, changes, kind, lowered


def plan_stats(
    store: Store,
    pcfg: ProviderConfig,
    pages: Fetch | Iterable[list[dict]],
    *,
    accept_regressions: bool = False,
    force: bool = False,
    on_page: PageCallback | None = None,
) -> Plan:
    """Stage a whole statistics fetch and diff it against the stored progress rows."""
    with store.progress.stage(pcfg.name) as stage:
        known = KnownRows(stage.stored_fingerprints())
        rejected, findings = _stage_fetch(pcfg, "stats", pages, stage.add, on_page, known)
        diff = stage.finish(known)

    counts = dict(diff.counts)
    plan = Plan("sync-stats", pcfg.name, counts, rejected=rejected, payload=diff)
    updated = regressions = 0
    for merged, changes, kind, _ in _progress_changes(diff, accept_regressions):
        updated += 1
        regressions += kind != 0
        who = f"{merged['course_external_id']} / {merged['learner_key']}"
        detail = "; ".join(f"{f}: {change_text(o, n)}" for f, (o, n) in changes.items())
        if kind and len(plan.notes) < SAMPLE:
            verb = "accepted" if kind == 2 else "kept the stored values"
            plan.notes.append(f"regression {who}: provider reports less ({verb}): {detail}")
        if len(plan.changes) < SAMPLE:
            plan.changes.append(("update", who, detail))
        else:
            plan.more_changes += 1
    counts.update(
        updated=updated,
        regressions=regressions,
        rejected=findings.total(SET_ASIDE),
        unchanged=counts["fetched"] - counts["created"] - updated,
    )
    for row in diff.created_sample(SAMPLE):
        progress = row["progress_percent"]
        plan.changes.append(
            (
                "create",
                f"{row['course_external_id']} / {row['learner_key']}",
                ("progress not reported" if progress is None else f"progress {progress:g}%")
                + (", completed" if row["completed"] else ""),
            )
        )
    plan.more_changes += max(0, counts["created"] - SAMPLE)

    unmatched, unmatched_sample, ambiguous, ambiguous_sample = diff.unmatched_learners(5)
    missing_courses, missing_sample = diff.courses_not_in_catalog(
        5, PROVIDERS[pcfg.name].non_catalog_types
    )
    counts.update(unmatched=unmatched, ambiguous=ambiguous, not_in_catalog=missing_courses)
    if unmatched:
        plan.notes.append(
            f"{plural(unmatched, 'row')} {'matches' if unmatched == 1 else 'match'} no learner, "
            f"e.g. {', '.join(unmatched_sample)}"
        )
    if ambiguous:
        plan.notes.append(
            f"{plural(ambiguous, 'row')} {'matches' if ambiguous == 1 else 'match'} more than "
            "one learner and linked to none: " + ", ".join(ambiguous_sample)
        )
    if missing_courses:
        plan.notes.append(_not_in_catalog(store, pcfg.name, missing_courses, missing_sample))
    _with_findings(plan, store, findings, "stats")

    previous = store.runs.latest_successful("sync-stats", pcfg.name)
    if (
        previous
        and previous["fetched"]
        and counts["fetched"] < previous["fetched"] / 2
        and not force
    ):
        plan.refusal = SafetyAbort(
            f"{pcfg.name}: the provider returned {counts['fetched']} statistics rows against "
            f"{previous['fetched']} last time (run {previous['id']}); refusing to apply a drop of "
            "more than half. If it is real, rerun with --force"
        )
    return plan


def apply_stats(
    store: Store,
    pcfg: ProviderConfig,
    plan: Plan,
    started_at: str,
    accept_regressions: bool = False,
) -> int:
    diff: ProgressDiff = plan.payload
    with store.transaction():
        run_id = store.runs.insert(
            "sync-stats", pcfg.name, started_at, "ok", plan.counts, _notes(plan)
        )
        diff.apply(run_id, utc_now(), _progress_changes(diff, accept_regressions))
        _record_findings(store, pcfg.name, "stats", run_id, plan.rejected, plan.findings)
    return run_id


@dataclass
class Outcome:
    """What running one command for one provider came to."""

    provider: str
    plan: Plan | None = None
    error: LoSyncError | None = None
    run_id: int | None = None


def _notes(plan: Plan) -> str | None:
    """Under cron only a summary line is printed; the examples behind it stay in the run record."""
    return "\n".join(plan.notes) or None


def _not_in_catalog(store: Store, provider: str, count: int, sample: list[str]) -> str:
    courses = plural(count, "course")
    latest = store.runs.latest("sync-catalog", provider)
    if latest is not None and latest["status"] == "ok":
        # The catalog is as fresh as it gets: rerunning it would not help.
        return (
            f"{courses} with statistics {'is' if count == 1 else 'are'} not in the {provider} "
            f"catalog (its latest sync-catalog, run {latest['id']}, did not list "
            f"{'it' if count == 1 else 'them'}): " + ", ".join(sample)
        )
    return (
        f"{courses} {'is' if count == 1 else 'are'} not in the catalog yet "
        "(run sync-catalog): " + ", ".join(sample)
    )
