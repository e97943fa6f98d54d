"""lo-sync performance benchmark: the real CLI against the simulator, beside the floor.

For each case the simulator runs in its own process; lo-sync and the floor
(benchmarks/floor.py, the cheapest correct program for the same job) run as
subprocesses, interleaved, each on a fresh copy of the case's starting
database. Every run is timed wall-clock, and the peak resident memory of its
process tree is taken from /proc (polled every 20 ms) and from wait4's
ru_maxrss. Rows written come from the database itself: per-table row
deltas (EXCEPT both ways) and, where nothing may change, content hashes.

    make bench                      # --size 20000: a couple of minutes on 2 cores
    make bench SIZE=1000000         # the issue's sizes (stats: 100k and 1M rows)
    .venv/bin/python benchmarks/run.py --size 20000 --repeat 3 --profile

Writes the report to stdout and to benchmarks/out/results.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
FLOOR = HERE / "floor.py"

CATALOG_CAP = 20_000  # Coursera contents in the catalog case
OC_CAP = 5_000  # OpenClassrooms courses in the catalog case
MEMORY_LIMIT_MB = 200.0
FLAT_MEMORY = 1.3  # the full stats run may use at most this x the tenth-size run's memory
STATS_RATIO = 1.5  # full sync-stats vs the writing floor
RERUN_RATIO = 1.2  # 1%-changed rerun vs the fetch-only floor
RERUN_FRACTION = 0.01
DRY_TOLERANCE = 1.10  # "no more than the real run", allowing 10% for run-to-run noise
POLL_SECONDS = 0.02

# Runs the simulator in its own process so that lo-sync's process tree is lo-sync alone.
# With caching on, each page's response is kept after it is first built: the
# simulator spends ~75 ms generating a 1000-row enrollment page, more than either
# client spends reading it, and the ratios are about the clients. A warm-up pass
# (the fetch-only floor, unmeasured) fills the cache before the measured runs.
# Reads commands on stdin ("stats" -> one JSON line); exits when stdin closes.
LAUNCHER = r"""
import json, sys, threading
from lo_sync.simulator import Simulator, SimulatorConfig

options = json.loads(sys.argv[1])
use_cache = options.pop("cache")
sim = Simulator(SimulatorConfig(**options), "127.0.0.1", 0).start()
stats = {"hits": 0, "misses": 0, "cached_mb": 0.0, "cache": False}
app = getattr(sim, "_app", None)
if use_cache and app is not None and callable(getattr(app, "handle", None)):
    real, cache, lock = app.handle, {}, threading.Lock()

    def handle(request):
        if request.method != "GET" or request.path.startswith("/_sim/"):
            return real(request)
        query = tuple(sorted((k, tuple(v)) for k, v in request.query.items()))
        key = (app.config.day, request.path, query, request.headers.get("Range"))
        hit = cache.get(key)
        if hit is not None:
            with lock:
                stats["hits"] += 1
            return hit
        response = real(request)
        with lock:
            stats["misses"] += 1
            if response.status in (200, 206) and not getattr(response, "abort", False):
                cache[key] = response
                stats["cached_mb"] += len(response.body) / 1e6
        return response

    app.handle = handle
    stats["cache"] = True
print(json.dumps({"url": sim.url, "cache": stats["cache"]}), flush=True)
for line in sys.stdin:
    if line.strip() == "stats":
        print(json.dumps(stats), flush=True)
sim.stop()
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the simulator process ---------------------------------------------------------------------


