"""The benchmark's report: a README-style table of the cases, the targets, the details.

Written to stdout and to benchmarks/out/results.md by run.py.
"""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cases import CONCURRENCY, LATENCY_TABLE, ORDER_TABLE, THROTTLE_LIMIT
from measure import POLL_SECONDS, ROOT
from results import Case
from rows_written import describe_rows


@dataclass
class Finished:
    """What the report is made from."""

    cases: dict[str, Case]
    repeat: int
    page_cache_mb: float  # 0: the simulator built every page on every request
    machine: str  # machine_note(), taken before the runs
    startup: dict[str, float]  # seconds to start lo-sync and the floor, doing nothing
    profiles: list[Path]


def report(done: Finished, argv: list[str], elapsed: float) -> str:
    """The whole report: the summary table, the targets, and every run in detail."""
    lines = [
        "# lo-sync benchmark",
        "",
        "`"
        + shlex.join(["python", "benchmarks/run.py", *argv])
        + "`"
        + f" ({time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {elapsed:.0f}s in all)",
        "",
        done.machine,
        "",
        "| case | lo-sync wall s | floor wall s | ratio | records/s | peak MB (PSS) "
        "| rows written | target | PASS/FAIL |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for case in done.cases.values():
        if not case.losync:
            floor = f"{case.median(case.floors, 'wall'):.2f}" if case.floors else "-"
            lines.append(
                f"| {case.title} | skipped | {floor} ({case.floor_mode}) | - | - | - | - | - "
                f"| {'SKIP' if case.skipped else 'FAIL'} |"
            )
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
    for case in done.cases.values():
        for t in case.targets:
            lines.append(f"- **{'PASS' if t.ok else 'FAIL'}** {t.text}: {t.measured}")
    skipped = [case for case in done.cases.values() if case.skipped]
    if skipped:
        lines += ["", "Skipped (their targets are not judged):", ""]
        lines += [f"- **SKIP** {case.key}: {case.skipped}" for case in skipped]
    lines += network(done.cases)
    lines += [
        "",
        "## Details",
        "",
        f"Medians over {done.repeat} interleaved repeat(s) (floor, then lo-sync, each on "
        "a fresh copy of the starting database); ratio = median of per-pair ratios. Floor "
        "`write` = fetch, decode, convert, one executemany into a bare table; `fetch` = the "
        "same without the database. Peak memory = max(the process tree's proportional "
        f"set size (PSS) polled every {POLL_SECONDS * 1000:.0f} ms, wait4 ru_maxrss); PSS "
        "divides the pages lo-sync shares with its forked fetch worker between the two. "
        "Simulator page cache: "
        + (
            f"on, up to {done.page_cache_mb:,.0f} MB (pages built once, in an unmeasured "
            "warm-up; every request still passes the simulator's checks)."
            if done.page_cache_mb
            else "off."
        ),
        "",
        f"Start-up alone (interpreter + imports, median of 3): lo-sync "
        f"{done.startup.get('lo-sync', 0):.2f}s, floor {done.startup.get('floor', 0):.2f}s. "
        "`waiting s` = wall - own CPU - simulator CPU: time the run spent neither computing "
        "nor being served; a large value means another process held the CPU (shared machine), "
        "a negative one that lo-sync and its fetch worker computed at once on both cores. "
        f"Load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "`in flight` = the most requests lo-sync's -v lines say it settled at / the most "
        "the simulator saw at once (`?`: not reported by this lo-sync or simulator).",
        "",
        "| case | run | wall s | CPU s | simulator CPU s | waiting s | sim cache misses "
        "| peak MB | in flight | floor wall s | floor CPU s | floor MB | floor in flight |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in done.cases.values():
        for i, run in enumerate(case.losync):
            f = case.floors[i] if i < len(case.floors) else None
            floor_cells = (
                f"{f.wall:.2f} | {f.cpu:.2f} | {f.peak_mb:.0f} | {_seen(f)}"
                if f
                else "- | - | - | -"
            )
            in_flight = f"{_or(run.paging.get('settled'))} / {_seen(run)}"
            lines.append(
                f"| {case.key} | {i + 1} | {run.wall:.2f} | {run.cpu:.2f} | {run.sim_cpu:.2f} "
                f"| {run.wall - run.cpu - run.sim_cpu:.2f} | {run.sim_misses} "
                f"| {run.peak_mb:.0f} | {in_flight} | {floor_cells} |"
            )
    notes = [
        f"- {case.key}: {note}"
        for case in done.cases.values()
        for note in (case.losync[0].notes if case.losync else [])
    ]
    if notes:
        lines += ["", *notes]
    if done.profiles:
        lines += [
            "",
            "Profiles (pyinstrument, separate unmeasured runs): "
            + ", ".join(f"`{_shown(p)}`" for p in done.profiles if p.suffix == ".html"),
        ]
    return "\n".join(lines) + "\n"


def network(cases: dict[str, Case]) -> list[str]:
    """Issue 11's tables, each where its group ran: latency, the throttle, report orders."""
    tables = [t for t in (_latency(cases), _throttle(cases), _orders(cases)) if t]
    lines = ["", "## Speed on a network", ""] if tables else []
    for table in tables:
        lines += [*table, ""]
    return lines[:-1]


def _latency(cases: dict[str, Case]) -> list[str]:
    n = CONCURRENCY
    rows = []
    for ms, one, many in LATENCY_TABLE:
        a, b = cases.get(one), cases.get(many)
        if a is None or b is None:
            continue
        speed = "-"
        if a.losync and b.losync:
            speed = f"{a.median(a.losync, 'wall') / b.median(b.losync, 'wall'):.2f}x"
        rows.append(
            f"| {ms} ms | {a.records:,} | {_wall(a, a.floors)} | {_wall(a, a.losync)} "
            f"| {_wall(b, b.floors)} | {_wall(b, b.losync)} | {_ratio(b)} | {speed} "
            f"| {_most(r.paging.get('settled') for r in b.losync)} |"
        )
    header = [
        f"| latency | rows | floor@1 s | lo-sync@1 s | floor@{n} s | lo-sync@{n} s "
        f"| lo-sync@{n} / floor@{n} | speed-up, {n} over 1 | settled at |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return header + rows if rows else []


def _throttle(cases: dict[str, Case]) -> list[str]:
    limit = THROTTLE_LIMIT
    rows = []
    for case in (cases.get(f"throttle-c{limit}"), cases.get(f"throttle-c{CONCURRENCY}")):
        if case is None:
            continue
        runs = case.losync
        rows.append(
            f"| lo-sync at concurrency {case.spec.concurrency} | {_wall(case, runs)} "
            f"| {_wall(case, case.floors)} | {_ratio(case)} "
            f"| {_most(r.paging.get('settled') for r in runs)} "
            f"| {_most(r.paging.get('throttled') for r in runs)} "
            f"| {_most(r.sim_counters.get('max_in_flight') for r in runs)} "
            f"| {_most(r.sim_counters.get('throttled') for r in runs)} |"
        )
    header = [
        f"| throttled at {limit} | lo-sync s | floor@{limit} s | ratio | settled at "
        "| 429s lo-sync met | simulator: most in flight | simulator: 429s sent |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return header + rows if rows else []


def _orders(cases: dict[str, Case]) -> list[str]:
    rows, worst = [], [[], []]
    for label, *keys in ORDER_TABLE:
        if not any(key in cases for key in keys):
            continue
        cells = []
        for i, key in enumerate(keys):
            case = cases.get(key)
            if case is None or not case.losync:
                cells.append(_ratio(case) if case else "-")
                continue
            worst[i].append(case.ratio)
            walls = f"{_wall(case, case.losync)} s vs {_wall(case, case.floors)} s"
            cells.append(f"{case.ratio:.2f}x ({walls})")
        rows.append(f"| {label} | {cells[0]} | {cells[1]} |")
    header = [
        "| report order | first night / writing floor | rerun, 1% changed / fetch-only floor |",
        "|---|---:|---:|",
    ]
    bottom = " | ".join(f"**{max(w):.2f}x**" if w else "-" for w in worst)
    return [*header, *rows, f"| **worst** | {bottom} |"] if rows else []


def _ratio(case: Case) -> str:
    return f"{case.ratio:.2f}x" if case.losync else "skipped"


def _wall(case: Case, runs: list) -> str:
    return f"{case.median(runs, 'wall'):.2f}" if runs else "-"


def _or(value: object) -> str:
    return "?" if value is None else str(value)


def _most(values) -> str:
    known = [v for v in values if v is not None]
    return str(max(known)) if known else "?"


def _seen(run) -> str:
    return _or(run.sim_counters.get("max_in_flight"))


def _shown(path: Path) -> Path:
    """`path` from the repository root when it is inside it (the default --out)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


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
