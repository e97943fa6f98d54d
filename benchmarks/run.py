"""lo-sync performance benchmark: the real CLI against the simulator, beside the floor.

For each case the simulator runs in its own process; lo-sync and the floor
(benchmarks/floor.py, the cheapest correct program for the same job) run as
subprocesses, interleaved, each on a fresh copy of the case's starting
database. Every run is timed wall-clock, and the peak resident memory of its
process tree is taken from /proc and from wait4's ru_maxrss (measure.py). Rows
written come from the database itself (rows_written.py, checks.py). The cases
and their targets are a table (cases.py); the report is report.py.

    make bench                      # --size 20000: a few minutes on 2 cores
    make bench SIZE=1000000         # the issue's sizes (stats: 100k and 1M rows)
    .venv/bin/python benchmarks/run.py --size 20000 --repeat 3 --profile

Writes the report to stdout and to benchmarks/out/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cases import (
    CATALOG_CAP,
    GROUPS,
    OC_CAP,
    SESSIONS,
    STARTING_POINTS,
    TARGETS,
    CaseSpec,
    Session,
    Sizes,
    Step,
)
from checks import JUDGES, judge_targets
from interfaces import http_yaml, losync_refuses, paging_says
from measure import ROOT, Run, measure
from report import Finished, machine_note, report
from results import Case
from rows_written import describe_rows, table_hash
from simulator_process import SimProcess, simulator_refuses

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
FLOOR = HERE / "floor.py"
DEFAULT_PAGE_CACHE_MB = 1024  # room for a day of the --size 1000000 report (README)
# Simulator settings that change how pages are served, not what they say: two first
# nights whose settings differ only in these must write the same progress rows.
NOT_DATA = {"latency_ms", "latency_jitter_ms", "faults", "page_cache"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """Runs the table of cases and keeps what they measured."""

    def __init__(self, args: argparse.Namespace):
        from lo_sync.simulator import CREDENTIALS
        from lo_sync.simulator.client_config import SECRET_VARS, config_yaml

        self.args = args
        catalog = args.catalog if args.catalog is not None else min(CATALOG_CAP, args.size)
        oc = args.oc if args.oc is not None else min(OC_CAP, max(1, catalog // 4))
        self.sizes = Sizes(args.size, catalog, oc, args.oc_page_cap)
        self.page_cache = int(args.page_cache_mb * 1024 * 1024)
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="work-", dir=self.out))
        self.cases: dict[str, Case] = {}
        self.profiles: list[Path] = []
        self.credentials = CREDENTIALS
        self.env = dict(os.environ)
        self.env.update({var: CREDENTIALS[p]["client_secret"] for p, var in SECRET_VARS.items()})
        self.env.pop("LO_SYNC_CONFIG", None)
        self.config_yaml = config_yaml
        self.counter = 0
        self.startup: dict[str, float] = {}
        # The first good first night on each report: (its case, its progress table's hash).
        self.references: dict[tuple, tuple[str, str]] = {}
        self.machine = machine_note()  # before the runs: it reports the load at start

    # --- the table -----------------------------------------------------------------------

    def run(self) -> None:
        only = self.args.only.split(",") if self.args.only else list(GROUPS)
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
        for session in SESSIONS:
            if any(session_matches(session, name) for name in only):
                self.run_session(session)
        judge_targets(TARGETS, self.cases)

    def run_session(self, session: Session) -> None:
        log(session.log(self.sizes))
        config = {**session.simulator(self.sizes), "page_cache": self.page_cache}
        refused = simulator_refuses(config)
        if refused:
            specs = [spec for step in session.steps for spec in step.cases]
            self.skip(specs, f"the simulator cannot serve it yet ({refused})")
            return
        data = tuple(sorted((k, repr(v)) for k, v in config.items() if k not in NOT_DATA))
        with SimProcess(**config) as sim:
            self.warm(sim, session)
            starts: dict[str, Path] = {}  # case key -> the first good database it left
            for step in session.steps:
                if any(spec.start and spec.start not in starts for spec in step.cases):
                    self.skip(step.cases, "the case it starts from did not succeed")
                    return
                if step.day != sim.day():
                    sim.control(day=step.day)
                    log(step.log)
                    self.warm(sim, session)
                reference = (*data, ("day", step.day)) if session.job == "stats" else None
                self.run_step(sim, session.job, step, starts, reference)

    def skip(self, specs: list[CaseSpec] | tuple[CaseSpec, ...], reason: str) -> None:
        """Record why these cases' lo-sync runs do not happen, and say so once."""
        for spec in specs:
            case = Case(spec, spec.title(self.sizes), spec.records(self.sizes))
            self.cases.setdefault(spec.key, case).skipped = reason
        log(f"  SKIP {', '.join(spec.key for spec in specs)}: {reason}")

    def run_step(
        self, sim: SimProcess, job: str, step: Step, starts: dict[str, Path], data: tuple | None
    ) -> None:
        """Each repeat: the floor once per floor mode and concurrency, then each case's
        lo-sync run. A case this lo-sync cannot run keeps its floor runs, for the record."""
        for spec in step.cases:
            self.cases[spec.key] = Case(spec, spec.title(self.sizes), spec.records(self.sizes))
            refused = losync_refuses(spec.http)
            if refused:
                keys = ", ".join(f"http.{key}: {value}" for key, value in spec.http.items())
                self.skip([spec], f"this lo-sync's config does not take {keys} ({refused})")
        for i in range(self.args.repeat):
            floors: dict[tuple[str, int], Run] = {}
            for spec in step.cases:
                if spec.floor_key not in floors:
                    floors[spec.floor_key] = self.run_floor(sim, job, *spec.floor_key)
                self.cases[spec.key].floors.append(floors[spec.floor_key])
                if self.cases[spec.key].skipped:
                    continue
                db = self.run_case(sim, spec, starts.get(spec.start), i, data)
                if db is not None and spec.key in STARTING_POINTS and spec.key not in starts:
                    starts[spec.key] = db.rename(self.work / f"baseline-{spec.key}.db")
                elif db is not None:
                    db.unlink(missing_ok=True)
        if self.args.profile:
            for spec in step.cases:
                if not self.cases[spec.key].skipped:
                    self.profile(sim, spec, starts.get(spec.start))

    def run_case(
        self, sim: SimProcess, spec: CaseSpec, start: Path | None, i: int, data: tuple | None
    ) -> Path | None:
        """One measured lo-sync run of `spec`; its database if the run succeeded, else None."""
        db = self.fresh(start, f"{spec.key}-{i}")
        run = self.run_losync(sim, db, list(spec.command), spec.http)
        run.paging = paging_says(run.stderr)
        JUDGES[spec.judge](run, db, start)
        if run.rc == 0 and start is None and data is not None:
            self.compare_rows(spec, run, db, data)
        self.report_run(self.cases[spec.key], run)
        if run.rc != 0:
            db.unlink(missing_ok=True)
            return None
        return db

    def compare_rows(self, spec: CaseSpec, run: Run, db: Path, data: tuple) -> None:
        """A first night's progress rows against the first good one on the same report:
        concurrency, latency and throttling must not change what is written."""
        digest = table_hash(db, "progress")
        reference = self.references.setdefault(data, (spec.key, digest))
        if reference[0] != spec.key or len(self.cases[spec.key].losync) > 0:
            same = digest == reference[1]
            run.rows["_same"] = {"ok": int(same), "of": reference[0]}
            run.notes.append(f"progress rows identical to {reference[0]}'s: {same}")

    # --- running things ----------------------------------------------------------------------

    def _config(self, sim: SimProcess, http: dict) -> Path:
        suffix = "".join(f"-{key}{value}" for key, value in http.items())
        path = self.work / f"config-{sim.proc.pid}{suffix}.yaml"
        if not path.exists():
            text = self.config_yaml(
                sim.url,
                self.credentials,
                literal_secrets=False,
                database=str(self.work / "unused.db"),
            )
            path.write_text(text + http_yaml(http), encoding="utf-8")
            os.chmod(path, 0o600)
        return path

    def losync_argv(
        self, sim: SimProcess, db: Path, command: list[str], http: dict | None = None
    ) -> list[str]:
        config = str(self._config(sim, http or {}))
        return [PYTHON, "-m", "lo_sync", "--config", config, "--db", str(db), *command]

    def measured(self, argv: list[str], sim: SimProcess, name: str) -> Run:
        """measure(), with the simulator's request counters reset before and read after."""
        self.counter += 1
        sim.control(reset=True)
        run = measure(argv, self.env, sim, self.work / f"{self.counter:03d}-{name}.log")
        run.sim_counters = sim.counters()
        return run

    def run_losync(self, sim: SimProcess, db: Path, command: list[str], http: dict) -> Run:
        run = self.measured(self.losync_argv(sim, db, command, http), sim, "lo-sync")
        if run.rc != 0:
            log(f"lo-sync exited {run.rc}: {(run.stderr or run.stdout).strip()[-500:]}")
        return run

    def run_floor(
        self, sim: SimProcess, job: str, mode: str, concurrency: int = 1, measured: bool = True
    ) -> Run:
        db = self.work / f"{self.counter + 1:03d}-floor.db"
        argv = [
            PYTHON,
            str(FLOOR),
            "--url",
            sim.url,
            "--job",
            job,
            "--mode",
            mode,
            "--concurrency",
            str(concurrency),
            "--credentials",
            json.dumps(self.credentials),
        ]
        if mode == "write":
            argv += ["--db", str(db)]
        run = self.measured(argv, sim, "floor")
        if run.rc != 0:
            raise RuntimeError(f"the floor failed ({run.rc}): {run.stderr.strip()[-800:]}")
        result = json.loads(run.stdout.strip().splitlines()[-1])
        run.rows = result
        db.unlink(missing_ok=True)
        if measured:
            at_once = f" ({concurrency} at once)" if concurrency > 1 else ""
            log(
                f"  floor {job}/{mode}{at_once}: {run.wall:.2f}s, {result['records']:,} records, "
                f"{run.peak_mb:.0f} MB"
            )
        return run

    def warm(self, sim: SimProcess, session: Session) -> None:
        """Fill the simulator's page cache with an unmeasured fetch-only floor run."""
        if not sim.cached:
            return
        log(f"  warming the simulator's page cache ({session.job}, day {sim.day()})")
        self.run_floor(sim, session.job, "fetch", session.warm_concurrency, measured=False)

    def fresh(self, start: Path | None, name: str) -> Path:
        db = self.work / f"{name}.db"
        for suffix in ("", "-journal", ".lock"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        if start is not None:
            shutil.copyfile(start, db)
        return db

    def startup_seconds(self, argv: list[str]) -> float:
        """Median wall time of starting the interpreter and importing what a run imports."""
        times = [measure(argv, self.env, None, self.work / "startup.log").wall for _ in range(3)]
        return statistics.median(times)

    def profile(self, sim: SimProcess, spec: CaseSpec, start: Path | None) -> None:
        db = self.fresh(start, f"profile-{spec.key}")
        session = self.out / f"profile-{spec.key}.pyisession"
        argv = self.losync_argv(sim, db, list(spec.command), spec.http)
        argv[1:3] = ["-m", "pyinstrument", "-r", "pyisession", "-o", str(session), "-m", "lo_sync"]
        log(f"  profiling {spec.key}")
        run = measure(argv, self.env, sim, self.work / f"profile-{spec.key}.log")
        if run.rc != 0:
            log(f"  profile run exited {run.rc}: {run.stderr.strip()[-300:]}")
            return
        for renderer, suffix, extra in (
            ("html", "html", []),
            ("text", "txt", ["--no-color", "--unicode"]),
            ("text", "flat.txt", ["--no-color", "-p", "flat=true"]),
        ):
            target = self.out / f"profile-{spec.key}.{suffix}"
            render = ["--load", str(session), "-r", renderer, "-o", str(target), *extra]
            subprocess.run([PYTHON, "-m", "pyinstrument", *render], check=False, cwd=ROOT)
            self.profiles.append(target)
        db.unlink(missing_ok=True)

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

    def finished(self) -> Finished:
        return Finished(
            self.cases,
            self.args.repeat,
            self.args.page_cache_mb,
            self.machine,
            self.startup,
            self.profiles,
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
    parser.add_argument(
        "--only",
        metavar=",".join(GROUPS),
        help="Run only these groups (default: all), or the sessions whose case names "
        "start with a name given (orders-shuffled-realistic). latency, throttle and orders "
        "are issue 11's network cases; a case the installed code cannot run yet is skipped.",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Also profile each lo-sync case with pyinstrument (extra, unmeasured "
        "runs; reports in benchmarks/out/).",
    )
    parser.add_argument(
        "--page-cache",
        dest="page_cache_mb",
        type=float,
        metavar="MB",
        default=DEFAULT_PAGE_CACHE_MB,
        help="Let the simulator keep up to MB megabytes of rendered pages, filled by an "
        f"unmeasured warm-up (default {DEFAULT_PAGE_CACHE_MB}; 0: off).",
    )
    parser.add_argument(
        "--no-sim-cache",
        dest="page_cache_mb",
        action="store_const",
        const=0,
        help="Let the simulator build every page on every request (--page-cache 0).",
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
    if args.page_cache_mb < 0:
        parser.error("--page-cache must not be negative")
    names = args.only.split(",") if args.only else []
    unknown = [n for n in names if not any(session_matches(s, n) for s in SESSIONS)]
    if unknown:
        parser.error(f"--only: no group or case {', '.join(unknown)} (groups: {', '.join(GROUPS)})")
    return args


def session_matches(session: Session, name: str) -> bool:
    """Whether `--only NAME` picks this session: its group, or a case of it by name."""
    keys = (spec.key for step in session.steps for spec in step.cases)
    return session.group == name or any(key.startswith(name) for key in keys)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = time.perf_counter()
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.cleanup()
    text = report(bench.finished(), argv, time.perf_counter() - started)
    (bench.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    failed = [c.key for c in bench.cases.values() if not c.ok]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
