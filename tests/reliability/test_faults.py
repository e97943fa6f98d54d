"""The fault matrix: the real CLI, as a subprocess, against a misbehaving simulator.

Every fault × fetching command × provider ends one of two ways:

- transient trouble (429, 5xx bursts, resets, a read timeout, a token that expires,
  a token endpoint that stumbles, a body cut short once) is retried within bounded
  attempts, and the run succeeds with exactly the data of a clean run;
- anything else fails that provider's run: one line on stderr, exit 1 (2 when the
  credentials are refused), the database exactly as before apart from a new
  `failed` run record, and `archive` refusing to act on that fetch.

Bad individual records are set aside in `rejected_records` unless more than
`REJECT_THRESHOLD` of a fetch is bad. A shrunk-but-complete catalog is data:
sync-catalog marks the missing courses and archive's guard refuses (exit 3).

The default run takes one command × provider per fault; `-m slow` runs the rest.
Every invocation's output is also checked for secrets and tokens.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lo_sync.simulator import FAULT_KINDS, Fault, Simulator, SimulatorConfig
from lo_sync.simulator.messages import Request, Response
from lo_sync.sync import REJECT_THRESHOLD
from tests.helpers.e2e import Result, run_cli, write_config

SIM = SimulatorConfig(
    coursera_contents=100,
    openclassrooms_courses=125,
    coursera_enrollments=300,
    openclassrooms_progress=200,
)
PAGE = 25  # http.page_size: several pages per fetch; page faults hit the second page
SECOND_PAGE = PAGE
PROVIDERS = ("coursera", "openclassrooms")
# Pages in a clean fetch of SIM at PAGE records a page (Coursera reports include specializations).
PAGES = {
    ("sync-catalog", "coursera"): 4,
    ("sync-catalog", "openclassrooms"): 5,
    ("sync-stats", "coursera"): 12,
    ("sync-stats", "openclassrooms"): 8,
}
FETCHING = ("sync-catalog", "sync-stats")
# What a clean run writes that differs from run to run by nature, not by data.
VOLATILE = {
    "id",
    "run_id",
    "first_run_id",
    "last_run_id",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "added_at",
    "changed_at",
}


# --- the simulator, the config, the database -----------------------------------------------------


def make_config(folder: Path, sim: Simulator, **http) -> Path:
    """A config for `sim` with a small page size and retry waits too short to slow the tests.

    One request at a time, so the requests each case counts come in the order they
    name; test_concurrent_faults.py runs the same faults with requests in flight.
    """
    settings = {
        "page_size": PAGE,
        "max_retry_wait": 0.01,
        "max_attempts": 4,
        "concurrency": 1,
        **http,
    }
    block = "http:\n" + "".join(f"  {k}: {v}\n" for k, v in settings.items())
    return write_config(folder, sim.url, **{"providers:": block + "providers:"})


def db_of(config: Path) -> Path:
    return config.parent / "lo-sync.db"


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


RUN_RECORDS = (
    'INSERT INTO "sync_runs"',
    'INSERT INTO "rejected_records"',
    'INSERT INTO "data_drift"',
)


def dump(db: Path) -> list[str]:
    """Every line of the database's SQL dump except the run records and what a failed
    run keeps beside its record (the records it set aside, the drift it saw)."""
    with connect(db) as conn:
        return [line for line in conn.iterdump() if not line.startswith(RUN_RECORDS)]


def content(db: Path) -> dict[str, list[tuple]]:
    """The data of every table but the run records, without ids, run ids and timestamps."""
    out: dict[str, list[tuple]] = {}
    if not db.exists():
        return out
    with connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT IN ('sync_runs', '_sqlite_migrations')"
            )
        ]
        for table in tables:
            columns = [
                r[1] for r in conn.execute(f'PRAGMA table_info("{table}")') if r[1] not in VOLATILE
            ]
            rows = conn.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
    return out


def runs(db: Path) -> list[dict]:
    with connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM sync_runs ORDER BY id")]


def resource_gets(sim: Simulator, status: int | None = None) -> list[tuple[str, str, int]]:
    return [
        entry
        for entry in sim.request_log
        if entry[0] == "GET" and (status is None or entry[2] == status)
    ]


def served(sim: Simulator) -> list[tuple[str, str, int]]:
    """Resource requests answered with a page (200, or 206 for an OpenClassrooms range)."""
    return [entry for entry in resource_gets(sim) if entry[2] in (200, 206)]


def token_posts(sim: Simulator, status: int | None = None) -> list[tuple[str, str, int]]:
    return [
        entry
        for entry in sim.request_log
        if entry[0] == "POST" and (status is None or entry[2] == status)
    ]


@pytest.fixture
def run(assert_no_secrets):
    """Run the CLI; every invocation's output is checked for secrets and tokens."""

    def invoke(sim: Simulator, config: Path, *args: str) -> Result:
        result = run_cli(config, *args)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        assert_no_secrets(sim, result.stdout, result.stderr)
        return result

    return invoke


