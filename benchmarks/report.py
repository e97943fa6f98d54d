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

from cases import Case
from measure import POLL_SECONDS, ROOT
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
        "| case | run | wall s | CPU s | simulator CPU s | waiting s | sim cache misses "
        "| peak MB | floor wall s | floor CPU s | floor MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in done.cases.values():
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