class SimProcess:
    def __init__(self, cache: bool, **config):
        self.options = {**config, "cache": cache}
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.cached = False

    def __enter__(self) -> SimProcess:
        self.proc = subprocess.Popen(
            [PYTHON, "-c", LAUNCHER, json.dumps(self.options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        ready = json.loads(self.proc.stdout.readline() or "{}")
        if "url" not in ready:
            raise RuntimeError("the simulator did not start (see its stderr above)")
        self.url, self.cached = ready["url"], ready["cache"]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_sim/health", timeout=5) as r:
                    if json.loads(r.read()).get("ok"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def control(self, **command) -> None:
        request = urllib.request.Request(
            f"{self.url}/_sim/control",
            data=json.dumps(command).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            if not json.loads(r.read()).get("ok"):
                raise RuntimeError(f"simulator refused control {command}")

    def stats(self) -> dict:
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)


# --- measuring one process tree ----------------------------------------------------------------

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def process_memory_kb(pid: int) -> int:
    """Proportional set size: resident memory, with pages shared between processes
    (a forked child shares its parent's heap) divided among them. Summing plain RSS
    over lo-sync and its fetch worker would count the parent's heap twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB


def tree_memory_kb(root: int) -> int:
    """Memory of `root` and all its descendants, now (PSS, see process_memory_kb)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += process_memory_kb(pid)
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # it just exited
    return total


@dataclass
class Run:
    wall: float
    rc: int
    peak_mb: float  # max of the polled tree PSS sum and wait4's ru_maxrss
    cpu: float  # user + system seconds of the process tree
    sim_cpu: float = 0.0
    sim_misses: int = 0
    stdout: str = ""
    stderr: str = ""
    rows: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure(argv: list[str], env: dict, sim: SimProcess | None, logfile: Path) -> Run:
    before_cpu = sim.cpu_seconds() if sim else 0.0
    before_stats = sim.stats() if sim and sim.cached else {"misses": 0}
    with open(logfile, "w+b") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, tree_memory_kb(proc.pid))
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    after_stats = sim.stats() if sim and sim.cached else {"misses": 0}
    return Run(
        wall=wall,
        rc=proc.returncode,
        peak_mb=max(peak_kb, usage.ru_maxrss) / 1024,
        cpu=usage.ru_utime + usage.ru_stime,
        sim_cpu=(sim.cpu_seconds() - before_cpu) if sim else 0.0,
        sim_misses=after_stats["misses"] - before_stats["misses"],
        stdout=stdout,
        stderr=stderr,
    )


# --- the database: what a run wrote ------------------------------------------------------------


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def table_diff(before: Path | None, after: Path) -> dict[str, dict[str, int]]:
    """Per table: rows before and after, rows only in after (added), only in before (removed).

    An updated row counts once as added and once as removed.
    """
    conn = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    old: list[str] = []
    if before is not None and before.exists():
        conn.execute("ATTACH DATABASE ? AS b", (f"file:{before}?mode=ro",))
        old = _tables(conn, "b")
    result = {}
    new = _tables(conn, "main")
    for table in sorted(set(new) | set(old)):
        count = f'SELECT count(*) FROM {{}}."{table}"'
        n_after = conn.execute(count.format("main")).fetchone()[0] if table in new else 0
        n_before = conn.execute(count.format("b")).fetchone()[0] if table in old else 0
        if n_before == 0 or n_after == 0:
            added, removed = n_after, n_before
        else:
            except_ = 'SELECT count(*) FROM (SELECT * FROM {}."{}" EXCEPT SELECT * FROM {}."{}")'
            added = conn.execute(except_.format("main", table, "b", table)).fetchone()[0]
            removed = conn.execute(except_.format("b", table, "main", table)).fetchone()[0]
        result[table] = {"before": n_before, "after": n_after, "added": added, "removed": removed}
    conn.close()
    return result


def table_hashes(path: Path, skip: tuple[str, ...] = ("sync_runs",)) -> dict[str, str]:
    """A content hash of every table but `skip`, rows in a fixed order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    hashes = {}
    for table in _tables(conn, "main"):
        if table in skip:
            continue
        width = len(conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description)
        order = ", ".join(str(i) for i in range(1, width + 1))
        digest = hashlib.sha256()
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
            digest.update(repr(row).encode())
        hashes[table] = digest.hexdigest()[:16]
    conn.close()
    return hashes


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_rows(diff: dict[str, dict[str, int]]) -> str:
    parts = []
    for table, d in diff.items():
        if table.startswith("_"):
            continue  # sqlite-utils' migrations table
        updated = min(d["added"], d["removed"])
        net_added, net_removed = d["added"] - updated, d["removed"] - updated
        bits = []
        if net_added:
            bits.append(f"+{net_added:,}")
        if net_removed:
            bits.append(f"-{net_removed:,}")
        if updated:
            bits.append(f"{updated:,} changed")
        if bits:
            parts.append(f"{table} {' '.join(bits)}")
    return "; ".join(parts) or "nothing"


# --- cases ---------------------------------------------------------------------------------------


@dataclass
class Target:
    text: str
    measured: str
    ok: bool


@dataclass
class Case:
    key: str
    title: str
    records: int
    floor_mode: str  # "write" or "fetch"
    losync: list[Run] = field(default_factory=list)
    floors: list[Run] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

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


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.size = args.size
        self.catalog = args.catalog if args.catalog is not None else min(CATALOG_CAP, args.size)
        self.oc = args.oc if args.oc is not None else min(OC_CAP, max(1, self.catalog // 4))
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="work-", dir=self.out))
        self.cases: dict[str, Case] = {}
        self.profiles: list[Path] = []
        from lo_sync.simulator import CREDENTIALS
        from lo_sync.simulator.client_config import SECRET_VARS, config_yaml

        self.credentials = CREDENTIALS
        self.env = dict(os.environ)
        self.env.update({var: CREDENTIALS[p]["client_secret"] for p, var in SECRET_VARS.items()})
        self.env.pop("LO_SYNC_CONFIG", None)
        self.config_yaml = config_yaml
        self.counter = 0
        self.startup: dict[str, float] = {}
        self.machine = machine_note()  # before the runs: it reports the load at start

    # --- running things ----------------------------------------------------------------------

    def _config(self, sim: SimProcess) -> Path:
        path = self.work / f"config-{sim.proc.pid}.yaml"
        if not path.exists():
            text = self.config_yaml(
                sim.url,
                self.credentials,
                literal_secrets=False,
                database=str(self.work / "unused.db"),
            )
            path.write_text(text, encoding="utf-8")
            os.chmod(path, 0o600)
        return path

    def losync_argv(self, sim: SimProcess, db: Path, command: list[str]) -> list[str]:
        return [
            PYTHON,
            "-m",
            "lo_sync",
            "--config",
            str(self._config(sim)),
            "--db",
            str(db),
            *command,
        ]

    def run_losync(self, sim: SimProcess, db: Path, command: list[str]) -> Run:
        self.counter += 1
        run = measure(
            self.losync_argv(sim, db, command),
            self.env,
            sim,
            self.work / f"{self.counter:03d}-lo-sync.log",
        )
        if run.rc != 0:
            log(f"lo-sync exited {run.rc}: {(run.stderr or run.stdout).strip()[-500:]}")
        return run

    def run_floor(self, sim: SimProcess, job: str, mode: str, measured: bool = True) -> Run:
        self.counter += 1
        db = self.work / f"{self.counter:03d}-floor.db"
        argv = [
            PYTHON,
            str(FLOOR),
            "--url",
            sim.url,
            "--job",
            job,
            "--mode",
            mode,
            "--credentials",
            json.dumps(self.credentials),
        ]
        if mode == "write":
            argv += ["--db", str(db)]
        run = measure(argv, self.env, sim, self.work / f"{self.counter:03d}-floor.log")
        if run.rc != 0:
            raise RuntimeError(f"the floor failed ({run.rc}): {run.stderr.strip()[-800:]}")
        result = json.loads(run.stdout.strip().splitlines()[-1])
        run.rows = result
        db.unlink(missing_ok=True)
        if measured:
            log(
                f"  floor {job}/{mode}: {run.wall:.2f}s, {result['records']:,} records, "
                f"{run.peak_mb:.0f} MB"
            )
        return run

    def warm(self, sim: SimProcess, job: str) -> None:
        if not sim.cached:
            return
        log(f"  warming the simulator's page cache ({job}, day {self.day(sim)})")
        self.run_floor(sim, job, "fetch", measured=False)

    @staticmethod
    def day(sim: SimProcess) -> int:
        with urllib.request.urlopen(f"{sim.url}/_sim/health", timeout=5) as r:
            return json.loads(r.read()).get("day", 0)

    def fresh(self, start: Path | None, name: str) -> Path:
        db = self.work / f"{name}.db"
        for suffix in ("", "-journal", ".lock"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        if start is not None:
            shutil.copyfile(start, db)
        return db

    def profile(self, sim: SimProcess, case: Case, start: Path | None, command: list[str]) -> None:
        db = self.fresh(start, f"profile-{case.key}")
        session = self.out / f"profile-{case.key}.pyisession"
        argv = self.losync_argv(sim, db, command)
        argv[1:3] = ["-m", "pyinstrument", "-r", "pyisession", "-o", str(session), "-m", "lo_sync"]
        log(f"  profiling {case.key}")
        run = measure(argv, self.env, sim, self.work / f"profile-{case.key}.log")
        if run.rc != 0:
            log(f"  profile run exited {run.rc}: {run.stderr.strip()[-300:]}")
            return
        for renderer, suffix, extra in (
            ("html", "html", []),
            ("text", "txt", ["--no-color", "--unicode"]),
            ("text", "flat.txt", ["--no-color", "-p", "flat=true"]),
        ):
            target = self.out / f"profile-{case.key}.{suffix}"
            subprocess.run(
                [
                    PYTHON,
                    "-m",
                    "pyinstrument",
                    "--load",
                    str(session),
                    "-r",
                    renderer,
                    "-o",
                    str(target),
                    *extra,
                ],
                check=False,
                cwd=ROOT,
            )
            self.profiles.append(target)
        db.unlink(missing_ok=True)

    # --- the cases ---------------------------------------------------------------------------

    def run(self) -> None:
        only = set(self.args.only.split(",")) if self.args.only else {"catalog", "stats"}
        log(f"work folder {self.work}")
        subprocess.run(
            [PYTHON, "-m", "lo_sync", "--version"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        self.startup = {
            "lo-sync": self.startup_seconds([PYTHON, "-m", "lo_sync", "--version"]),
            "floor": self.startup_seconds([PYTHON, "-c", "import json, sqlite3, requests"]),
        }
        if "catalog" in only:
            self.catalog_cases()
        if "stats" in only:
            self.stats_cases()

    def startup_seconds(self, argv: list[str]) -> float:
        """Median wall time of starting the interpreter and importing what a run imports."""
        times = [measure(argv, self.env, None, self.work / "startup.log").wall for _ in range(3)]
        return statistics.median(times)

    def catalog_cases(self) -> None:
        n = self.catalog + self.oc
        initial = self.add(
            Case(
                "catalog-initial",
                f"sync-catalog, {self.catalog:,} + {self.oc:,} courses, empty db",
                n,
                "write",
            )
        )
        rerun = self.add(Case("catalog-rerun", "sync-catalog again, nothing changed", n, "fetch"))
        command = ["sync-catalog"]
        log(f"catalog: {self.catalog:,} Coursera contents + {self.oc:,} OpenClassrooms courses")
        with SimProcess(
            self.args.sim_cache,
            coursera_contents=self.catalog,
            openclassrooms_courses=self.oc,
            coursera_enrollments=0,
            openclassrooms_progress=0,
            oc_page_cap=self.args.oc_page_cap,
        ) as sim:
            self.warm(sim, "catalog")
            baseline = None
            for i in range(self.args.repeat):
                initial.floors.append(self.run_floor(sim, "catalog", "write"))
                db = self.fresh(None, f"catalog-initial-{i}")
                run = self.run_losync(sim, db, command)
                run.rows = table_diff(None, db)
                self.report_run(initial, run)
                if baseline is None and run.rc == 0:
                    baseline = db.rename(self.work / "baseline-catalog.db")
                else:
                    db.unlink(missing_ok=True)
            if baseline is None:
                return
            hashes = table_hashes(baseline)
            for i in range(self.args.repeat):
                rerun.floors.append(self.run_floor(sim, "catalog", "fetch"))
                db = self.fresh(baseline, f"catalog-rerun-{i}")
                run = self.run_losync(sim, db, command)
                run.rows = table_diff(baseline, db)
                changed = [t for t, h in table_hashes(db).items() if hashes.get(t) != h]
                run.notes.append(
                    "tables changed (content hash, sync_runs aside): "
                    + (", ".join(changed) or "none")
                )
                self.report_run(rerun, run)
                rerun_ok = (
                    not changed
                    and run.rows["sync_runs"]["added"] == 2
                    and run.rows["sync_runs"]["removed"] == 0
                    and all(
                        d["added"] == d["removed"] == 0
                        for t, d in run.rows.items()
                        if t != "sync_runs"
                    )
                )
                run.notes.append(f"writes nothing but the run records: {rerun_ok}")
                run.rows["_ok"] = {"ok": int(rerun_ok)}
                db.unlink(missing_ok=True)
            if self.args.profile:
                self.profile(sim, initial, None, command)
                self.profile(sim, rerun, baseline, command)

        self.memory_target(initial)
        ok = [r.rows.get("_ok", {}).get("ok") == 1 for r in rerun.losync]
        last = rerun.losync[-1] if rerun.losync else None
        rerun.targets.append(
            Target(
                "no-change rerun writes nothing but the run record",
                (describe_rows(last.rows) + "; " + last.notes[0]) if last else "no run",
                bool(ok) and all(ok),
            )
        )
        self.memory_target(rerun)

    def stats_cases(self) -> None:
        tenth, full = max(1, self.size // 10), self.size
        command = ["sync-stats", "--provider", "coursera"]
        t_case = self.add(
            Case("stats-tenth", f"sync-stats, {tenth:,} rows, empty db", tenth, "write")
        )
        f_case = self.add(Case("stats-full", f"sync-stats, {full:,} rows, empty db", full, "write"))
        r_case = self.add(
            Case(
                "stats-rerun",
                f"sync-stats again, {RERUN_FRACTION:.0%} of {full:,} rows changed",
                full,
                "fetch",
            )
        )
        d_case = self.add(Case("stats-rerun-dry", "the same rerun with --dry-run", full, "fetch"))

        def sim_for(rows: int) -> SimProcess:
            return SimProcess(
                self.args.sim_cache,
                coursera_contents=self.catalog,
                openclassrooms_courses=0,
                coursera_enrollments=rows,
                openclassrooms_progress=0,
                changed_fraction=RERUN_FRACTION,
            )

        def initial(sim: SimProcess, case: Case, keep: bool) -> Path | None:
            baseline = None
            for i in range(self.args.repeat):
                case.floors.append(self.run_floor(sim, "stats", "write"))
                db = self.fresh(None, f"{case.key}-{i}")
                run = self.run_losync(sim, db, command)
                run.rows = table_diff(None, db)
                self.report_run(case, run)
                if keep and baseline is None and run.rc == 0:
                    baseline = db.rename(self.work / f"baseline-{case.key}.db")
                else:
                    db.unlink(missing_ok=True)
            if self.args.profile:
                self.profile(sim, case, None, command)
            return baseline

        log(f"stats: {tenth:,} Coursera enrollment rows")
        with sim_for(tenth) as sim:
            self.warm(sim, "stats")
            initial(sim, t_case, keep=False)

        log(f"stats: {full:,} Coursera enrollment rows")
        with sim_for(full) as sim:
            self.warm(sim, "stats")
            baseline = initial(sim, f_case, keep=True)
            if baseline is None:
                return
            sim.control(day=2)
            log(f"stats: day 2, {RERUN_FRACTION:.0%} of rows changed")
            self.warm(sim, "stats")
            baseline_hash = file_hash(baseline)
            for i in range(self.args.repeat):
                floor = self.run_floor(sim, "stats", "fetch")
                r_case.floors.append(floor)
                d_case.floors.append(floor)
                db = self.fresh(baseline, f"stats-rerun-{i}")
                run = self.run_losync(sim, db, command)
                run.rows = table_diff(baseline, db)
                self.check_rerun(run, db)
                self.report_run(r_case, run)
                db.unlink(missing_ok=True)
                db = self.fresh(baseline, f"stats-dry-{i}")
                run = self.run_losync(sim, db, [*command, "--dry-run"])
                same = file_hash(db) == baseline_hash
                run.rows = {} if same else table_diff(baseline, db)
                run.rows["_untouched"] = {"ok": int(same)}
                run.notes.append(f"database file byte-identical after the dry run: {same}")
                self.report_run(d_case, run)
                db.unlink(missing_ok=True)
            if self.args.profile:
                self.profile(sim, r_case, baseline, command)
                self.profile(sim, d_case, baseline, [*command, "--dry-run"])

        # Targets.
        self.memory_target(t_case)
        self.memory_target(f_case)
        if t_case.losync and f_case.losync:
            grow = f_case.peak_mb / t_case.peak_mb
            f_case.targets.append(
                Target(
                    f"memory flat: {full:,}-row peak <= {FLAT_MEMORY}x the {tenth:,}-row peak",
                    f"{f_case.peak_mb:.0f} MB vs {t_case.peak_mb:.0f} MB = {grow:.2f}x",
                    grow <= FLAT_MEMORY,
                )
            )
        f_case.targets.append(
            Target(
                f"full sync-stats <= {STATS_RATIO}x the floor's time",
                f"{f_case.ratio:.2f}x ({f_case.median(f_case.losync, 'wall'):.2f}s vs "
                f"{f_case.median(f_case.floors, 'wall'):.2f}s)",
                f_case.ratio <= STATS_RATIO,
            )
        )
        r_case.targets.append(
            Target(
                f"1%-changed rerun <= {RERUN_RATIO}x the fetch-only floor",
                f"{r_case.ratio:.2f}x ({r_case.median(r_case.losync, 'wall'):.2f}s vs "
                f"{r_case.median(r_case.floors, 'wall'):.2f}s)",
                r_case.ratio <= RERUN_RATIO,
            )
        )
        last = r_case.losync[-1] if r_case.losync else None
        r_case.targets.append(
            Target(
                "rerun writes only the changed rows, their history and the run record",
                (describe_rows(last.rows) + "; " + "; ".join(last.notes)) if last else "no run",
                bool(r_case.losync)
                and all(r.rows.get("_ok", {}).get("ok") == 1 for r in r_case.losync),
            )
        )
        self.memory_target(r_case)
        if r_case.losync and d_case.losync:
            # Cost is compared in CPU time: wall time on a shared machine also counts
            # the seconds another process held the CPU (see the `waiting s` column).
            real_c, dry_c = r_case.median(r_case.losync, "cpu"), d_case.median(d_case.losync, "cpu")
            real_t, dry_t = (
                r_case.median(r_case.losync, "wall"),
                d_case.median(d_case.losync, "wall"),
            )
            real_m, dry_m = r_case.peak_mb, d_case.peak_mb
            d_case.targets.append(
                Target(
                    f"dry run costs no more than the real run (CPU time and memory, "
                    f"{DRY_TOLERANCE - 1:.0%} noise allowance)",
                    f"CPU {dry_c:.2f}s vs {real_c:.2f}s = {dry_c / real_c:.2f}x "
                    f"(wall {dry_t:.2f}s vs {real_t:.2f}s = {dry_t / real_t:.2f}x); "
                    f"memory {dry_m:.0f} MB vs {real_m:.0f} MB = {dry_m / real_m:.2f}x",
                    dry_c <= real_c * DRY_TOLERANCE and dry_m <= real_m * DRY_TOLERANCE,
                )
            )
            untouched = all(r.rows["_untouched"]["ok"] for r in d_case.losync)
            d_case.targets.append(
                Target(
                    "dry run writes nothing",
                    "database file byte-identical" if untouched else "database file changed",
                    untouched,
                )
            )
        self.memory_target(d_case)

    def check_rerun(self, run: Run, db: Path) -> None:
        """Only the changed rows (plus their history and one run record) may be written."""
        rows = run.rows
        progress = rows.get("progress", {})
        n = progress.get("after", 0)
        changed = progress.get("added", 0)
        bound = max(10, int(n * RERUN_FRACTION * 1.5))
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        run_id = conn.execute("SELECT max(id) FROM sync_runs").fetchone()[0]
        touched = conn.execute(
            "SELECT count(*) FROM progress WHERE last_run_id = ?", (run_id,)
        ).fetchone()[0]
        history_keys = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT provider, course_external_id, learner_email "
            "FROM progress_history WHERE run_id = ?)",
            (run_id,),
        ).fetchone()[0]
        conn.close()
        others = [
            t
            for t, d in rows.items()
            if t not in ("progress", "progress_history", "sync_runs")
            and (d["added"] or d["removed"])
        ]
        ok = (
            progress.get("before") == n
            and 0 < changed <= bound
            and progress.get("removed") == changed
            and touched == changed
            and rows.get("sync_runs", {}).get("added") == 1
            and rows.get("sync_runs", {}).get("removed") == 0
            and rows.get("progress_history", {}).get("removed") == 0
            and history_keys <= changed
            and not others
        )
        run.notes.append(
            f"{changed:,} of {n:,} progress rows changed ({changed / max(n, 1):.2%}, bound "
            f"{bound:,}); {touched:,} carry the new run id; history for {history_keys:,} rows; "
            f"other tables touched: {', '.join(others) or 'none'}"
        )
        run.rows["_ok"] = {"ok": int(ok), "before": 0, "after": 0, "added": 0, "removed": 0}

    def memory_target(self, case: Case) -> None:
        if case.losync:
            case.targets.append(
                Target(
                    f"peak memory < {MEMORY_LIMIT_MB:.0f} MB",
                    f"{case.peak_mb:.0f} MB",
                    case.peak_mb < MEMORY_LIMIT_MB,
                )
            )

    def add(self, case: Case) -> Case:
        self.cases[case.key] = case
        return case

    def report_run(self, case: Case, run: Run) -> None:
        case.losync.append(run)
        floor = case.floors[len(case.losync) - 1] if len(case.floors) >= len(case.losync) else None
        ratio = f", {run.wall / floor.wall:.2f}x floor" if floor else ""
        log(
            f"  lo-sync {case.key}: {run.wall:.2f}s{ratio}, {run.peak_mb:.0f} MB, "
            f"rc {run.rc}, wrote: {describe_rows(run.rows)}"
        )

    def cleanup(self) -> None:
        if self.args.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- the report ----------------------------------------------------------------------------

    def report(self, argv: list[str], elapsed: float) -> str:
        lines = [
            "# lo-sync benchmark",
            "",
            "`"
            + shlex.join(["python", "benchmarks/run.py", *argv])
            + "`"
            + f" ({time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {elapsed:.0f}s in all)",
            "",
            self.machine,
            "",
            "| case | lo-sync wall s | floor wall s | ratio | records/s | peak MB (PSS) "
            "| rows written | target | PASS/FAIL |",
            "|---|---:|---:|---:|---:|---:|---|---|---|",
        ]
        for case in self.cases.values():
            if not case.losync:
                continue
            wall = case.median(case.losync, "wall")
            floor = case.median(case.floors, "wall")
            first = case.losync[0]
            crashed = [r.rc for r in case.losync if r.rc]
            written = describe_rows(first.rows) if not crashed else f"exit {crashed[0]}"
            targets = "; ".join(t.text for t in case.targets) or "-"
            lines.append(
                f"| {case.title} | {wall:.2f} | {floor:.2f} ({case.floor_mode}) "
                f"| {case.ratio:.2f}x | {case.records / wall:,.0f} | {case.peak_mb:.0f} "
                f"| {written} | {targets} | {'PASS' if case.ok else 'FAIL'} |"
            )
        lines += ["", "## Targets", ""]
        for case in self.cases.values():
            for t in case.targets:
                lines.append(f"- **{'PASS' if t.ok else 'FAIL'}** {t.text}: {t.measured}")
        lines += [
            "",
            "## Details",
            "",
            f"Medians over {self.args.repeat} interleaved repeat(s) (floor, then lo-sync, each on "
            "a fresh copy of the starting database); ratio = median of per-pair ratios. Floor "
            "`write` = fetch, decode, convert, one executemany into a bare table; `fetch` = the "
            "same without the database. Peak memory = max(the process tree's proportional "
            f"set size (PSS) polled every {POLL_SECONDS * 1000:.0f} ms, wait4 ru_maxrss); PSS "
            "divides the pages lo-sync shares with its forked fetch worker between the two. "
            "Simulator page cache: "
            + (
                "on (pages built once, in an unmeasured warm-up)."
                if self.args.sim_cache
                else "off."
            ),
            "",
            f"Start-up alone (interpreter + imports, median of 3): lo-sync "
            f"{self.startup.get('lo-sync', 0):.2f}s, floor {self.startup.get('floor', 0):.2f}s. "
            "`waiting s` = wall - own CPU - simulator CPU: time the run spent neither computing "
            "nor being served; a large value means another process held the CPU (shared machine), "
            "a negative one that lo-sync and its fetch worker computed at once on both cores. "
            f"Load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            "",
            "| case | run | wall s | CPU s | simulator CPU s | waiting s | sim cache misses "
            "| peak MB | floor wall s | floor CPU s | floor MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for case in self.cases.values():
            for i, run in enumerate(case.losync):
                f = case.floors[i] if i < len(case.floors) else None
                floor_cells = f"{f.wall:.2f} | {f.cpu:.2f} | {f.peak_mb:.0f}" if f else "- | - | -"
                lines.append(
                    f"| {case.key} | {i + 1} | {run.wall:.2f} | {run.cpu:.2f} | {run.sim_cpu:.2f} "
                    f"| {run.wall - run.cpu - run.sim_cpu:.2f} | {run.sim_misses} "
                    f"| {run.peak_mb:.0f} | {floor_cells} |"
                )
        notes = [
            f"- {case.key}: {note}"
            for case in self.cases.values()
            for note in (case.losync[0].notes if case.losync else [])
        ]
        if notes:
            lines += ["", *notes]
        if self.profiles:
            lines += [
                "",
                "Profiles (pyinstrument, separate unmeasured runs): "
                + ", ".join(
                    f"`{p.relative_to(ROOT)}`" for p in self.profiles if p.suffix == ".html"
                ),
            ]
        return "\n".join(lines) + "\n"


def machine_note() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        import lo_sync

        version = lo_sync.__version__
    except ImportError:
        version = "?"
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Machine: {cpu}, {cores} cores usable ({os.cpu_count()} online), {mem} RAM, "
        f"load {load} at start; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; lo-sync {version} at {commit or '?'}."
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=int,
        default=20_000,
        help="Coursera enrollment rows of the full stats case (the smaller case "
        "is a tenth). Default 20000; the issue's sizes: 1000000.",
    )
    parser.add_argument(
        "--catalog",
        type=int,
        default=None,
        help=f"Coursera contents (default: size, at most {CATALOG_CAP:,}).",
    )
    parser.add_argument(
        "--oc",
        type=int,
        default=None,
        help=f"OpenClassrooms courses (default: catalog / 4, at most {OC_CAP:,}).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="Interleaved repeats per case (default: 3 up to --size 200000, else 1).",
    )
    parser.add_argument("--only", metavar="catalog,stats", help="Run only these groups.")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Also profile each lo-sync case with pyinstrument (extra, unmeasured "
        "runs; reports in benchmarks/out/).",
    )
    parser.add_argument(
        "--no-sim-cache",
        dest="sim_cache",
        action="store_false",
        help="Let the simulator build every page on every request.",
    )
    parser.add_argument(
        "--oc-page-cap",
        type=int,
        default=100,
        help="Items the OpenClassrooms simulator returns per Range request.",
    )
    parser.add_argument("--out", default=str(HERE / "out"), help="Where results go.")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target fails.")
    parser.add_argument("--keep", action="store_true", help="Keep the work databases and logs.")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.size <= 200_000 else 1
    if args.size < 10 or args.repeat < 1:
        parser.error("--size must be at least 10 and --repeat at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = time.perf_counter()
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.cleanup()
    text = bench.report(argv, time.perf_counter() - started)
    (bench.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    failed = [c.key for c in bench.cases.values() if not c.ok]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