@pytest.fixture
def sim():
    with Simulator(SIM) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A database after a clean first night (catalog, archive, statistics for both providers)."""
    folder = tmp_path_factory.mktemp("baseline")
    with Simulator(SIM) as simulator:
        config = make_config(folder, simulator)
        for command in ("sync-catalog", "archive", "sync-stats"):
            result = run_cli(config, command)
            assert result.code == 0, result.stderr
    return db_of(config)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Callable[[str, str], dict]:
    """What a clean run of one command for one provider writes into an empty database."""
    cache: dict[tuple[str, str], dict] = {}

    def get(command: str, provider: str) -> dict:
        if (command, provider) not in cache:
            folder = tmp_path_factory.mktemp(f"reference-{command}-{provider}")
            with Simulator(SIM) as simulator:
                config = make_config(folder, simulator)
                result = run_cli(config, command, "--provider", provider)
                assert result.code == 0, result.stderr
            cache[command, provider] = content(db_of(config))
        return cache[command, provider]

    return get


# --- misbehaviour the simulator's own faults cannot express ---------------------------------------


def page_start(request: Request) -> int | None:
    """The first item a resource request asks for (Coursera `start`, OpenClassrooms Range)."""
    if request.method != "GET":
        return None
    if "start" in request.query:
        return int(request.query["start"][0])
    value = request.headers.get("Range") or ""
    if value.startswith("items="):
        return int(value[len("items=") :].split("-")[0])
    return None


def interpose(
    sim: Simulator,
    match: Callable[[Request], bool],
    action: Callable[[Request, Callable[[Request], Response]], Response],
    *,
    times: int | None = None,
    skip: int = 0,
) -> None:
    """Make the in-process simulator misbehave on matching requests: the first `skip` pass
    through, then `times` of them (None: all) get `action(request, handle)` instead."""
    app = sim._app
    original = app.handle
    lock = threading.Lock()
    seen = [0]

    def handle(request: Request) -> Response:
        if match(request):
            with lock:
                seen[0] += 1
                n = seen[0] - skip
            if n >= 1 and (times is None or n <= times):
                return action(request, original)
        return original(request)

    app.handle = handle


def stall(seconds: float):
    """Answer nothing for `seconds`, then hang up: the client's read times out first."""

    def action(request: Request, handle) -> Response:
        time.sleep(seconds)
        return Response(0, abort=True)

    return action


