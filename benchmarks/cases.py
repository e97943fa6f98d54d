"""The benchmark's cases, as a table.

A session is one simulator process; its steps run in order, and the cases of a
step are interleaved: for each repeat, the floor (once per floor mode and
concurrency), then each case's lo-sync run on a fresh copy of its starting
database. A case that names a `start` begins from the first good database that
case left; `judge` names the check on what the run wrote (checks.JUDGES). TARGETS
lists what each case must meet (checks.TARGETS), in the order the report shows them.

The groups "latency", "throttle" and "orders" (issue 11) set simulator fields and
lo-sync `http:` keys that arrive with concurrent paging; a session sets only the
simulator fields it moves away from their defaults, so run.py can skip exactly
what the installed code cannot do yet (interfaces.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CATALOG_CAP = 20_000  # Coursera contents in the catalog case
OC_CAP = 5_000  # OpenClassrooms courses in the catalog case
MEMORY_LIMIT_MB = 200.0
FLAT_MEMORY = 1.3  # the full stats run may use at most this x the tenth-size run's memory
STATS_RATIO = 1.5  # full sync-stats vs the writing floor
RERUN_RATIO = 1.2  # 1%-changed rerun vs the fetch-only floor
RERUN_FRACTION = 0.01
DRY_TOLERANCE = 1.10  # "no more than the real run", allowing 10% for run-to-run noise
# Issue 11, speed on a network:
CONCURRENCY = 8  # lo-sync's http.concurrency, and the floor's, in the concurrent cases
LATENCIES_MS = (0, 100, 500)  # simulator latency_ms: each resource GET waits this long
SLOW_LATENCY_MS = 500  # from here on the case is a tenth of --size: 1,000 pages x 500 ms is 500 s
TARGET_LATENCY_MS = 100  # where the latency targets are defined
LATENCY_RATIO = 1.3  # lo-sync@8 vs the floor@8 at 100 ms
SPEED_UP = 4.0  # lo-sync@8 vs lo-sync@1 at 100 ms
THROTTLE_LIMIT = 4  # the simulator answers 429 above this many resource requests in flight
THROTTLE_RATIO = 1.5  # lo-sync@8, throttled, vs the floor@4
# (report order, distribution): every order at even, and the hardest order at realistic.
ORDERS = (("learner", "even"), ("content", "even"), ("shuffled", "even"), ("shuffled", "realistic"))
# The shape the network cases run in: the hardest of ORDERS, the one that costs
# lo-sync the most CPU, and CPU is what a concurrent fetch is left waiting on.
NETWORK_ORDER, NETWORK_DISTRIBUTION = ORDERS[-1]
NETWORK_SHAPE = {"report_order": NETWORK_ORDER, "distribution": NETWORK_DISTRIBUTION}


def shape_text(order: str, distribution: str) -> str:
    return f"{order} order" + ("" if distribution == "even" else f", {distribution} learners")


NETWORK_SHAPE_TEXT = shape_text(NETWORK_ORDER, NETWORK_DISTRIBUTION)


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
    concurrency: int | None = None  # lo-sync's http.concurrency; None: not in its config
    floor_concurrency: int = 1  # the floor's --concurrency

    @property
    def http(self) -> dict:
        """The `http:` keys of lo-sync's config for this case."""
        return {} if self.concurrency is None else {"concurrency": self.concurrency}

    @property
    def floor_key(self) -> tuple[str, int]:
        return (self.floor, self.floor_concurrency)


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
    # The unmeasured warm-up's floor concurrency: more than 1 where every page waits
    # out the simulator's latency, at most THROTTLE_LIMIT so a throttle never answers it.
    warm_concurrency: int = 1


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


# SimulatorConfig fields of issue 11 at their defaults: a session leaves them out,
# so it runs on a simulator that does not have them yet.
SIM_DEFAULTS = {"latency_ms": 0, "report_order": "learner", "distribution": "even", "faults": ()}


def _stats_simulator(rows: Callable[[Sizes], int], **extra) -> Callable[[Sizes], dict]:
    moved = {k: v for k, v in extra.items() if v != SIM_DEFAULTS.get(k)}
    return lambda s: {
        "coursera_contents": s.catalog,
        "openclassrooms_courses": 0,
        "coursera_enrollments": rows(s),
        "openclassrooms_progress": 0,
        "changed_fraction": RERUN_FRACTION,
        **moved,
    }


# -- issue 11: speed on a network -------------------------------------------------------

VERBOSE_STATS = (*STATS, "-v")  # -v: one line per fetch says how many requests were in flight


def _latency_rows(ms: int) -> Callable[[Sizes], int]:
    return (lambda s: s.tenth) if ms >= SLOW_LATENCY_MS else (lambda s: s.size)


def _latency_case(ms: int, n: int) -> CaseSpec:
    rows = _latency_rows(ms)
    return CaseSpec(
        f"latency-{ms}-c{n}",
        lambda s: f"sync-stats, {rows(s):,} rows, {ms} ms a page, concurrency {n}",
        rows,
        VERBOSE_STATS,
        "write",
        concurrency=n,
        floor_concurrency=n,
    )


def _latency_session(ms: int) -> Session:
    rows = _latency_rows(ms)
    return Session(
        "latency",
        "stats",
        lambda s: (
            f"latency: {ms} ms a page, {rows(s):,} Coursera enrollment rows, {NETWORK_SHAPE_TEXT}"
        ),
        _stats_simulator(rows, latency_ms=ms, **NETWORK_SHAPE),
        (Step((_latency_case(ms, 1), _latency_case(ms, CONCURRENCY))),),
        warm_concurrency=THROTTLE_LIMIT if ms else 1,
    )


