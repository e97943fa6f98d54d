"""The benchmark's cases, as a table.

A session is one simulator process; its steps run in order, and the cases of a
step are interleaved: for each repeat, the floor (once per floor mode), then each
case's lo-sync run on a fresh copy of its starting database. A case that names a
`start` begins from the first good database that case left; `judge` names the
check on what the run wrote (checks.JUDGES). TARGETS lists what each case must
meet (checks.TARGETS), in the order the report shows them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from measure import Run

CATALOG_CAP = 20_000  # Coursera contents in the catalog case
OC_CAP = 5_000  # OpenClassrooms courses in the catalog case
MEMORY_LIMIT_MB = 200.0
FLAT_MEMORY = 1.3  # the full stats run may use at most this x the tenth-size run's memory
STATS_RATIO = 1.5  # full sync-stats vs the writing floor
RERUN_RATIO = 1.2  # 1%-changed rerun vs the fetch-only floor
RERUN_FRACTION = 0.01
DRY_TOLERANCE = 1.10  # "no more than the real run", allowing 10% for run-to-run noise


@dataclass(frozen=True)
class Sizes:
    size: int  # rows of the full stats case
    catalog: int  # Coursera contents
    oc: int  # OpenClassrooms courses
    oc_page_cap: int  # items the OpenClassrooms simulator returns per Range request

    @property
    def tenth(self) -> int:
        return max(1, self.size // 10)


@dataclass(frozen=True)
class CaseSpec:
    key: str
    title: Callable[[Sizes], str]
    records: Callable[[Sizes], int]  # API records a run reads (for records/s)
    command: tuple[str, ...]
    floor: str  # "write" (fetch, convert, insert) or "fetch" (no database)
    start: str | None = None  # None: an empty database
    judge: str = "from_empty"


@dataclass(frozen=True)
class Step:
    cases: tuple[CaseSpec, ...]
    day: int = 1
    log: str = ""  # what the log says when the step starts, if anything


@dataclass(frozen=True)
class Session:
    group: str  # what --only selects
    job: str  # the floor's job, "catalog" or "stats"; also what warms the page cache
    log: Callable[[Sizes], str]
    simulator: Callable[[Sizes], dict]  # SimulatorConfig keyword arguments
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TargetSpec:
    case: str
    check: str  # a name in checks.TARGETS
    other: str | None = None  # the case it is compared with, if any
    text: str = ""  # what it promises, for the checks that take it
    limit: float = 0.0  # the bound, for the checks that take one
    notes_shown: int | None = None  # of the last run's notes, how many the target quotes


CATALOG = ("sync-catalog",)
STATS = ("sync-stats", "--provider", "coursera")

CATALOG_INITIAL = CaseSpec(
    "catalog-initial",
    lambda s: f"sync-catalog, {s.catalog:,} + {s.oc:,} courses, empty db",
    lambda s: s.catalog + s.oc,
    CATALOG,
    "write",
)
CATALOG_RERUN = CaseSpec(
    "catalog-rerun",
    lambda s: "sync-catalog again, nothing changed",
    lambda s: s.catalog + s.oc,
    CATALOG,
    "fetch",
    start="catalog-initial",
    judge="wrote_only_run_records",
)
STATS_TENTH = CaseSpec(
    "stats-tenth",
    lambda s: f"sync-stats, {s.tenth:,} rows, empty db",
    lambda s: s.tenth,
    STATS,
    "write",
)
STATS_FULL = CaseSpec(
    "stats-full",
    lambda s: f"sync-stats, {s.size:,} rows, empty db",
    lambda s: s.size,
    STATS,
    "write",
)
STATS_RERUN = CaseSpec(
    "stats-rerun",
    lambda s: f"sync-stats again, {RERUN_FRACTION:.0%} of {s.size:,} rows changed",
    lambda s: s.size,
    STATS,
    "fetch",
    start="stats-full",
    judge="wrote_only_changed_rows",
)
STATS_RERUN_DRY = CaseSpec(
    "stats-rerun-dry",
    lambda s: "the same rerun with --dry-run",
    lambda s: s.size,
    (*STATS, "--dry-run"),
    "fetch",
    start="stats-full",
    judge="left_the_file_untouched",
)


def _stats_simulator(rows: Callable[[Sizes], int]) -> Callable[[Sizes], dict]:
    return lambda s: {
        "coursera_contents": s.catalog,
        "openclassrooms_courses": 0,
        "coursera_enrollments": rows(s),
        "openclassrooms_progress": 0,
        "changed_fraction": RERUN_FRACTION,
    }


SESSIONS = (
    Session(
        "catalog",
        "catalog",
        lambda s: f"catalog: {s.catalog:,} Coursera contents + {s.oc:,} OpenClassrooms courses",
        lambda s: {
            "coursera_contents": s.catalog,
            "openclassrooms_courses": s.oc,
            "coursera_enrollments": 0,
            "openclassrooms_progress": 0,
            "oc_page_cap": s.oc_page_cap,
        },
        (Step((CATALOG_INITIAL,)), Step((CATALOG_RERUN,))),
    ),
    Session(
        "stats",
        "stats",
        lambda s: f"stats: {s.tenth:,} Coursera enrollment rows",
        _stats_simulator(lambda s: s.tenth),
        (Step((STATS_TENTH,)),),
    ),
    Session(
        "stats",
        "stats",
        lambda s: f"stats: {s.size:,} Coursera enrollment rows",
        _stats_simulator(lambda s: s.size),
        (
            Step((STATS_FULL,)),
            Step(
                (STATS_RERUN, STATS_RERUN_DRY),
                day=2,
                log=f"stats: day 2, {RERUN_FRACTION:.0%} of rows changed",
            ),
        ),
    ),
)

# The cases whose first good database later cases start from.
STARTING_POINTS = {
    case.start for session in SESSIONS for step in session.steps for case in step.cases
} - {None}

TARGETS = (
    TargetSpec("catalog-initial", "peak_memory"),
    TargetSpec(
        "catalog-rerun",
        "wrote_as_judged",
        text="no-change rerun writes nothing but the run record",
        notes_shown=1,
    ),
    TargetSpec("catalog-rerun", "peak_memory"),
    TargetSpec("stats-tenth", "peak_memory"),
    TargetSpec("stats-full", "peak_memory"),
    TargetSpec("stats-full", "flat_memory", other="stats-tenth"),
    TargetSpec(
        "stats-full",
        "time_ratio",
        text=f"full sync-stats <= {STATS_RATIO}x the floor's time",
        limit=STATS_RATIO,
    ),
    TargetSpec(
        "stats-rerun",
        "time_ratio",
        text=f"1%-changed rerun <= {RERUN_RATIO}x the fetch-only floor",
        limit=RERUN_RATIO,
    ),
    TargetSpec(
        "stats-rerun",
        "wrote_as_judged",
        text="rerun writes only the changed rows, their history and the run record",
    ),
    TargetSpec("stats-rerun", "peak_memory"),
    TargetSpec("stats-rerun-dry", "dry_run_costs_no_more", other="stats-rerun"),
    TargetSpec("stats-rerun-dry", "dry_run_writes_nothing"),
    TargetSpec("stats-rerun-dry", "peak_memory"),
)

# -- what the runs of a case found ---------------------------------------------------------


@dataclass
class Target:
    text: str
    measured: str
    ok: bool


@dataclass
class Case:
    spec: CaseSpec
    title: str
    records: int
    losync: list[Run] = field(default_factory=list)
    floors: list[Run] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def floor_mode(self) -> str:
        return self.spec.floor

    def median(self, runs: list[Run], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs) if runs else float("nan")

    @property
    def ratio(self) -> float:
        pairs = [a.wall / b.wall for a, b in zip(self.losync, self.floors, strict=False)]
        return statistics.median(pairs) if pairs else float("nan")

    @property
    def peak_mb(self) -> float:
        return max((r.peak_mb for r in self.losync), default=float("nan"))

    @property
    def ok(self) -> bool:
        return all(r.rc == 0 for r in self.losync + self.floors) and all(t.ok for t in self.targets)