def cut_in_half(request: Request, handle) -> Response:
    response = handle(request)
    response.body = response.body[: len(response.body) // 2]
    return response


def unavailable(request: Request, handle) -> Response:
    return Response(
        503, b'{"message": "token service unavailable"}', {"Content-Type": "application/json"}
    )


def is_second_page(request: Request) -> bool:
    return page_start(request) == SECOND_PAGE


def is_token_request(request: Request) -> bool:
    return request.method == "POST" and request.path.endswith("/token")


# Statistics records damaged the ways a feed breaks: missing required fields, wrong types,
# numbers out of range. The simulator only damages catalogs; these damage statistics pages.
# Damage that leaves nothing to store: no learner at all, no content.
STAT_DAMAGE = {
    "coursera": (
        lambda r: {**r, "email": None, "externalId": None},
        lambda r: {k: v for k, v in r.items() if k != "contentId"},
        lambda r: {**r, "contentId": {"id": r["contentId"]}},
    ),
    "openclassrooms": (
        lambda r: {k: v for k, v in r.items() if k not in ("email", "userId")},
        lambda r: {**r, "courseId": None},
        lambda r: {**r, "courseId": [r["courseId"]]},
    ),
}
# Damage a reader by meaning stores around: the value is read, or stored as NULL.
TOLERATED_DAMAGE = {
    "coursera": (
        lambda r: {**r, "isCompleted": "true" if r["isCompleted"] else "false"},
        lambda r: {**r, "overallProgress": 150},
        lambda r: {**r, "email": None},  # the learner is still known by externalId
    ),
    "openclassrooms": (
        lambda r: {**r, "progress": str(r["progress"])},
        lambda r: {**r, "lastActivityAt": "yesterday"},
        lambda r: {k: v for k, v in r.items() if k != "email"},  # known by userId
    ),
}


def damage_stats(every: int, damages: dict = STAT_DAMAGE):
    """Damage every `every`-th statistics record of each page (by position in the page),
    cycling through the kinds of damage."""
    done = [0]

    def action(request: Request, handle) -> Response:
        response = handle(request)
        body = json.loads(response.body)
        records = body["elements"] if isinstance(body, dict) else body
        provider = "coursera" if isinstance(body, dict) else "openclassrooms"
        damage = damages[provider]
        for i in range(every - 1, len(records), every):
            records[i] = damage[done[0] % len(damage)](records[i])
            done[0] += 1
        response.body = json.dumps(body).encode()
        return response

    return action


def is_stats_page(request: Request) -> bool:
    return request.method == "GET" and request.path.endswith(("enrollmentReports", "progress"))


# --- transient faults: retried, and the run succeeds with a clean run's data ----------------------


@dataclass(frozen=True)
class Transient:
    name: str
    faults: tuple[Fault, ...] = ()
    setup: Callable[[Simulator], None] | None = None
    http: dict = field(default_factory=dict)
    # Evidence that the fault happened: bit(simulator, pages in a clean fetch).
    bit: Callable[[Simulator, int], bool] = lambda sim, pages: True
    default: tuple[str, str] = ("sync-catalog", "coursera")
    in_flight: bool = True  # also played with requests in flight (IN_FLIGHT)


TRANSIENT = [
    Transient(
        "429-storm-with-retry-after",
        (Fault("rate_limit", every=2, retry_after=0),),
        bit=lambda sim, pages: len(resource_gets(sim, 429)) >= 2,
        default=("sync-catalog", "coursera"),
        # Every other request, counted across lanes: in flight, one page can meet
        # four 429s in a row. test_a_provider_that_allows_two_requests_at_once...
        # plays 429s in flight as a provider sends them.
        in_flight=False,
    ),
    Transient(
        "429-storm-without-retry-after",
        (Fault("rate_limit", every=2, retry_after=-1),),
        bit=lambda sim, pages: len(resource_gets(sim, 429)) >= 2,
        default=("sync-stats", "openclassrooms"),
        # Every other request, counted across lanes: in flight, one page can meet
        # four 429s in a row. test_a_provider_that_allows_two_requests_at_once...
        # plays 429s in flight as a provider sends them.
        in_flight=False,
    ),
    Transient(
        # A provider asking for an hour is capped at http.max_retry_wait.
        "429-retry-after-an-hour",
        (Fault("rate_limit", every=3, retry_after=3600),),
        bit=lambda sim, pages: len(resource_gets(sim, 429)) >= 1,
        default=("sync-catalog", "openclassrooms"),
    ),
    Transient(
        "5xx-bursts-500-502-503-504",
        (Fault("server_error", every=4, count=3),),
        bit=lambda sim, pages: {500, 502, 503} <= {s for *_, s in resource_gets(sim)},
        http={"max_attempts": 5},
        default=("sync-stats", "coursera"),
        # Three failures in every four requests, counted across lanes: in flight, a
        # page's five attempts can all land in bursts. One at a time they cannot.
        in_flight=False,
    ),
    Transient(
        "reset-mid-paging",
        (Fault("reset", page=SECOND_PAGE, count=2),),
        bit=lambda sim, pages: len(resource_gets(sim, 0)) == 2,
        default=("sync-catalog", "openclassrooms"),
    ),
    Transient(
        "read-timeout-mid-paging",
        setup=lambda sim: interpose(sim, is_second_page, stall(0.8), times=2),
        http={"read_timeout": 0.4, "max_attempts": 6},
        # Stalled requests are logged only when the stall ends: the test checks the duration.
        bit=lambda sim, pages: len(served(sim)) == pages,
        default=("sync-catalog", "coursera"),
    ),
    Transient(
        "token-expiry-mid-paging",
        (Fault("token_expiry", every=2),),
        bit=lambda sim, pages: len(token_posts(sim, 200)) >= 2 and len(resource_gets(sim, 401)),
        default=("sync-stats", "openclassrooms"),
        # A token that serves two requests is spent by the other lanes before the
        # lane that fetched it has used it: the case below plays it in flight.
        in_flight=False,
    ),
    Transient(
        "token-expiry-every-3-requests",
        (Fault("token_expiry", every=3),),
        bit=lambda sim, pages: len(token_posts(sim, 200)) >= 2 and len(resource_gets(sim, 401)),
        default=("sync-stats", "coursera"),
    ),
    Transient(
        "token-endpoint-down-then-back",
        setup=lambda sim: interpose(sim, is_token_request, unavailable, times=3),
        bit=lambda sim, pages: len(token_posts(sim, 503)) == 3,
        default=("sync-catalog", "openclassrooms"),
    ),
    Transient(
        "truncated-json-once",
        setup=lambda sim: interpose(sim, is_second_page, cut_in_half, times=1),
        bit=lambda sim, pages: len(served(sim)) == pages + 1,
        default=("sync-stats", "coursera"),
    ),
]


# Requests in flight for the cases' second run: each case's default command and
# provider run again with concurrent paging, where pages after the faulty one are
# already asked for. The outcome must be the same; only the counts of requests differ.
IN_FLIGHT = 4


def _matrix(cases):
    for case in cases:
        for command in case.commands if hasattr(case, "commands") else FETCHING:
            for provider in case.providers if hasattr(case, "providers") else PROVIDERS:
                default = (command, provider) == case.default
                name = f"{case.name}-{command}-{provider}"
                marks = () if default else (pytest.mark.slow,)
                yield pytest.param(case, command, provider, 1, marks=marks, id=name)
                if default and getattr(case, "in_flight", True):
                    yield pytest.param(case, command, provider, IN_FLIGHT, id=f"{name}-in-flight")


@pytest.mark.parametrize(("case", "command", "provider", "concurrency"), list(_matrix(TRANSIENT)))
def test_transient_faults_are_retried_and_the_data_is_a_clean_runs(
    case, command, provider, concurrency, tmp_path, sim, run, reference
):
    expected = reference(command, provider)
    config = make_config(tmp_path, sim, **{**case.http, "concurrency": concurrency})
    sim.set_faults(case.faults)
    if case.setup:
        case.setup(sim)

    started = time.monotonic()
    result = run(sim, config, command, "--provider", provider)
    elapsed = time.monotonic() - started

    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert f"{provider} {command}: " in result.stdout
    assert case.bit(sim, PAGES[command, provider]), sim.request_log
    assert content(db_of(config)) == expected
    assert [(r["command"], r["provider"], r["status"]) for r in runs(db_of(config))] == [
        (command, provider, "ok")
    ]
    if case.name == "read-timeout-mid-paging":
        assert elapsed >= 0.8  # two reads timed out (0.4 s each) before the page came
    if case.name == "429-retry-after-an-hour":
        assert elapsed < 30  # the hour was capped at http.max_retry_wait


# --- faults that must fail the provider's run, leaving the database as it was -------------------


@dataclass(frozen=True)
class Failing:
    name: str
    says: str | dict[str, str]  # what the error line says (per provider if a dict)
    faults: tuple[Fault, ...] = ()
    setup: Callable[[Simulator], None] | None = None
    http: dict = field(default_factory=dict)
    commands: tuple[str, ...] = FETCHING
    providers: tuple[str, ...] = PROVIDERS
    default: tuple[str, str] = ("sync-catalog", "coursera")
    code: int = 1
    # (request kind, status, how many): proof that retries happened and were bounded
    attempts: tuple[str, int, int] | None = None
    # Seconds the simulator may still be answering after lo-sync gave up (a slow answer
    # written to a closed connection); waited for so its complaint stays inside the test.
    settle: float = 0.0


MAX_ATTEMPTS = 4  # make_config's default

FAILING = [
    Failing(
        "429-storm-beyond-attempts",
        "gave up after 4 attempts",
        (Fault("rate_limit", every=1, retry_after=0),),
        attempts=("GET", 429, MAX_ATTEMPTS),
        default=("sync-stats", "coursera"),
    ),
    Failing(
        "5xx-beyond-attempts",
        "gave up after 4 attempts",
        (Fault("server_error", every=1),),
        attempts=("GET", 500, 1),  # the cycle: 500, 502, 503, 504
        default=("sync-catalog", "openclassrooms"),
    ),
    Failing(
        "broken-page-mid-paging",
        "HTTP 500",
        (Fault("broken_page", page=SECOND_PAGE),),
        attempts=("GET", 500, MAX_ATTEMPTS),
        default=("sync-stats", "openclassrooms"),
    ),
    Failing(
        "reset-every-time",
        "gave up after 4 attempts",
        (Fault("reset", page=SECOND_PAGE),),
        attempts=("GET", 0, MAX_ATTEMPTS),
        default=("sync-catalog", "coursera"),
    ),
    Failing(
        "read-timeout-every-time",
        "timed out (gave up after 2 attempts)",
        (Fault("slow", seconds=0.5),),
        http={"read_timeout": 0.2, "max_attempts": 2},
        settle=0.5,
        default=("sync-stats", "coursera"),
    ),
    Failing(
        "token-endpoint-down",
        "token request",
        (Fault("token_down"),),
        attempts=("POST", 503, MAX_ATTEMPTS),
        default=("sync-catalog", "openclassrooms"),
    ),
    Failing(
        "token-expires-mid-paging-and-endpoint-dies",
        "token request",
        (Fault("token_expiry", every=1),),
        setup=lambda sim: interpose(sim, is_token_request, unavailable, skip=1),
        attempts=("POST", 503, MAX_ATTEMPTS),
        default=("sync-stats", "openclassrooms"),
    ),
    Failing(
        "token-endpoint-refuses-credentials",
        "refused the client credentials",
        (Fault("token_down", status=401),),
        code=2,
        default=("sync-catalog", "coursera"),
    ),
    Failing(
        "truncated-json-every-time",
        "not valid JSON",
        (Fault("truncated_json", page=SECOND_PAGE),),
        attempts=("GET", 200, 1 + MAX_ATTEMPTS),  # the first page, then each attempt (200/206)
        default=("sync-catalog", "coursera"),
    ),
    Failing(
        "paging-next-does-not-advance",
        "does not move forward",
        (Fault("stuck_next", page=SECOND_PAGE),),
        providers=("coursera",),
        default=("sync-stats", "coursera"),
    ),
    Failing(
        "content-range-total-changes",
        "collection size changed",
        (Fault("range_total_changes"),),
        providers=("openclassrooms",),
        default=("sync-catalog", "openclassrooms"),
    ),
    Failing(
        "same-record-on-two-pages",
        # Coursera's catalog stages the record twice; its statistics count one record more
        # than their total; OpenClassrooms sends more items than its Content-Range says.
        {
            "coursera": "two pages|listing said total",
            "openclassrooms": "does not match the request",
        },
        (Fault("duplicate_record", page=SECOND_PAGE),),
        default=("sync-catalog", "coursera"),
    ),
    Failing(
        "bad-catalog-records-above-threshold",
        "cannot be stored (more than 5%): ",
        (Fault("bad_records", every=10),),
        commands=("sync-catalog",),
        default=("sync-catalog", "openclassrooms"),
    ),
    Failing(
        "bad-statistics-records-above-threshold",
        "cannot be stored (more than 5%): ",
        setup=lambda sim: interpose(sim, is_stats_page, damage_stats(10)),
        commands=("sync-stats",),
        default=("sync-stats", "coursera"),
    ),
    # Hostile answers: each would hold the night or the memory were it not bounded, and
    # each comes the same way again, so none is retried.
    Failing(
        "trickling-answer",
        "http.request_deadline (1 s) ran out",
        (Fault("trickle", page=SECOND_PAGE, seconds=0.05),),
        http={"request_deadline": 1, "read_timeout": 0.5},
        attempts=("GET", 200, 2),  # the first page, then the trickle once
        default=("sync-stats", "openclassrooms"),
    ),
    Failing(
        "gzip-bomb",
        "larger than http.max_response_mb (1 MB) once decoded",
        (Fault("gzip_bomb", page=SECOND_PAGE, count=2),),
        http={"max_response_mb": 1},
        attempts=("GET", 200, 2),
        default=("sync-catalog", "coursera"),
    ),
    Failing(
        "deeply-nested-page",
        "nested too deeply",
        (Fault("deep_nesting", page=SECOND_PAGE),),
        attempts=("GET", 200, 2),
        default=("sync-stats", "coursera"),
    ),
]


@pytest.mark.parametrize(("case", "command", "provider", "concurrency"), list(_matrix(FAILING)))
def test_a_failing_fetch_changes_nothing_and_is_recorded(
    case, command, provider, concurrency, tmp_path, sim, run, baseline
):
    config = make_config(tmp_path, sim, **{**case.http, "concurrency": concurrency})
    db = db_of(config)
    shutil.copyfile(baseline, db)
    sim.set_day(2)  # had anything been applied, the database would differ
    before, runs_before = dump(db), runs(db)
    sim.set_faults(case.faults)
    if case.setup:
        case.setup(sim)

    result = run(sim, config, command, "--provider", provider)
    time.sleep(case.settle)

    assert result.code == case.code, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    says = case.says[provider] if isinstance(case.says, dict) else case.says
    assert f"lo-sync: {provider}" in lines[0]
    assert any(phrase in lines[0] for phrase in says.split("|")), lines[0]
    assert dump(db) == before
    new_runs = runs(db)[len(runs_before) :]
    assert [(r["command"], r["provider"], r["status"]) for r in new_runs] == [
        (command, provider, "failed")
    ]
    assert new_runs[0]["message"] and new_runs[0]["message"] in lines[0]
    if case.attempts and concurrency == 1:
        method, status, expected = case.attempts
        log = resource_gets(sim) if method == "GET" else token_posts(sim)
        hits = [entry for entry in log if entry[2] == status or status == 200 and entry[2] == 206]
        assert len(hits) == expected, log

    if command == "sync-catalog":
        # No archive acts on a failed fetch.
        sim.set_faults(())
        archive = run(sim, config, "archive", "--provider", provider)
        assert archive.code == 3, archive.stderr
        assert "did not complete" in archive.stderr
        assert dump(db) == before
        assert runs(db)[-1]["status"] == "refused"


@pytest.mark.parametrize(
    ("command", "provider"),
    [
        ("sync-stats", "coursera"),
        pytest.param("sync-catalog", "openclassrooms", marks=pytest.mark.slow),
    ],
)
def test_a_failing_dry_run_writes_nothing_at_all(command, provider, tmp_path, sim, run, baseline):
    config = make_config(tmp_path, sim)
    db = db_of(config)
    shutil.copyfile(baseline, db)
    before = db.read_bytes()
    sim.set_day(2)
    sim.set_faults((Fault("broken_page", page=SECOND_PAGE),))

    result = run(sim, config, command, "--provider", provider, "--dry-run")

    assert result.code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "HTTP 500" in result.stderr
    assert db.read_bytes() == before  # not even a run record
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "lo-sync.db"]


