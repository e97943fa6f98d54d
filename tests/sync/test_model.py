"""Property tests: catalogs and statistics that evolve, checked against a model after every step.

Two hypothesis state machines run the sync layer in-process (no HTTP) on a real
SQLite file:

- `CatalogMachine`: OpenClassrooms courses are added, retitled, flip status,
  disappear and come back, and fetches fail part-way; `sync-catalog` and `archive`
  (forced, and with the 10% guard) run in between.
- `StatsMachine`: learners' progress goes up and down, completions are undone and
  learners vanish; `sync-stats` runs with and without `--accept-regressions` and
  `--force`.

After every step: the database equals the model; a dry run's plan (planned on a
read-only connection, as `--dry-run` does) equals the plan the following real run
applies, and what that run wrote matches it; applying the same fetch twice in a row
changes nothing the second time.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lo_sync import jobs, sync
from lo_sync.errors import DataError, LoSyncError, SafetyAbort
from lo_sync.providers.openclassrooms import OpenClassrooms
from lo_sync.store import Store
from tests.helpers.factories import oc_course, oc_progress, provider_config

ACTIVE_STATUSES = OpenClassrooms.active_statuses
OC = provider_config("openclassrooms")
STATUSES = ("active", "coming-soon", "pre-registration", "archived", "closed")
STARTED = "2026-11-23T03:00:00Z"

# Titles a provider may send: any text the contract allows (1 to 1,000 characters,
# not blank), including quotes, separators and non-Latin scripts. Surrogates cannot
# be stored as UTF-8 and never come out of a JSON decoder as a whole character.
titles = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda text: text.strip()
)


def pages_of(records: list[dict], size: int) -> list[list[dict]]:
    return [records[i : i + size] for i in range(0, len(records), size)] or [[]]


def failing(pages: list[list[dict]], how: str):
    """The pages as a fetch that breaks after the first one.

    'raise': the next page cannot be read (after retries the HTTP layer raises);
    'duplicate': the next page repeats the first page's last course, a listing that
    shifted while paging.
    """
    yield pages[0]
    if how == "duplicate" and len(pages) > 1 and pages[0]:
        yield [pages[0][-1], *pages[1]]
        yield from pages[2:]
    else:
        raise DataError("openclassrooms: page 2 could not be read after 4 attempts")


def rows(store: Store, sql: str, params: tuple = ()) -> list[tuple]:
    return store.conn.execute(sql, params).fetchall()


def plan_view(outcome_or_dry):
    """What a plan says, or the error planning ended with: a dry run's must equal the real's."""
    if isinstance(outcome_or_dry, sync.Outcome):
        outcome_or_dry = outcome_or_dry.plan or outcome_or_dry.error
    if isinstance(outcome_or_dry, Exception):
        return type(outcome_or_dry).__name__, str(outcome_or_dry)
    plan = outcome_or_dry
    return (plan.counts, plan.changes, plan.notes, str(plan.refusal) if plan.refusal else None)


class SyncMachine(RuleBasedStateMachine):
    """A database file of its own for each example."""

    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="lo-sync-model-"))
        self.path = self.folder / "lo-sync.db"
        self.store = Store.open(self.path)
        # Durability is not under test here; fsync at every commit would be most of the time.
        self.store.conn.execute("PRAGMA synchronous = OFF")

    def teardown(self):
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def dry_plan(self, make_plan):
        """Plan on a read-only connection, as --dry-run does; a raised error is returned."""
        readonly = Store.open(self.path, readonly=True)
        try:
            return make_plan(readonly)
        except LoSyncError as exc:
            return exc
        finally:
            readonly.close()

    def run(self, command: str, make_plan, apply) -> sync.Outcome:
        return jobs.run_provider(
            command,
            self.store,
            OC,
            dry_run=False,
            make_plan=lambda: make_plan(self.store),
            apply=lambda plan, started_at: apply(self.store, OC, plan, started_at),
        )

    def last_run(self):
        return rows(
            self.store, "SELECT id, command, status FROM sync_runs ORDER BY id DESC LIMIT 1"
        )[0]

    def snapshot(self, *tables: str):
        return {t: sorted(rows(self.store, f"SELECT * FROM {t}"), key=repr) for t in tables}


# --- catalog and archive -----------------------------------------------------------------------


class CatalogMachine(SyncMachine):
    def __init__(self):
        super().__init__()
        self.listed: dict[int, tuple[str, str]] = {}  # what OpenClassrooms lists now
        self.gone: dict[int, tuple[str, str]] = {}  # removed from the listing, may come back
        self.stored: dict[int, tuple[str, str]] = {}  # title, status of the last complete fetch
        self.missing: set[int] = set()  # stored, absent from the last complete fetch
        self.archived: dict[int, bool] = {}
        self.once_offered: set[int] = set()  # a logged status change touched an offered one
        self.catalog_ok: bool | None = None  # the latest sync-catalog: None = never ran
        self.next_id = 1

    # -- the provider's catalog changes

    @initialize(n=st.integers(0, 12), status=st.sampled_from(STATUSES))
    def first_catalog(self, n, status):
        for _ in range(n):
            self.listed[self.next_id] = (f"Cours {self.next_id}", status)
            self.next_id += 1

    @rule(title=titles, status=st.sampled_from(STATUSES))
    def add_course(self, title, status):
        self.listed[self.next_id] = (title, status)
        self.next_id += 1

    @precondition(lambda self: self.listed)
    @rule(data=st.data(), title=titles)
    def change_title(self, data, title):
        course = data.draw(st.sampled_from(sorted(self.listed)))
        self.listed[course] = (title, self.listed[course][1])

    @precondition(lambda self: self.listed)
    @rule(data=st.data(), status=st.sampled_from(STATUSES))
    def flip_status(self, data, status):
        course = data.draw(st.sampled_from(sorted(self.listed)))
        self.listed[course] = (self.listed[course][0], status)

    @precondition(lambda self: self.listed)
    @rule(data=st.data())
    def remove_course(self, data):
        course = data.draw(st.sampled_from(sorted(self.listed)))
        self.gone[course] = self.listed.pop(course)

    @precondition(lambda self: self.gone)
    @rule(data=st.data(), status=st.none() | st.sampled_from(STATUSES))
    def bring_back(self, data, status):
        course = data.draw(st.sampled_from(sorted(self.gone)))
        title, old_status = self.gone.pop(course)
        self.listed[course] = (title, status or old_status)

    # -- lo-sync runs

    def records(self, data) -> list[dict]:
        order = data.draw(st.permutations(sorted(self.listed)), label="listing order")
        return [oc_course(i, status=self.listed[i][1], title=self.listed[i][0]) for i in order]

    @rule(data=st.data(), page_size=st.integers(1, 6))
    def sync_catalog(self, data, page_size):
        pages = pages_of(self.records(data), page_size)
        dry = self.dry_plan(lambda store: sync.plan_catalog(store, OC, iter(pages)))

        outcome = self.run(
            "sync-catalog",
            lambda store: sync.plan_catalog(store, OC, iter(pages)),
            sync.apply_catalog,
        )

        assert outcome.error is None, outcome.error
        assert plan_view(dry) == plan_view(outcome)
        created = set(self.listed) - set(self.stored)
        updated = {
            i: [
                f
                for f, old, new in zip(
                    ("title", "status"), self.stored[i], self.listed[i], strict=True
                )
                if old != new
            ]
            for i in set(self.listed) & set(self.stored)
            if self.listed[i] != self.stored[i]
        }
        missing = set(self.stored) - set(self.listed) - self.missing
        returned = self.missing & set(self.listed)
        assert outcome.plan.counts == {
            "fetched": len(self.listed),
            "created": len(created),
            "updated": len(updated),
            "unchanged": len(self.listed) - len(created) - len(updated),
            "missing": len(missing),
            "returned": len(returned),
            "rejected": 0,
        }
        # What the run wrote is what the plan (and so the dry run) said.
        assert sorted(
            rows(
                self.store,
                "SELECT action, external_id, field FROM course_changes WHERE run_id = ?",
                (outcome.run_id,),
            ),
            key=repr,
        ) == sorted(
            [("created", str(i), None) for i in created]
            + [("updated", str(i), f) for i, fields in updated.items() for f in fields]
            + [("missing", str(i), None) for i in missing]
            + [("returned", str(i), None) for i in returned],
            key=repr,
        )

        for i in updated:
            old, new = self.stored[i][1], self.listed[i][1]
            if old != new and (old in ACTIVE_STATUSES or new in ACTIVE_STATUSES):
                self.once_offered.add(i)
        for i in created:
            self.archived[i] = False
        self.stored.update(self.listed)
        self.missing = set(self.stored) - set(self.listed)
        self.catalog_ok = True
        self.check_database()

        self.assert_applying_again_changes_nothing(
            lambda store: sync.plan_catalog(store, OC, iter(pages)),
            sync.apply_catalog,
            expected_counts={
                **outcome.plan.counts,
                "created": 0,
                "updated": 0,
                "unchanged": len(self.listed),
                "missing": 0,
                "returned": 0,
            },
        )

    @precondition(lambda self: self.listed)
    @rule(data=st.data(), page_size=st.integers(1, 6), how=st.sampled_from(["raise", "duplicate"]))
    def sync_catalog_fails_mid_fetch(self, data, page_size, how):
        pages = pages_of(self.records(data), page_size)
        before = self.snapshot("courses", "group_courses", "course_changes")
        dry = self.dry_plan(lambda store: sync.plan_catalog(store, OC, failing(pages, how)))

        outcome = self.run(
            "sync-catalog",
            lambda store: sync.plan_catalog(store, OC, failing(pages, how)),
            sync.apply_catalog,
        )

        assert isinstance(dry, DataError)
        assert isinstance(outcome.error, DataError) and outcome.run_id is None
        assert self.last_run()[1:] == ("sync-catalog", "failed")
        assert self.snapshot("courses", "group_courses", "course_changes") == before
        self.catalog_ok = False

    def expected_archive(self):
        to_archive = {
            i
            for i in self.stored
            if not self.archived[i]
            and (i in self.missing or self.stored[i][1] not in ACTIVE_STATUSES)
        }
        to_restore = {
            i
            for i in self.stored
            if self.archived[i] and i not in self.missing and self.stored[i][1] in ACTIVE_STATUSES
        }
        return to_archive, to_restore

    def archive(self, **options):
        before = self.snapshot("courses", "course_changes")
        dry = self.dry_plan(lambda store: sync.plan_archive(store, OC, **options))
        outcome = self.run(
            "archive", lambda store: sync.plan_archive(store, OC, **options), sync.apply_archive
        )
        assert plan_view(dry) == plan_view(outcome)
        return before, outcome

    @rule()
    def archive_forced(self):
        before, outcome = self.archive(force=True)
        if not self.catalog_ok:
            self.assert_refused(outcome, before, "archive acts only on a complete fetch")
            return
        self.assert_archived(outcome)

    @rule(max_archive=st.sampled_from(["10%", "25%", "0", "2"]))
    def archive_guarded(self, max_archive):
        before, outcome = self.archive(max_archive=max_archive)
        if not self.catalog_ok:
            self.assert_refused(outcome, before, "archive acts only on a complete fetch")
            return
        to_archive, _ = self.expected_archive()
        active = sum(not archived for archived in self.archived.values())
        value = float(max_archive.rstrip("%"))
        limit = math.floor(active * value / 100) if max_archive.endswith("%") else int(value)
        guarded = {
            i for i in to_archive if self.stored[i][1] in ACTIVE_STATUSES or i in self.once_offered
        }
        if len(guarded) > limit:
            self.assert_refused(outcome, before, f"would archive {len(guarded)} of {active}")
        else:
            self.assert_archived(outcome)

    def assert_refused(self, outcome, before, why: str):
        assert isinstance(outcome.error, SafetyAbort), outcome
        assert why in str(outcome.error)
        assert self.last_run()[1:] == ("archive", "refused")
        assert self.snapshot("courses", "course_changes") == before

    def assert_archived(self, outcome):
        to_archive, to_restore = self.expected_archive()
        assert outcome.error is None, outcome.error
        assert outcome.plan.counts == {"archived": len(to_archive), "restored": len(to_restore)}
        assert sorted(
            rows(
                self.store,
                "SELECT action, external_id FROM course_changes WHERE run_id = ?",
                (outcome.run_id,),
            )
        ) == sorted(
            [("archived", str(i)) for i in to_archive] + [("restored", str(i)) for i in to_restore]
        )
        for i in to_archive:
            self.archived[i] = True
        for i in to_restore:
            self.archived[i] = False
        # The rule itself: archived exactly when missing or not in an offered status.
        assert self.archived == {
            i: i in self.missing or status not in ACTIVE_STATUSES
            for i, (_, status) in self.stored.items()
        }
        self.check_database()
        self.assert_applying_again_changes_nothing(
            lambda store: sync.plan_archive(store, OC, force=True),
            sync.apply_archive,
            expected_counts={"archived": 0, "restored": 0},
        )

    def assert_applying_again_changes_nothing(self, make_plan, apply, expected_counts):
        before = self.snapshot("courses", "group_courses", "course_changes", "course_tags")
        again = self.run(self.last_run()[1], make_plan, apply)
        assert again.error is None, again.error
        assert again.plan.counts == expected_counts
        assert again.plan.changes == []
        assert self.snapshot("courses", "group_courses", "course_changes", "course_tags") == before

    @invariant()
    def check_database(self):
        assert {
            int(r[0]): r[1:]
            for r in rows(
                self.store,
                "SELECT external_id, title, status, archived, missing_since IS NOT NULL "
                "FROM courses WHERE provider = 'openclassrooms'",
            )
        } == {
            i: (title, status, int(self.archived[i]), int(i in self.missing))
            for i, (title, status) in self.stored.items()
        }
        assert {
            int(r[0])
            for r in rows(
                self.store, "SELECT external_id FROM group_courses WHERE in_catalog AND in_library"
            )
        } == set(self.stored)
        assert rows(
            self.store,
            "SELECT count(*) FROM sync_runs WHERE status NOT IN ('ok', 'failed', 'refused')",
        ) == [(0,)]


# --- statistics --------------------------------------------------------------------------------

LEARNERS = [f"learner{n}@example.com" for n in range(3)]
COURSES = [101, 102]


class StatsMachine(SyncMachine):
    def __init__(self):
        super().__init__()
        # What OpenClassrooms reports: (course, email) -> (progress, status says completed)
        self.reported: dict[tuple[int, str], tuple[int, bool]] = {}
        # What the database should hold: (course, email) -> (progress, completed,
        # completed_at, time spent, regression)
        self.kept: dict[tuple[int, str], tuple] = {}
        self.last_fetched: int | None = None  # rows in the latest successful sync-stats

    keys = st.tuples(st.sampled_from(COURSES), st.sampled_from(LEARNERS))

    def progress_near(self, data, key, low: int = 0, high: int = 100) -> int:
        """Any progress in [low, high], often the one already reported or kept: values
        that come back exactly are where a diff can go wrong."""
        known = [
            v
            for v in (self.reported.get(key, (None,))[0], self.kept.get(key, (None,))[0])
            if v is not None and low <= v <= high
        ]
        choices = st.integers(low, high)
        if known:
            choices = st.sampled_from(sorted({int(v) for v in known})) | choices
        return data.draw(choices, label="progress")

    @rule(data=st.data(), key=keys)
    def report_progress(self, data, key):
        """A learner starts, or moves on, or the provider reports less than before."""
        completed = self.reported.get(key, (0, False))[1]
        self.reported[key] = (self.progress_near(data, key), completed)

    @precondition(lambda self: self.reported)
    @rule(data=st.data())
    def complete(self, data):
        key = data.draw(st.sampled_from(sorted(self.reported)))
        self.reported[key] = (self.progress_near(data, key, 50), True)

    @precondition(lambda self: any(done or p == 100 for p, done in self.reported.values()))
    @rule(data=st.data())
    def undo_completion(self, data):
        done = sorted(k for k, (p, c) in self.reported.items() if c or p == 100)
        key = data.draw(st.sampled_from(done))
        self.reported[key] = (self.progress_near(data, key, 0, 99), False)

    @precondition(lambda self: any(row[4] for row in self.kept.values()))
    @rule(data=st.data())
    def provider_fixes_its_glitch(self, data):
        """The provider reports again what lo-sync kept through a regression."""
        key = data.draw(st.sampled_from(sorted(k for k, row in self.kept.items() if row[4])))
        progress, _, completed_at, *_ = self.kept[key]
        self.reported[key] = (int(progress), completed_at is not None)

    @precondition(lambda self: self.reported)
    @rule(data=st.data())
    def learner_vanishes(self, data):
        del self.reported[data.draw(st.sampled_from(sorted(self.reported)))]

    def records(self, data) -> list[dict]:
        order = data.draw(st.permutations(sorted(self.reported)), label="report order")
        return [
            oc_progress(
                course,
                email,
                progress,
                status="completed" if done else "in-progress",
                completedAt="2026-11-20T10:00:00Z" if done else None,
                timeSpent=progress * 2,
            )
            for (course, email), (progress, done) in ((key, self.reported[key]) for key in order)
        ]

    def fetched_row(self, key):
        progress, done = self.reported[key]
        completed = done or progress == 100
        return (
            float(progress),
            int(completed),
            "2026-11-20T10:00:00Z" if done else None,
            float(progress * 2),
        )

    @rule(data=st.data(), page_size=st.integers(1, 5), accept=st.booleans(), force=st.booleans())
    def sync_stats(self, data, page_size, accept, force):
        pages = pages_of(self.records(data), page_size)

        def make_plan(store):
            return sync.plan_stats(store, OC, iter(pages), accept_regressions=accept, force=force)

        def apply(store, pcfg, plan, started_at):
            return sync.apply_stats(store, pcfg, plan, started_at, accept)

        before = self.snapshot("progress", "progress_history")
        dry = self.dry_plan(make_plan)
        outcome = self.run("sync-stats", make_plan, apply)
        assert plan_view(dry) == plan_view(outcome)

        fetched = len(self.reported)
        if self.last_fetched and fetched < self.last_fetched / 2 and not force:
            assert isinstance(outcome.error, SafetyAbort), outcome
            assert "refusing to apply a drop of more than half" in str(outcome.error)
            assert self.snapshot("progress", "progress_history") == before
            return
        assert outcome.error is None, outcome.error

        created = updated = regressions = 0
        flagged, accepted = set(), set()
        for key in self.reported:
            progress, completed, completed_at, spent = self.fetched_row(key)
            if key not in self.kept:
                created += 1
                self.kept[key] = (progress, completed, completed_at, spent, 0)
                continue
            old = self.kept[key]
            dropped = completed < old[1] or progress < old[0]
            if accept:
                new = (progress, completed, completed_at, spent, 0)
            else:
                # A completion never silently disappears; progress never goes down.
                new = (
                    max(old[0], progress),
                    old[1] or completed,
                    old[2] if old[1] and not completed else completed_at,
                    spent,
                    int(dropped),
                )
            if new != old:
                updated += 1
            if dropped and accept:
                accepted.add(key)
            elif dropped and not old[4]:
                flagged.add(key)
            self.kept[key] = new
        regressions = len(flagged) + len(accepted)
        counts = outcome.plan.counts
        assert (
            counts["fetched"],
            counts["created"],
            counts["updated"],
            counts["unchanged"],
            counts["regressions"],
        ) == (fetched, created, updated, fetched - created - updated, regressions)
        history = rows(
            self.store,
            "SELECT course_external_id, learner_key, max(regression) "
            "FROM progress_history WHERE run_id = ? GROUP BY 1, 2",
            (outcome.run_id,),
        )
        assert len(history) == updated
        assert {(int(c), e) for c, e, r in history if r == 1} == flagged
        assert {(int(c), e) for c, e, r in history if r == 2} == accepted
        self.last_fetched = fetched
        self.check_database()

        before = self.snapshot("progress", "progress_history")
        again = self.run("sync-stats", make_plan, apply)
        assert again.error is None, again.error
        assert (
            again.plan.counts["created"],
            again.plan.counts["updated"],
            again.plan.counts["regressions"],
        ) == (0, 0, 0)
        assert again.plan.counts["unchanged"] == fetched
        assert self.snapshot("progress", "progress_history") == before

    @invariant()
    def check_database(self):
        assert {
            (int(r[0]), r[1]): r[2:]
            for r in rows(
                self.store,
                "SELECT course_external_id, learner_key, progress_percent, completed, "
                "completed_at, time_spent_minutes, regression FROM progress "
                "WHERE provider = 'openclassrooms'",
            )
        } == self.kept


# --- running the machines ----------------------------------------------------------------------

QUICK = settings(
    max_examples=30,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LONG = settings(
    max_examples=400,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_catalog_machine():
    run_state_machine_as_test(CatalogMachine, settings=QUICK)


def test_stats_machine():
    run_state_machine_as_test(StatsMachine, settings=QUICK)


@pytest.mark.slow
def test_catalog_machine_long():
    run_state_machine_as_test(CatalogMachine, settings=LONG)


@pytest.mark.slow
def test_stats_machine_long():
    run_state_machine_as_test(StatsMachine, settings=LONG)