def _throttle_case(n: int) -> CaseSpec:
    return CaseSpec(
        f"throttle-c{n}",
        lambda s: (
            f"sync-stats, {s.size:,} rows, {TARGET_LATENCY_MS} ms a page, 429 above "
            f"{THROTTLE_LIMIT} in flight, concurrency {n}"
        ),
        lambda s: s.size,
        VERBOSE_STATS,
        "write",
        concurrency=n,
        floor_concurrency=THROTTLE_LIMIT,
    )


THROTTLE_FAULT = {"kind": "throttle", "in_flight": THROTTLE_LIMIT}
THROTTLE_SESSION = Session(
    "throttle",
    "stats",
    lambda s: (
        f"throttle: 429 above {THROTTLE_LIMIT} requests in flight, "
        f"{TARGET_LATENCY_MS} ms a page, {s.size:,} rows, {NETWORK_SHAPE_TEXT}"
    ),
    _stats_simulator(
        lambda s: s.size, latency_ms=TARGET_LATENCY_MS, faults=(THROTTLE_FAULT,), **NETWORK_SHAPE
    ),
    # At the limit first: its rows are what the throttled run must write too.
    (Step((_throttle_case(THROTTLE_LIMIT), _throttle_case(CONCURRENCY))),),
    warm_concurrency=THROTTLE_LIMIT,
)


def order_label(order: str, distribution: str) -> str:
    return order if distribution == "even" else f"{order}-{distribution}"


def _order_session(order: str, distribution: str) -> Session:
    label = order_label(order, distribution)
    shown = shape_text(order, distribution)
    first = CaseSpec(
        f"orders-{label}-first",
        lambda s: f"sync-stats, {s.size:,} rows, {shown}, empty db",
        lambda s: s.size,
        STATS,
        "write",
    )
    rerun = CaseSpec(
        f"orders-{label}-rerun",
        lambda s: f"sync-stats again, {shown}, {RERUN_FRACTION:.0%} changed",
        lambda s: s.size,
        STATS,
        "fetch",
        start=first.key,
        judge="wrote_only_changed_rows",
    )
    return Session(
        "orders",
        "stats",
        lambda s: f"orders: {shown}, {s.size:,} Coursera enrollment rows",
        _stats_simulator(lambda s: s.size, report_order=order, distribution=distribution),
        (Step((first,)), Step((rerun,), day=2, log=f"orders: {shown}, day 2")),
    )


LATENCY_SESSIONS = tuple(_latency_session(ms) for ms in LATENCIES_MS)
ORDER_SESSIONS = tuple(_order_session(o, d) for o, d in ORDERS)
# What the report's network tables are made of.
LATENCY_TABLE = tuple(
    (ms, f"latency-{ms}-c1", f"latency-{ms}-c{CONCURRENCY}") for ms in LATENCIES_MS
)
ORDER_TABLE = tuple(
    (label, f"orders-{label}-first", f"orders-{label}-rerun")
    for label in (order_label(o, d) for o, d in ORDERS)
)


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
    *LATENCY_SESSIONS,
    THROTTLE_SESSION,
    *ORDER_SESSIONS,
)
GROUPS = tuple(dict.fromkeys(session.group for session in SESSIONS))

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


def _network_targets() -> tuple[TargetSpec, ...]:
    at, n, limit = TARGET_LATENCY_MS, CONCURRENCY, THROTTLE_LIMIT
    slow = SLOW_LATENCY_MS  # its cases are a tenth of the size: the flat-memory yardstick
    specs = [
        TargetSpec(
            f"latency-{at}-c{n}",
            "time_ratio",
            text=f"at {at} ms a page, concurrency {n} <= {LATENCY_RATIO}x the floor at {n}",
            limit=LATENCY_RATIO,
        ),
        TargetSpec(
            f"latency-{at}-c{n}",
            "speed_up",
            other=f"latency-{at}-c1",
            text=f"at {at} ms a page, concurrency {n} >= {SPEED_UP:g}x faster than concurrency 1",
            limit=SPEED_UP,
        ),
        TargetSpec(f"latency-{at}-c1", "flat_memory", other=f"latency-{slow}-c1"),
        TargetSpec(f"latency-{at}-c{n}", "flat_memory", other=f"latency-{slow}-c{n}"),
        TargetSpec(f"latency-{at}-c{n}", "same_rows"),
        TargetSpec(f"throttle-c{n}", "same_rows"),
        TargetSpec(
            f"throttle-c{n}",
            "settles_within",
            text=f"throttled at {limit}: settles at <= {limit} requests in flight",
            limit=limit,
        ),
        TargetSpec(
            f"throttle-c{n}",
            "time_ratio",
            text=f"throttled at {limit}: <= {THROTTLE_RATIO}x the floor at concurrency {limit}",
            limit=THROTTLE_RATIO,
        ),
    ]
    for _, first, rerun in ORDER_TABLE:
        specs += [
            TargetSpec(
                first,
                "time_ratio",
                text=f"first night <= {STATS_RATIO}x the floor's time",
                limit=STATS_RATIO,
            ),
            TargetSpec(
                rerun,
                "time_ratio",
                text=f"1%-changed rerun <= {RERUN_RATIO}x the fetch-only floor",
                limit=RERUN_RATIO,
            ),
            TargetSpec(
                rerun,
                "wrote_as_judged",
                text="rerun writes only the changed rows, their history and the run record",
            ),
        ]
    network = (*LATENCY_SESSIONS, THROTTLE_SESSION, *ORDER_SESSIONS)
    cases = [c.key for session in network for step in session.steps for c in step.cases]
    specs += [TargetSpec(key, "peak_memory") for key in cases]
    return tuple(specs)


TARGETS += _network_targets()