def test_retries_of_a_5xx_storm_cycle_through_every_gateway_error(tmp_path, sim, run, baseline):
    """The 5xx case above, looked at closely: each attempt met another status, and no more
    attempts were made than configured."""
    config = make_config(tmp_path, sim)
    shutil.copyfile(baseline, db_of(config))
    sim.set_faults((Fault("server_error", every=1),))

    result = run(sim, config, "sync-catalog", "--provider", "coursera")

    assert result.code == 1
    assert [s for *_, s in resource_gets(sim)] == [500, 502, 503, 504]


# --- bad records below the threshold: set aside, counted, the run goes on -----------------------


def _rejected(db: Path) -> list[tuple]:
    with connect(db) as conn:
        return conn.execute(
            "SELECT r.provider, r.kind, r.reason, r.raw, s.command FROM rejected_records r "
            "JOIN sync_runs s ON s.id = r.run_id ORDER BY r.id"
        ).fetchall()


@pytest.mark.parametrize(
    "provider", [pytest.param("coursera", marks=pytest.mark.slow), "openclassrooms"]
)
def test_bad_catalog_records_are_set_aside_and_the_rest_is_synced(
    provider, tmp_path, sim, run, reference
):
    # Every 25th record damaged: missing id, int title, null title, 100 KB title and, at
    # OpenClassrooms, an unknown status (which is data, not damage). A title sent as
    # the number 404 is read as the text "404": only three cannot be stored.
    config = make_config(tmp_path, sim)
    sim.set_faults((Fault("bad_records", every=25),))
    total = SIM.coursera_contents if provider == "coursera" else SIM.openclassrooms_courses

    result = run(sim, config, "sync-catalog", "--provider", provider)

    assert result.code == 0, result.stderr
    assert "3 rejected" in result.stdout
    rejected = _rejected(db_of(config))
    key, title = ("contentId", "name") if provider == "coursera" else ("id", "title")
    assert [r[2] for r in rejected] == [
        f"{key}: missing",
        f"{title}: missing",
        f"{title}: is longer than 1000 characters",
    ]
    assert all(r[1] == "course" and r[4] == "sync-catalog" for r in rejected)
    assert all(len(r[3]) <= 10_001 for r in rejected)  # raw JSON, cut at 10,000 characters
    assert 3 / total <= REJECT_THRESHOLD
    with connect(db_of(config)) as conn:
        assert conn.execute("SELECT count(*) FROM courses").fetchone()[0] == total - 3
        assert conn.execute("SELECT rejected FROM sync_runs").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM courses WHERE title = '404'").fetchone() == (1,)
    stored = content(db_of(config))["courses"]
    clean = reference("sync-catalog", provider)["courses"]
    # Everything else is stored exactly as a clean run stores it (but the course whose
    # title came as a number and, at OpenClassrooms, the one whose status was damaged).
    assert len(set(stored) - set(clean)) == (1 if provider == "coursera" else 2)
    if provider == "openclassrooms":
        # The course with an unknown status is stored as sent, then archived by archive.
        with connect(db_of(config)) as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM courses WHERE status = 'maintenance-mode'"
                ).fetchone()[0]
                == 1
            )
        archive = run(sim, config, "archive", "--provider", provider)
        assert archive.code == 0, archive.stderr
        with connect(db_of(config)) as conn:
            assert conn.execute(
                "SELECT archived, archive_reason FROM courses WHERE status = 'maintenance-mode'"
            ).fetchall() == [(1, "status maintenance-mode")]


@pytest.mark.parametrize(
    "provider", ["coursera", pytest.param("openclassrooms", marks=pytest.mark.slow)]
)
def test_bad_statistics_records_are_set_aside_and_the_rest_is_synced(
    provider, tmp_path, sim, run, reference
):
    config = make_config(tmp_path, sim)
    interpose(sim, is_stats_page, damage_stats(PAGE))  # the last record of every page

    result = run(sim, config, "sync-stats", "--provider", provider)

    assert result.code == 0, result.stderr
    pages = (300 if provider == "coursera" else SIM.openclassrooms_progress) // PAGE
    assert f"{pages} rejected" in result.stdout
    rejected = _rejected(db_of(config))
    assert len(rejected) == pages and {r[1] for r in rejected} == {"progress"}
    assert all(json.loads(r[3]) for r in rejected)
    with connect(db_of(config)) as conn:
        stored = conn.execute("SELECT count(*) FROM progress").fetchone()[0]
    assert 0 < stored <= len(reference("sync-stats", provider)["progress"])


def test_damage_a_reader_by_meaning_can_store_around_is_stored_and_said(tmp_path, sim, run):
    config = make_config(tmp_path, sim)
    interpose(sim, is_stats_page, damage_stats(PAGE, TOLERATED_DAMAGE))

    result = run(sim, config, "-v", "sync-stats", "--provider", "coursera")

    assert result.code == 0, result.stderr
    assert "0 rejected" in result.stdout
    with connect(db_of(config)) as conn:
        fetched, not_read, message = conn.execute(
            "SELECT fetched, not_read, message FROM sync_runs"
        ).fetchone()
        assert conn.execute("SELECT count(*) FROM progress").fetchone()[0] == fetched
        # overallProgress 150 is stored as NULL, and said with its field, problem and value.
        print(
            message,
            conn.execute("SELECT count(*) FROM progress WHERE progress_percent IS NULL").fetchall(),
        )
        assert not_read == 300 // PAGE // 3
        assert "stored without the value: overallProgress: is outside 0-100" in message
        assert "e.g. 150" in message
        # A row without e-mail is keyed by its externalId, or takes the e-mail from it
        # when the organization set none (externalId is then the e-mail).
        keys = conn.execute(
            "SELECT learner_key, learner_external_id FROM progress WHERE learner_email IS NULL"
        ).fetchall()
        assert keys and all(key == external and "@" not in key for key, external in keys)


def test_too_many_records_set_aside_fail_with_their_reasons_kept_for_the_morning(
    tmp_path, sim, run
):
    config = make_config(tmp_path, sim)
    interpose(sim, is_stats_page, damage_stats(10))

    result = run(sim, config, "sync-stats", "--provider", "coursera")

    assert result.code == 1
    [line] = result.stderr.strip().splitlines()
    # Two records of every page of 25, cycling through the three kinds of damage.
    assert "coursera: 24 of 300 statistics records cannot be stored (more than 5%): " in line
    assert "learner: no e-mail and no externalId (8)" in line
    assert "contentId: missing (8)" in line
    assert "contentId: is an object, not an id (8)" in line
    with connect(db_of(config)) as conn:
        run_id, status, rejected = conn.execute(
            "SELECT id, status, rejected FROM sync_runs"
        ).fetchone()
        reasons = dict(
            conn.execute(
                "SELECT reason, count(*) FROM rejected_records WHERE run_id = ? GROUP BY 1",
                (run_id,),
            ).fetchall()
        )
        assert conn.execute("SELECT count(*) FROM progress").fetchone() == (0,)
    assert (status, rejected) == ("failed", 24)
    assert reasons == {
        "learner: no e-mail and no externalId": 8,
        "contentId: missing": 8,
        "contentId: is an object, not an id": 8,
    }


# --- a catalog that comes back complete, but shrunk -----------------------------------------------


@pytest.mark.parametrize(
    "provider", ["coursera", pytest.param("openclassrooms", marks=pytest.mark.slow)]
)
def test_a_shrunk_catalog_is_synced_and_archive_refuses_to_act_on_it(
    provider, tmp_path, sim, run, baseline
):
    config = make_config(tmp_path, sim)
    db = db_of(config)
    shutil.copyfile(baseline, db)
    sim.set_faults((Fault("shrunk"),))
    total = SIM.coursera_contents if provider == "coursera" else SIM.openclassrooms_courses

    catalog = run(sim, config, "sync-catalog", "--provider", provider)

    assert catalog.code == 0, catalog.stderr
    assert f"{total - total // 2} missing" in catalog.stdout
    with connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM courses WHERE provider = ? AND missing_since IS NOT NULL",
            (provider,),
        ).fetchone()[0] == (total - total // 2)
    before = dump(db)

    archive = run(sim, config, "archive", "--provider", provider)

    assert archive.code == 3
    assert len(archive.stderr.strip().splitlines()) == 1
    assert "above the limit" in archive.stderr and "--max-archive" in archive.stderr
    assert dump(db) == before
    assert runs(db)[-1]["status"] == "refused"


# --- both providers in one run: one failing does not sink the other ------------------------------


def test_a_fault_at_one_provider_leaves_the_other_provider_synced(tmp_path, sim, run, baseline):
    config = make_config(tmp_path, sim)
    db = db_of(config)
    shutil.copyfile(baseline, db)
    sim.set_day(2)
    sim.set_faults((Fault("range_total_changes"),))  # OpenClassrooms only

    result = run(sim, config, "sync-catalog")

    assert result.code == 1
    assert "coursera sync-catalog:" in result.stdout
    assert result.stderr.count("lo-sync: openclassrooms") == 1
    assert [(r["provider"], r["status"]) for r in runs(db)[-2:]] == [
        ("coursera", "ok"),
        ("openclassrooms", "failed"),
    ]


# --- bounds on time, and a hostile page among good ones -------------------------------------------


@pytest.mark.parametrize(
    ("where", "concurrency", "page_seconds"),
    # Twelve Coursera pages: 3.6 s one at a time; in flight, the first page alone
    # (0.6 s), then the lanes' pages run out of time.
    [("option", 1, 0.3), ("config", 1, 0.3), ("option", IN_FLIGHT, 0.6)],
)
def test_past_max_runtime_the_provider_being_fetched_fails_and_the_next_never_starts(
    where, concurrency, page_seconds, tmp_path, sim, run, baseline
):
    config = make_config(tmp_path, sim, concurrency=concurrency)
    if where == "config":
        config.write_text("max_runtime: 1s\n" + config.read_text())
    db = db_of(config)
    shutil.copyfile(baseline, db)
    sim.set_day(2)
    before, runs_before = dump(db), runs(db)
    sim.set_faults((Fault("slow", seconds=page_seconds),))
    args = ("--max-runtime", "1s") if where == "option" else ()

    started = time.monotonic()
    result = run(sim, config, *args, "sync-stats")
    elapsed = time.monotonic() - started

    setting = "--max-runtime 1s" if where == "option" else "max_runtime 1s"
    bound = f"the time limit for the whole command ({setting}) ran out"
    assert result.code == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "lo-sync: coursera: " in lines[0] and bound in lines[0]
    assert "lo-sync: openclassrooms: " in lines[1] and bound in lines[1]
    assert elapsed < 6  # a second of fetching, and the start-up
    assert dump(db) == before
    new_runs = runs(db)[len(runs_before) :]
    assert [(r["provider"], r["status"]) for r in new_runs] == [
        ("coursera", "failed"),
        ("openclassrooms", "failed"),
    ]
    assert all(bound in r["message"] for r in new_runs)


def test_a_retry_after_that_would_end_past_max_runtime_fails_at_once(tmp_path, sim, run):
    # Retry-After: 60 on every other request would stretch a 1,000-page report over hours.
    config = make_config(tmp_path, sim, max_retry_wait=120)
    sim.set_faults((Fault("rate_limit", every=2, retry_after=60),))

    started = time.monotonic()
    result = run(sim, config, "--max-runtime", "30s", "sync-catalog", "--provider", "coursera")

    assert result.code == 1
    assert "HTTP 429" in result.stderr
    assert (
        "waiting 60 s to try again would pass the time limit for the whole command "
        "(--max-runtime 30s)" in result.stderr
    )
    assert time.monotonic() - started < 20
    assert len(resource_gets(sim, 429)) == 1
    assert [r["status"] for r in runs(db_of(config))] == ["failed"]


def test_a_deeply_nested_page_fails_its_provider_in_one_line_and_the_next_still_runs(
    tmp_path, sim, run, baseline
):
    config = make_config(tmp_path, sim)
    db = db_of(config)
    shutil.copyfile(baseline, db)
    deep = Response(200, b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"})
    interpose(
        sim,
        lambda r: r.path.startswith("/coursera/") and page_start(r) == SECOND_PAGE,
        lambda request, handle: deep,
    )

    result = run(sim, config, "sync-catalog")

    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "lo-sync: coursera: " in lines[0], result.stderr
    assert "nested too deeply" in lines[0] and "RecursionError" not in lines[0]
    assert "openclassrooms sync-catalog:" in result.stdout
    assert [(r["provider"], r["status"]) for r in runs(db)[-2:]] == [
        ("coursera", "failed"),
        ("openclassrooms", "ok"),
    ]


def test_a_record_nested_just_within_the_decoders_limit_is_set_aside_like_any_bad_one(
    tmp_path, sim, run
):
    # orjson reads up to 1,024 levels, but Python's own recursion (json.dumps of the
    # evidence, repr) ends near 1,000: such a record must not end the run in a crash.
    config = make_config(tmp_path, sim)
    deep = b"[" * 1020 + b"]" * 1020  # with the page and the record around it: 1,023 levels

    def nest(request, handle):
        response = handle(request)
        page = json.loads(response.body)
        page["elements"][0]["name"] = "__DEEP__"
        response.body = json.dumps(page).encode().replace(b'"__DEEP__"', deep)
        return response

    interpose(sim, lambda r: r.path.endswith("/contents") and page_start(r) == 0, nest)

    result = run(sim, config, "sync-catalog", "--provider", "coursera")

    assert result.code == 0, result.stderr
    assert "1 rejected" in result.stdout
    ((reason, raw),) = [(r[2], r[3]) for r in _rejected(db_of(config))]
    assert (reason, raw) == ("name: is a list, not text", "(nested too deeply to keep as text)")


def test_the_matrix_covers_every_fault_the_simulator_knows():
    # bad_records (below the threshold) and shrunk have tests of their own above.
    used = {f.kind for case in (*TRANSIENT, *FAILING) for f in case.faults}
    # gateway_fault and unknown_fields have tests of their own: tests/cli/test_check.py
    # and tests/simulator/; throttle has its own below, since one request at a time
    # never meets it.
    own = {"bad_records", "shrunk", "gateway_fault", "unknown_fields", "throttle"}
    assert used | own == set(FAULT_KINDS)


def test_a_provider_that_allows_two_requests_at_once_is_read_whole_at_two(
    tmp_path, sim, run, reference
):
    expected = reference("sync-stats", "coursera")
    config = make_config(tmp_path, sim, concurrency=8, max_attempts=6)
    # 50 ms a page, so that requests overlap as they would on a network.
    sim.set_faults((Fault("throttle", in_flight=2, retry_after=0), Fault("slow", seconds=0.05)))
    sim.reset_counters()

    result = run(sim, config, "-v", "sync-stats", "--provider", "coursera")

    assert result.code == 0, result.stderr
    assert content(db_of(config)) == expected
    settled = re.search(r"settled at (\d+) requests in flight.*; (\d+) throttled", result.stderr)
    assert settled, result.stderr
    assert int(settled.group(1)) <= 2
    assert int(settled.group(2)) == sim.load_stats()["throttled"] > 0
